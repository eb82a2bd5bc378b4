"""The envelope of the events the handlers accept and its reader: plain checks into frozen dataclasses (no pydantic
on a cold start). Each kind of event has its module (``approval_events``, ``call_events``): a handler loads the one
it reads.

Shapes follow AWS's documentation (SageMaker developer guide: "Events that SageMaker sends to
EventBridge"; CloudTrail user guide: "AWS API Call via CloudTrail"; EventBridge user guide: the
event envelope); see demo/samples/README.md. Each ``read`` returns the event or raises
``EventShapeError`` naming up to five problems as ``field: what is wrong``, and nothing a handler acts
on is taken from an event that was not read completely.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Self, TypeVar

from lambdas.shared.field_reader import Reader, writable_text

Detail = TypeVar("Detail")


@dataclass(frozen=True)
class EventBridgeEvent(Generic[Detail]):
    """The EventBridge envelope every handled event arrives in, and its detail. A kind of event is a plain subclass
    naming its detail (``class ...(EventBridgeEvent[...])``): one dataclass for every kind, built once per cold start."""

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str
    replay_name: str | None
    detail: Detail

    @classmethod
    def read_with(cls, event: Any, detail_type: str, read_detail: Callable[[dict[str, Any], Reader], Detail]) -> Self:
        """The event: its envelope, and its detail read by ``read_detail``; every problem of both, or the event."""
        reader = Reader()
        fields, detail = cls.envelope(event, reader, detail_type)
        read = read_detail(detail, reader)
        reader.done()
        return cls(**fields, detail=read)

    @staticmethod
    def envelope(event: Any, reader: Reader, detail_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The envelope's fields (by this class's names) and the detail, each problem noted in ``reader``."""
        data = reader.mapping(event, "")
        source = data.get("source")
        if isinstance(source, list) and len(source) == 1:
            source = source[0]  # AWS's documented model package sample carries "source" twice, the last as a list
        fields = {
            "version": reader.text(data, "version", ""),
            "id": reader.text(data, "id", ""),
            "source": reader.text({"source": source} if "source" in data else {}, "source", ""),
            "account": reader.text(data, "account", ""),
            "time": _time(data, reader),
            "region": reader.text(data, "region", ""),
            "resources": _resources(data, reader),
            "detail_type": reader.one_of(data, "detail-type", "", (detail_type,)),
            "replay_name": reader.text(data, "replay-name", "", required=False),
        }
        if "detail" not in data:
            reader.fail("detail", "Field required")
        return fields, reader.mapping(data.get("detail", {}), "detail")


def _time(data: dict[str, Any], reader: Reader) -> datetime | None:
    """ISO 8601 as EventBridge writes it, or a Unix time in seconds (milliseconds above 2e10), as a number or text."""
    if "time" not in data:
        reader.fail("time", "Field required")
        return None
    raw = data["time"]
    try:
        if isinstance(raw, str):
            try:
                return datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raw = float(raw) if raw.isascii() else None  # float() also reads other scripts' digits
        if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
            return datetime.fromtimestamp(raw / 1000 if abs(raw) > 2e10 else raw, UTC)
    except (ValueError, OverflowError, OSError):
        pass
    reader.fail("time", "Input should be a valid datetime")
    return None


def _resources(data: dict[str, Any], reader: Reader) -> list[str]:
    if "resources" not in data:
        reader.fail("resources", "Field required")
        return []
    value = data["resources"]
    if not isinstance(value, list):
        reader.fail("resources", "Input should be a valid list")
        return []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not writable_text(item):
            reader.fail(f"resources.{i}", "Input should be a valid string")
    return list(value)
