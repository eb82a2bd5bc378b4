"""Read a governance policy file into a ``GovernancePolicy``, or fail with every problem named.

Whatever the file holds, the outcome is a policy or a ``PolicyError`` naming the file, the field,
the line and the fix: never a traceback and never a partly read policy. The file is checked before
it is parsed (size, encoding, binary content); the YAML is read without anchors, aliases, merge
keys or tags beyond plain values, and with bounded nesting, so a hostile file costs little time
and memory.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from policies.errors import Loc, PolicyError, PolicyIssue
from policies.model import EMAIL, ENDPOINT_NAME, INSTANCE_TYPE, S3_URI, SLUG, GovernancePolicy

DEFAULT_POLICY_PATH = Path(__file__).with_name("governance.yaml")
POLICY_PATH_ENV = "GOVERNANCE_POLICY"
MAX_POLICY_BYTES = 1024 * 1024  # the shipped policy is about 4 KiB
MAX_NESTING = 32  # the policy itself nests 5 levels deep
MAX_VALUES = 10_000  # the shipped policy holds about 150 values; bounds parse time and memory within MAX_POLICY_BYTES
MAX_INT_DIGITS = 30  # far beyond any count in a policy, far below Python's int parsing limit

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_TAG}{kind}" for kind in ("str", "int", "float", "bool", "null", "seq", "map")}
_PATTERN_HELP = {
    SLUG: "lowercase letters and digits, words joined by single hyphens (e.g. 'credit-risk')",
    ENDPOINT_NAME: "letters, digits and hyphens, starting and ending with a letter or digit, at most 63 characters",
    INSTANCE_TYPE: "a SageMaker instance type such as 'ml.m5.xlarge'",
    S3_URI: "an S3 URI such as 's3://bucket/prefix/'",
    EMAIL: "an email address such as 'ml-alerts@example.com'",
}


def policy_path() -> Path:
    """The policy file in use: ``$GOVERNANCE_POLICY`` if set, else ``policies/governance.yaml``."""
    return Path(os.environ.get(POLICY_PATH_ENV) or DEFAULT_POLICY_PATH)


def load_policy(path: str | os.PathLike[str] | None = None) -> GovernancePolicy:
    source = Path(path) if path is not None else policy_path()
    try:
        with source.open("rb") as stream:
            data = stream.read(MAX_POLICY_BYTES + 1)  # never more: a huge file is refused unread
            size = os.fstat(stream.fileno()).st_size
    except OSError as exc:
        raise PolicyError([PolicyIssue((), f"cannot read the policy file: {exc.strerror or exc}")], str(source)) from exc
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError([_too_large(max(size, len(data)))], str(source))
    return parse_policy(_decode(data, str(source)), str(source))


def parse_policy(text: str, source: str = "<policy>") -> GovernancePolicy:
    size = len(text) if len(text) > MAX_POLICY_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_POLICY_BYTES:
        raise PolicyError([_too_large(size)], source)
    if "\0" in text:
        raise PolicyError([_binary(text[: text.index("\0")].count("\n") + 1)], source)
    lines: dict[Loc, int] = {}
    data = _plain_data(text, source, lines)
    try:
        return GovernancePolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_issue(err, lines) for err in exc.errors()]).with_source(source, lines) from None
    except PolicyError as exc:
        raise exc.with_source(source, lines) from None


def _plain_data(text: str, source: str, lines: dict[Loc, int]) -> dict[Any, Any]:
    """The YAML document as plain Python data, filling ``lines`` with the line of every field."""
    loader: _PolicyYamlLoader | None = None
    try:
        loader = _PolicyYamlLoader(text)  # the reader checks every character here
        root = loader.get_single_node()
        if root is None:
            raise _Refused((), "the file is empty; start from policies/governance.yaml", None)
        if not isinstance(root, yaml.MappingNode):
            kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
            raise _Refused(
                (), f"the policy must be a mapping of sections (organization, regions, ...); this file holds {kind}", _line(root)
            )
        builder = _Builder(loader, lines)
        data: dict[Any, Any] = builder.build(root, ())
    except _Refused as exc:
        raise PolicyError([exc.issue], source) from None
    except yaml.YAMLError as exc:
        raise PolicyError([_yaml_issue(exc, text)], source) from None
    except RecursionError:  # not reached with MAX_NESTING; kept so that no input can escape as a traceback
        raise PolicyError(
            [PolicyIssue((), f"the YAML nests too deeply (a policy needs at most {MAX_NESTING} levels)")], source
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if builder.issues:
        raise PolicyError(builder.issues, source)
    return data


# ---- bytes to text -------------------------------------------------------------------------------
def _too_large(size: int) -> PolicyIssue:
    shown = f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"
    return PolicyIssue(
        (), f"the file is {shown}; a policy file may be at most {MAX_POLICY_BYTES // 1024 // 1024} MiB (is this the policy file?)"
    )


def _binary(line: int) -> PolicyIssue:
    return PolicyIssue((), "the file holds a NUL byte, so it is binary or UTF-16/32 text; save the policy as UTF-8 text", line)


def _decode(data: bytes, source: str) -> str:
    if b"\0" in data:
        raise PolicyError([_binary(data[: data.index(b"\0")].count(b"\n") + 1)], source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = (
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} cannot be decoded; save it as UTF-8"
        )
        raise PolicyError([PolicyIssue((), message, line)], source) from None


# ---- text to plain data --------------------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, loc: Loc, message: str, line: int | None) -> None:
        super().__init__(message)
        self.issue = PolicyIssue(loc, message, line)


def _line(node: yaml.Node | yaml.Event) -> int:
    mark = node.start_mark
    return 1 if mark is None else int(mark.line) + 1  # composed nodes and events always carry a mark


_NO_TIMESTAMPS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != f"{_TAG}timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _PolicyYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases and deep nesting while composing; no dates (a policy has none)."""

    yaml_implicit_resolvers = _NO_TIMESTAMPS

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int] = []
        self._depth = 0
        self._values = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        part: Loc = () if index is None else (index,) if isinstance(index, int) else (str(getattr(index, "value", "?")),)
        where = tuple(self._path) + part
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            what = f"alias (*{event.anchor})" if isinstance(event, yaml.AliasEvent) else f"anchor (&{event.anchor})"
            raise _Refused(
                where,
                f"uses a YAML {what}; a policy has no need for anchors or aliases and they are refused "
                "(they can expand a small file into a huge one): write the values out",
                _line(event),
            )
        self._values += 1
        if self._values > MAX_VALUES:
            raise _Refused(
                where,
                f"the file holds more than {MAX_VALUES:,} values; a policy holds a few hundred (is this the policy file?)",
                _line(event),
            )
        if self._depth >= MAX_NESTING:
            raise _Refused(where, f"the YAML nests more than {MAX_NESTING} levels deep; a policy nests at most 5", _line(event))
        self._depth += 1
        self._path.extend(part)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            del self._path[len(self._path) - len(part) :]


