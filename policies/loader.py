"""Read a governance policy file into a ``GovernancePolicy``, or fail with every problem named.

Whatever the file holds, the outcome is a policy or a ``PolicyError`` naming the file, the field,
the line and the fix: never a traceback and never a partly read policy. The bytes become plain data
in ``policies.policy_yaml`` (bounded, no anchors or tags); this module validates that data against
the model and words pydantic's errors as the author sees the file.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from policies.descriptions import field_description
from policies.errors import Loc, PolicyError, PolicyIssue
from policies.model import EMAIL, ENDPOINT_NAME, INSTANCE_TYPE, S3_URI, SLUG, GovernancePolicy
from policies.model.accounts import ACCOUNT_ID, ORGANIZATION_ID, OU_ID, ROLE_NAME
from policies.policy_yaml import checked_text, decode, plain_data, too_large
from policies.terms import MAX_POLICY_BYTES, SCHEDULE_EXPRESSION
from policies.validated import policy_path

_PATTERN_HELP = {
    SLUG: "lowercase letters and digits, words joined by single hyphens (e.g. 'credit-risk')",
    ENDPOINT_NAME: "letters, digits and hyphens, starting and ending with a letter or digit, at most 63 characters",
    INSTANCE_TYPE: "a SageMaker instance type such as 'ml.m5.xlarge'",
    S3_URI: "an S3 URI such as 's3://bucket/prefix/'",
    EMAIL: "an email address such as 'ml-alerts@example.com'",
    ACCOUNT_ID: "an AWS account id: 12 digits 0-9, in quotes (e.g. '123456789012')",
    ORGANIZATION_ID: "an AWS Organizations id such as 'o-a1b2c3d4e5'",
    OU_ID: "an organizational unit id such as 'ou-a1b2-c3d4e5f6'",
    SCHEDULE_EXPRESSION: "an EventBridge schedule expression such as 'rate(1 hour)' or 'cron(0 6 * * ? *)'",
    ROLE_NAME: "an IAM role name: 1 to 64 of the letters A-Z and a-z, the digits 0-9 and _+=,.@-",
}


def load_policy(path: str | os.PathLike[str] | None = None) -> GovernancePolicy:
    source = Path(path) if path is not None else policy_path()
    try:
        with source.open("rb") as stream:
            data = stream.read(MAX_POLICY_BYTES + 1)  # never more: a huge file is refused unread
            size = os.fstat(stream.fileno()).st_size
    except OSError as exc:
        raise PolicyError([PolicyIssue((), f"cannot read the policy file: {exc.strerror or exc}")], str(source)) from exc
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError([too_large(max(size, len(data)))], str(source))
    return parse_policy(decode(data, str(source)), str(source))


def parse_policy(text: str, source: str = "<policy>") -> GovernancePolicy:
    checked_text(text, source)
    lines: dict[Loc, int] = {}
    data = plain_data(text, source, lines)
    try:
        return GovernancePolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_issue(err, lines) for err in exc.errors()]).with_source(source, lines) from None
    except PolicyError as exc:
        raise exc.with_source(source, lines) from None


# ---- pydantic errors to the author's words -------------------------------------------------------
def _issue(err: Any, lines: dict[Loc, int]) -> PolicyIssue:
    loc: Loc = tuple(err["loc"])
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    field, expected = _field_at(loc)
    if kind == "invalid_key" or (loc and loc[-1] == "[key]" and loc not in lines):  # not a key the author named "[key]"
        # A key that is not text (YAML reads 1, yes, null as numbers, booleans, nothing): point at the mapping.
        key_loc = loc[:-1] if loc[-1] == "[key]" else loc
        line = lines.get(key_loc)
        where = key_loc[:-1]
        allowed = _fields_at(where)
        fix = f"; allowed here: {', '.join(allowed)}" if allowed and kind == "invalid_key" else ""
        why = "an empty key or ~ reads as null; write a name" if value is None else _is_text(value)
        return PolicyIssue(where, f"the key {_shown(value)} is not text: {why}{fix}", line)
    message = _RENDER.get(kind, _fallback)(_shown(value), value, ctx, expected, str(err["msg"]))
    if kind == "value_error":
        return PolicyIssue(loc, message)
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        message = f"unknown field {loc[-1]!r}" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        message += f"; did you mean {close[0]!r}?" if close else ""
        return PolicyIssue(loc, message)
    return PolicyIssue(loc, message + _meaning(field))


def _shown(value: Any) -> str:
    """``value`` the way the author wrote it in YAML, shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else f"{value[:40]!r}… ({len(value)} characters)"
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else type(value).__name__


def _size(ctx: dict[str, Any], unit: str) -> tuple[str, str]:
    low, high = ctx.get("min_length"), ctx.get("max_length")
    return (f"at least {low} {unit}{'s' if low != 1 else ''}", f"at most {high} {unit}{'s' if high != 1 else ''}")


def _is_text(value: Any) -> str:
    if isinstance(value, bool):
        return "YAML reads unquoted yes, no, on, off, true and false as booleans; put the value in quotes"
    if isinstance(value, int | float):
        return "it is a number; put it in quotes if you mean it as text"
    if value is None:
        return "the value is empty; give text"
    return "give a single text value"


def _is_number(shown: str, value: Any, whole: bool) -> str:
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool):
        return f"{shown} is not a number: must be {kind}"
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return f"{shown} is not a number: must be {kind}"
        return f"{shown} is text, not a number: write {number:g} without quotes"
    return f"{shown} is not allowed: must be {kind}"


