"""Plain checks of a JSON document's fields, noting every problem with its path (no pydantic on a cold start).

The event envelope (``event_models``) and the deployer's request (``lambdas/model_deployer/request.py``) are read
with it; the request is not an EventBridge event, so its handler does not build the envelope.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any


@cache
def _anchored(pattern: str) -> re.Pattern[str]:
    """``pattern`` with a final ``$`` that matches only at the very end (Python's ``$`` also passes a trailing newline)."""
    return re.compile(pattern.removesuffix("$") + r"\Z" if pattern.endswith("$") else pattern)


def writable_text(value: str) -> bool:
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
        elif not writable_text(value):
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
