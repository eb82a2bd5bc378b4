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
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Generic, Self, TypeVar


@cache
def _anchored(pattern: str) -> re.Pattern[str]:
    """``pattern`` with a final ``$`` that matches only at the very end (Python's ``$`` also passes a trailing newline)."""
    return re.compile(pattern.removesuffix("$") + r"\Z" if pattern.endswith("$") else pattern)


def _unicode(value: str) -> bool:
    """Whether ``value`` is text that can be written (UTF-8): a lone surrogate cannot be recorded or hashed."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class EventShapeError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]))
        self.problems = problems


class Reader:
    """Collects every problem of one event, each with the path of the field it is about."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def fail_at(self, where: str, key: str, what: str) -> None:
        self.fail(f"{where}.{key}".lstrip("."), what)

    def mapping(self, data: Any, where: str) -> dict[str, Any]:
        if isinstance(data, dict):
            return data
        self.fail(where or "event", "Input should be a valid dictionary")
        return {}

    def text(
        self,
        data: dict[str, Any],
        key: str,
        where: str,
        *,
        required: bool = True,
        non_empty: bool = False,
        pattern: str | None = None,
        max_length: int | None = None,
    ) -> Any:
        if key not in data:
            if required:
                self.fail_at(where, key, "Field required")
            return None
        value = data[key]
        if value is None and not required:
            return None
        if not isinstance(value, str):
            self.fail_at(where, key, "Input should be a valid string")
        elif not _unicode(value):
            self.fail_at(where, key, "Input should be a valid string: it is not valid Unicode (a lone surrogate)")
        elif pattern is not None and not _anchored(pattern).search(value):
            self.fail_at(where, key, f"String should match pattern '{pattern}'")
        elif non_empty and not value:
            self.fail_at(where, key, "String should have at least 1 character")
        elif max_length is not None and len(value) > max_length:
            self.fail_at(where, key, f"String should have at most {max_length} characters")
        return value

    def integer(self, data: dict[str, Any], key: str, where: str, *, minimum: int, maximum: int) -> Any:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail_at(where, key, "Input should be a valid integer")
        elif value < minimum:
            self.fail_at(where, key, f"Input should be greater than or equal to {minimum}")
        elif value > maximum:
            self.fail_at(where, key, f"Input should be less than or equal to {maximum}")
        return value

    def one_of(self, data: dict[str, Any], key: str, where: str, allowed: tuple[str, ...]) -> Any:
        if key not in data:
            self.fail_at(where, key, "Field required")
        elif data[key] not in allowed:
            quoted = [f"'{a}'" for a in allowed]
            self.fail_at(
                where, key, "Input should be " + (f"{', '.join(quoted[:-1])} or {quoted[-1]}" if len(quoted) > 1 else quoted[0])
            )
        return data.get(key)

    def optional_mapping(self, data: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            self.fail_at(where, key, "Input should be a valid dictionary")
            return None
        return value

    def done(self) -> None:
        if self.problems:
            raise EventShapeError(self.problems)


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
        if not isinstance(item, str) or not _unicode(item):
            reader.fail(f"resources.{i}", "Input should be a valid string")
    return list(value)