def _count(shown: str, value: Any, ctx: dict[str, Any], bound: str) -> str:
    noun = "list" if isinstance(value, list) else "mapping" if isinstance(value, dict) else "value"
    n = ctx.get("actual_length", 0)
    have = f"the {noun} is empty" if n == 0 else f"the {noun} has {n} entr{'y' if n == 1 else 'ies'}"
    limit = ctx.get(bound)
    return f"{have}: must have {'at least' if bound == 'min_length' else 'at most'} {limit} entr{'y' if limit == 1 else 'ies'}"


_Render = Any
_RENDER: dict[str, _Render] = {
    "greater_than_equal": lambda s, v, c, e, m: f"{s} is not allowed: must be ≥ {c.get('ge')}",
    "greater_than": lambda s, v, c, e, m: f"{s} is not allowed: must be > {c.get('gt')}",
    "less_than_equal": lambda s, v, c, e, m: f"{s} is not allowed: must be ≤ {c.get('le')}",
    "less_than": lambda s, v, c, e, m: f"{s} is not allowed: must be < {c.get('lt')}",
    "too_short": lambda s, v, c, e, m: _count(s, v, c, "min_length"),
    "too_long": lambda s, v, c, e, m: _count(s, v, c, "max_length"),
    "string_too_short": lambda s, v, c, e, m: (
        f"{'the value is empty' if v == '' else f'{s} is too short'}: must be {_size(c, 'character')[0]}"
    ),
    "string_too_long": lambda s, v, c, e, m: f"{s} is {len(v)} characters: must be {_size(c, 'character')[1]}",
    "string_pattern_mismatch": lambda s, v, c, e, m: (
        f"{s} must be {_PATTERN_HELP[c['pattern']]}"
        if c.get("pattern") in _PATTERN_HELP
        else f"{s} must match {c.get('pattern')}"
    ),
    "literal_error": lambda s, v, c, e, m: f"{s} is not allowed: must be {c.get('expected')}",
    "enum": lambda s, v, c, e, m: f"{s} is not allowed: must be {c.get('expected')}{_enum_hint(v, e)}",
    "bool_type": lambda s, v, c, e, m: (
        f"{s} is text: write true or false without quotes" if isinstance(v, str) else f"{s} is not allowed: must be true or false"
    ),
    "int_type": lambda s, v, c, e, m: _is_number(s, v, whole=True),
    "float_type": lambda s, v, c, e, m: _is_number(s, v, whole=False),
    "finite_number": lambda s, v, c, e, m: f"{s} is not allowed: must be a finite number",
    "string_type": lambda s, v, c, e, m: f"{s} is not text: {_is_text(v)}",
    "list_type": lambda s, v, c, e, m: (
        f"{s} is not a list: write [a, b] or one '- item' per line ([] for none)"
        if v is not None
        else "the value is empty: give a list ([] for none)"
    ),
    "dict_type": lambda s, v, c, e, m: f"{s} is not a mapping: write 'name: value' entries ({{}} for none)",
    "model_type": lambda s, v, c, e, m: f"{s} is not a section: write its fields as 'field: value' lines{_fields_hint(e)}",
    "model_attributes_type": lambda s, v, c, e, m: (
        f"{s} is not a section: write its fields as 'field: value' lines{_fields_hint(e)}"
    ),
    "missing": lambda s, v, c, e, m: "required field is missing",
    "value_error": lambda s, v, c, e, m: m.removeprefix("Value error, "),
}


def _fallback(shown: str, value: Any, ctx: dict[str, Any], expected: Any, msg: str) -> str:
    return f"{shown}: {msg[:1].lower()}{msg[1:]}"


def _enum_hint(value: Any, expected: Any) -> str:
    options = [str(m.value) for m in expected] if isinstance(expected, type) and issubclass(expected, Enum) else []
    if not isinstance(value, str):
        return ""
    close = [o for o in options if o.lower() == value.lower()] or difflib.get_close_matches(value, options, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fields_hint(expected: Any) -> str:
    if isinstance(expected, type) and issubclass(expected, BaseModel):
        return f" (fields: {', '.join(expected.model_fields)})"
    return ""


def _meaning(field: tuple[type[BaseModel], str] | None) -> str:
    """The first sentence of the field's docstring, as a parenthesis: what the field means."""
    description = field_description(*field) if field is not None else None
    if not description:
        return ""
    first = re.split(r"(?<=\.)\s", " ".join(description.split()), maxsplit=1)[0].rstrip(".")
    first = re.sub(r"\s*\([^()]*\)$", "", first)
    if first[:1].isupper() and not first[1:2].isupper():
        first = first[0].lower() + first[1:]
    return f" ({first})"


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _field_at(loc: Loc) -> tuple[tuple[type[BaseModel], str] | None, Any]:
    """The innermost model field ``loc`` points at or into (its model and name), and the type expected at ``loc`` (None
    if unknown)."""
    annotation: Any = GovernancePolicy
    field: tuple[type[BaseModel], str] | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            if part not in annotation.model_fields:
                return field, None
            field = (annotation, part)
            annotation = annotation.model_fields[part].annotation
        elif origin is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[0 if part == "[key]" else 1]
        elif origin is Literal:
            return field, None
        else:
            return field, None
    return field, _unwrap(annotation)


def _fields_at(loc: Loc) -> list[str]:
    """Field names of the model found by following ``loc`` from the top of the policy."""
    _, model = _field_at(loc)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
