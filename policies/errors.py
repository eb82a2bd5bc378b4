"""The one error type for a governance policy that cannot be used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]
MAX_RENDERED_ISSUES = 50  # a file with thousands of bad entries still gives a readable message


def format_loc(loc: Loc) -> str:
    """Render a field path the way a YAML author reads it: ``projects[1].classification``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


@dataclass(frozen=True)
class PolicyIssue:
    loc: Loc
    message: str
    line: int | None = None

    def render(self) -> str:
        where = format_loc(self.loc)
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


class PolicyError(Exception):
    """A governance policy file failed validation.

    ``str()`` names the file, every offending field path (with its line when known)
    and what is allowed there.
    """

    def __init__(self, issues: Sequence[PolicyIssue], source: str | None = None) -> None:
        self.issues = tuple(issues)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"invalid governance policy {self.source}" if self.source else "invalid governance policy"
        plural = "s" if len(self.issues) != 1 else ""
        lines = [f"{head}: {len(self.issues)} problem{plural}"]
        lines += [f"  - {issue.render()}" for issue in self.issues[:MAX_RENDERED_ISSUES]]
        if len(self.issues) > MAX_RENDERED_ISSUES:
            lines.append(f"  ... and {len(self.issues) - MAX_RENDERED_ISSUES} more (fix these first)")
        return "\n".join(lines)

    def with_source(self, source: str, lines: dict[Loc, int] | None = None) -> PolicyError:
        lines = lines or {}
        issues = [
            PolicyIssue(i.loc, i.message, i.line if i.line is not None else _nearest_line(i.loc, lines)) for i in self.issues
        ]
        return PolicyError(issues, source)


def _nearest_line(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