# YAML 1.1 reads 1e-3 as text (it wants 1.0e-3); a policy author, and YAML 1.2, mean a number.
_PolicyYamlLoader.add_implicit_resolver(
    f"{_TAG}float", re.compile(r"^[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


class _Builder:
    """Plain Python data from the node tree, with the line of every field and the problems found on the way."""

    def __init__(self, loader: yaml.SafeLoader, lines: dict[Loc, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.issues: list[PolicyIssue] = []

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, _line(node))
        if node.tag not in _PLAIN_TAGS and node.tag != f"{_TAG}value":
            tag = node.tag.replace(_TAG, "!!")
            self.issues.append(
                PolicyIssue(
                    loc,
                    f"the YAML tag {tag} is not allowed: a policy holds plain text, numbers, true/false, lists and mappings",
                    _line(node),
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, loc + (i,)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, loc)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                self.issues.append(
                    PolicyIssue(loc, "merge keys (<<) are not allowed in a policy: write the fields out", _line(key_node))
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(PolicyIssue(loc, "a key must be a plain name, not a list or mapping", _line(key_node)))
                continue
            key = self._scalar(key_node, loc)
            part: str | int = key if isinstance(key, str | int) else str(key_node.value)  # as pydantic reports it
            if key in out:
                self.issues.append(
                    PolicyIssue(
                        loc + (part,),
                        "key appears twice in the same mapping; YAML would silently keep only the last one",
                        _line(key_node),
                    )
                )
            out[key] = self.build(value_node, loc + (part,))
            self.lines[loc + (part,)] = _line(key_node)
        return out

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        if node.tag == f"{_TAG}value":  # a lone '=' (YAML 1.1 "value" key): plain text in a policy
            return str(node.value)
        digits = len(re.sub(r"[^0-9a-fA-F]", "", str(node.value)))
        if node.tag == f"{_TAG}int" and digits > MAX_INT_DIGITS:
            self.issues.append(PolicyIssue(loc, f"a number with {digits} digits is not one a policy can use", _line(node)))
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:  # e.g. !!int abc
            self.issues.append(
                PolicyIssue(loc, f"{node.value!r} cannot be read as {node.tag.replace(_TAG, '')}: {exc}", _line(node))
            )
            return None


_OPENED = {  # what PyYAML's context names, as the author sees it, and the fix
    "flow sequence": ("the '[' on this line is not closed", "close it with ']' (or add the missing ',')"),
    "flow mapping": ("the '{' on this line is not closed", "close it with '}' (or add the missing ',')"),
    "quoted scalar": ("the quote that starts on this line is not closed", "close it with the same quote character"),
    "simple key": ("this key is not followed by ':'", "add ': ' after it, or quote the text"),
}
_PROBLEM_HINTS = {
    "mapping values are not allowed here": "check the indentation of this line, or quote a value that contains ': '",
    "cannot start any token": "YAML indents with spaces, not tabs; quote values starting with @ or `",
}


def _yaml_issue(exc: yaml.YAMLError, text: str) -> PolicyIssue:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return PolicyIssue((), f"not valid YAML: character {chr(exc.character)!r} is not allowed ({exc.reason}); remove it", line)
    if not isinstance(exc, yaml.MarkedYAMLError):
        return PolicyIssue((), f"not valid YAML: {exc}")
    context, problem = exc.context or "", exc.problem or str(exc)
    cline = exc.context_mark.line + 1 if exc.context_mark is not None else None
    pline = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
    if "single document" in context:
        return PolicyIssue(
            (),
            "the file holds several YAML documents (separated by '---'); a policy is one document: remove the '---' line",
            pline,
        )
    opened = next((words for key, words in _OPENED.items() if key in context), None)
    if cline is not None and "block" not in context:
        # Where something was left open ('[', '{', a quote, a key) is where the author must look;
        # PyYAML notices only where the next token does not fit, often lines later.
        at = f" at line {pline}" if pline is not None and pline != cline else ""
        if opened is not None:
            return PolicyIssue((), f"not valid YAML: {opened[0]} (PyYAML: {problem}{at}); {opened[1]}", cline)
        return PolicyIssue((), f"not valid YAML: {context} that starts on this line: {problem}{at}", cline)
    hint = next((f"; {h}" for key, h in _PROBLEM_HINTS.items() if key in problem), "")
    started = f" ({context} that starts at line {cline})" if cline is not None and cline != pline else ""
    return PolicyIssue((), f"not valid YAML: {problem}{started}{hint}", pline)


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


def _meaning(field: FieldInfo | None) -> str:
    """The first sentence of the field's docstring, as a parenthesis: what the field means."""
    if field is None or not field.description:
        return ""
    first = re.split(r"(?<=\.)\s", " ".join(field.description.split()), maxsplit=1)[0].rstrip(".")
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


def _field_at(loc: Loc) -> tuple[FieldInfo | None, Any]:
    """The innermost model field ``loc`` points at or into, and the type expected at ``loc`` (None if unknown)."""
    annotation: Any = GovernancePolicy
    field: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            if part not in annotation.model_fields:
                return field, None
            field = annotation.model_fields[part]
            annotation = field.annotation
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
