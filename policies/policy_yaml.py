"""The policy file's bytes to plain Python data, refusing what a hostile or careless file could do.

The file is checked before it is parsed (size, encoding, binary content); the YAML is read without
anchors, aliases, merge keys or tags beyond plain values, and with bounded nesting and a bounded
number of values, so any file costs little time and memory. Every refusal is a ``PolicyError``
naming the line and the fix; the line of every field is kept for the model's errors
(``policies.loader``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from policies.errors import Loc, PolicyError, PolicyIssue
from policies.terms import MAX_POLICY_BYTES

MAX_NESTING = 32  # the policy itself nests 5 levels deep
# A project with one monitored endpoint holds 28 to 56 values (keys included, by how many of its settings it writes
# out): 10,000 refused policies of 180 to 350 projects. At 100,000, MAX_POLICY_BYTES binds first (about 1,700
# projects with every setting written out); the count still bounds parse time (about 1 s here) and memory.
MAX_VALUES = 100_000
MAX_INT_DIGITS = 30  # far beyond any count in a policy, far below Python's int parsing limit

_TAG = "tag:yaml.org,2002:"
_Node = TypeVar("_Node", bound=yaml.Node)
_PLAIN_TAGS = {f"{_TAG}{kind}" for kind in ("str", "int", "float", "bool", "null", "seq", "map")}


def checked_text(text: str, source: str) -> None:
    """Refuse text too large for a policy, or holding a NUL byte (binary or UTF-16/32)."""
    size = len(text) if len(text) > MAX_POLICY_BYTES else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_POLICY_BYTES:
        raise PolicyError([too_large(size)], source)
    if "\0" in text:
        raise PolicyError([_binary(text[: text.index("\0")].count("\n") + 1)], source)


def plain_data(text: str, source: str, lines: dict[Loc, int]) -> dict[Any, Any]:
    """The YAML document as plain Python data, filling ``lines`` with the line of every field.

    libyaml (in PyYAML's wheels) parses a document about six times faster than PyYAML's own parser; both feed the
    same composer (``_Composing``: no anchors, bounded nesting and values) and builder. libyaml decides only a
    document it reads without any problem: anything else is read again by PyYAML's parser, whose refusals the
    messages here are written against (tests/policies/test_policy_yaml.py: both read every document alike). A
    document of plain mappings, lists and values (every policy that can be used) is read first straight from
    libyaml's events (``_read_events``: no node tree, a tenth of the time for a policy of 1,000 projects).
    """
    if _FastPolicyYamlLoader is not None and _libyaml_reads_alike(text):
        for read in (_read_events, lambda text, found: read_with(_FastPolicyYamlLoader, text, source, found)):
            found: dict[Loc, int] = {}
            with suppress(Exception):  # whatever libyaml refuses or trips on, PyYAML's parser reads again and words
                data = read(text, found)
                lines.update(found)
                return data
    return read_with(_PolicyYamlLoader, text, source, lines)


# Where libyaml and PyYAML's parser part ways (found by fuzzing both, tests/policies/test_policy_yaml.py): tabs,
# line breaks other than "\n" and a byte order mark after the start (line numbers, breaks in values), tags ("!"),
# and block scalar headers ("|", ">" followed by a comment). A policy needs none of them; a text holding one is read
# by PyYAML's parser alone.
_PYYAML_ONLY = re.compile("[\t\r\x85\u2028\u2029\ufeff!|>]")


class _NotAlike(Exception):
    """libyaml reads this text otherwise than PyYAML's parser: it is read again by the latter."""


def _libyaml_reads_alike(text: str) -> bool:
    """Whether ``text`` is made only of the YAML both parsers read alike (what ``_PYYAML_ONLY`` leaves)."""
    return _PYYAML_ONLY.search(text) is None


def read_with(loader_class: type[_Composing], text: str, source: str, lines: dict[Loc, int]) -> dict[Any, Any]:
    """``plain_data`` with one parser: ``_PolicyYamlLoader`` (PyYAML's) or ``_FastPolicyYamlLoader`` (libyaml's)."""
    loader: _Composing | None = None
    try:
        loader = loader_class(text)  # the reader checks every character here
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
    except (ValueError, OverflowError) as exc:  # PyYAML's scanner passes an escape beyond Unicode to chr(): ValueError,
        # or OverflowError from \U80000000 on
        raise PolicyError([_escape_issue(exc, text)], source) from None
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


def _escape_issue(exc: ValueError | OverflowError, text: str) -> PolicyIssue:
    beyond = next((m for m in re.finditer(r"\\U([0-9A-Fa-f]{8})", text) if int(m.group(1), 16) > 0x10FFFF), None)
    if beyond is None:
        return PolicyIssue((), f"not valid YAML: {exc}")
    return PolicyIssue(
        (),
        f"not valid YAML: the escape \\U{beyond.group(1)} names no character (the last is \\U0010FFFF); "
        "write the character itself or a valid escape",
        text[: beyond.start()].count("\n") + 1,
    )


# ---- bytes to text -------------------------------------------------------------------------------
def too_large(size: int) -> PolicyIssue:
    shown = f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"
    return PolicyIssue(
        (), f"the file is {shown}; a policy file may be at most {MAX_POLICY_BYTES // 1024 // 1024} MiB (is this the policy file?)"
    )


def _binary(line: int) -> PolicyIssue:
    return PolicyIssue((), "the file holds a NUL byte, so it is binary or UTF-16/32 text; save the policy as UTF-8 text", line)


def decode(data: bytes, source: str) -> str:
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


class _Composing(Composer, SafeConstructor, Resolver):
    """The composer of a policy: refuses anchors and aliases and deep nesting; no dates (a policy has none).

    Composes from the events of whichever parser comes after it in a subclass's bases.
    """

    yaml_implicit_resolvers = _NO_TIMESTAMPS

    def __init__(self, stream: str) -> None:  # after the parser's own __init__
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._path: list[str | int] = []
        self._depth = 0
        self._values = 0

    if TYPE_CHECKING:  # what every parser provides

        def peek_event(self) -> Any: ...

        def get_event(self) -> Any: ...

        def check_event(self, *choices: Any) -> Any: ...

        def dispose(self) -> None: ...

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        part: Loc = () if index is None else (index,) if isinstance(index, int) else (str(getattr(index, "value", "?")),)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None or self._values >= MAX_VALUES:
            self._refuse(event, tuple(self._path) + part)
        self._values += 1
        if self._depth >= MAX_NESTING:
            self._refuse(event, tuple(self._path) + part, too_deep=True)
        self._depth += 1
        self._path.extend(part)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            del self._path[len(self._path) - len(part) :]

    def _refuse(self, event: Any, where: Loc, *, too_deep: bool = False) -> NoReturn:
        """Why the node at ``where`` (its first event: ``event``) is refused: an anchor or alias, one value too
        many, or (``too_deep``) one level of nesting too many."""
        if too_deep:
            raise _Refused(where, f"the YAML nests more than {MAX_NESTING} levels deep; a policy nests at most 5", _line(event))
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            what = f"alias (*{event.anchor})" if isinstance(event, yaml.AliasEvent) else f"anchor (&{event.anchor})"
            raise _Refused(
                where,
                f"uses a YAML {what}; a policy has no need for anchors or aliases and they are refused "
                "(they can expand a small file into a huge one): write the values out",
                _line(event),
            )
        raise _Refused(
            where,
            f"the file holds more than {MAX_VALUES:,} values; a project holds at most about 60 (is this the policy file?)",
            _line(event),
        )


# YAML 1.1 reads 1e-3 as text (it wants 1.0e-3); a policy author, and YAML 1.2, mean a number.
_Composing.add_implicit_resolver(
    f"{_TAG}float", re.compile(r"^[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


class _PolicyYamlLoader(_Composing, Reader, Scanner, Parser):
    """PyYAML's own parser: the reference, and the words of every refusal."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        super().__init__(stream)


_FastPolicyYamlLoader: type[_Composing] | None = None  # None: a PyYAML built without libyaml, PyYAML's parser alone
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _LibyamlPolicyLoader(_Composing, CParser):
        """libyaml's parser (events only: the composer above builds the nodes)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            super().__init__(stream)
            self._flow_depth = 0

        def compose_scalar_node(self, anchor: Any) -> yaml.ScalarNode:
            event = self.peek_event()
            if self._flow_depth and not event.style and (not event.value or "?" in event.value):  # plain: style ""
                # Inside [...] or {...}, PyYAML's parser ends a plain value at "?" (YAML 1.1) where libyaml reads on,
                # and refuses some empty entries ("[?, :]") that libyaml reads as empty values or drops.
                raise _NotAlike("a plain value holding '?', or an empty one, inside a flow collection")
            return super().compose_scalar_node(anchor)

        def compose_sequence_node(self, anchor: Any) -> yaml.SequenceNode:
            return self._nested(super().compose_sequence_node, anchor)

        def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
            return self._nested(super().compose_mapping_node, anchor)

        def _nested(self, compose: Callable[[Any], _Node], anchor: Any) -> _Node:
            flow = bool(self.peek_event().flow_style)
            self._flow_depth += flow
            try:
                return compose(anchor)
            finally:
                self._flow_depth -= flow

    _FastPolicyYamlLoader = _LibyamlPolicyLoader


_STR, _INT, _VALUE, _MERGE = (f"{_TAG}{kind}" for kind in ("str", "int", "value", "merge"))
_NOT_A_DIGIT = re.compile(r"[^0-9a-fA-F]")


class _Builder:
    """Plain Python data from the node tree, with the line of every field and the problems found on the way."""

    def __init__(self, loader: _Composing, lines: dict[Loc, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.issues: list[PolicyIssue] = []

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, _line(node))
        if node.tag not in _PLAIN_TAGS and node.tag != _VALUE:
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
            if key_node.tag == _MERGE:
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
        if node.tag == _STR:  # most of a policy: the text as the parser read it (what SafeConstructor returns)
            return node.value
        if node.tag == _VALUE:  # a lone '=' (YAML 1.1 "value" key): plain text in a policy
            return str(node.value)
        if node.tag == _INT and (digits := len(_NOT_A_DIGIT.sub("", str(node.value)))) > MAX_INT_DIGITS:
            self.issues.append(PolicyIssue(loc, f"a number with {digits} digits is not one a policy can use", _line(node)))
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, LookupError) as exc:  # !!int abc; !!int or !!bool with no value, !!bool maybe
            kind = node.tag.replace(_TAG, "")
            why = "" if isinstance(exc, LookupError) else f": {exc}"
            self.issues.append(PolicyIssue(loc, f"{node.value!r} cannot be read as {kind}{why}", _line(node)))
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


def _read_events(text: str, lines: dict[Loc, int]) -> dict[Any, Any]:
    """``text`` read straight from libyaml's events into plain data and lines, as the composer and builder read it,
    for a document that needs none of their refusals: one mapping of plain or quoted values, mappings and lists, keys
    that are values and appear once, no anchor, alias, tag, merge key or lone '=', within the limits. Anything else
    is declined (``_NotAlike``) for the composer to read and word."""
    assert _FastPolicyYamlLoader is not None
    loader = _FastPolicyYamlLoader(text)
    try:
        return _EventReader(loader, lines).document()
    finally:
        loader.dispose()


class _EventReader:
    """``_Composing.compose_node`` and ``_Builder`` in one pass over the events (``_read_events``)."""

    def __init__(self, loader: _Composing, lines: dict[Loc, int]) -> None:
        self.loader, self.lines = loader, lines
        self.values = self.depth = self.flow_depth = 0
        self.read: dict[tuple[str, Any], Any] = {}  # (text, implicit) -> value: keys and values repeat

    def document(self) -> dict[Any, Any]:
        loader = self.loader
        loader.get_event()  # the stream's start
        if not loader.check_event(yaml.DocumentStartEvent):
            raise _NotAlike("no document")
        loader.get_event()
        if not loader.check_event(yaml.MappingStartEvent):
            raise _NotAlike("not a mapping")
        data = self.node(())
        loader.get_event()  # the document's end
        if not loader.check_event(yaml.StreamEndEvent):
            raise _NotAlike("more than one document")
        return data  # type: ignore[no-any-return]

    def node(self, loc: Loc) -> Any:
        event = self.entered()
        self.lines.setdefault(loc, _line(event))
        try:
            if isinstance(event, yaml.ScalarEvent):
                return self.scalar(event)
            flow = bool(event.flow_style)
            self.flow_depth += flow
            try:
                return self.mapping(loc) if isinstance(event, yaml.MappingStartEvent) else self.sequence(loc)
            finally:
                self.flow_depth -= flow
        finally:
            self.depth -= 1

    def entered(self) -> Any:
        """The next node's first event, counted as the composer counts it (values, nesting)."""
        event = self.loader.get_event()
        if not isinstance(event, yaml.ScalarEvent | yaml.MappingStartEvent | yaml.SequenceStartEvent):
            raise _NotAlike("an alias")
        if event.anchor is not None or event.tag is not None:
            raise _NotAlike("an anchor or a tag")
        self.values += 1
        if self.values > MAX_VALUES or self.depth >= MAX_NESTING:
            raise _NotAlike("beyond the limits")
        self.depth += 1
        return event

    def scalar(self, event: Any) -> Any:
        if self.flow_depth and not event.style and (not event.value or "?" in event.value):  # as compose_scalar_node
            raise _NotAlike("a plain value holding '?', or an empty one, inside a flow collection")
        known = (event.value, event.implicit)
        if known in self.read:
            return self.read[known]
        tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        if tag == _STR:
            value = event.value
        elif tag not in _PLAIN_TAGS or (tag == _INT and len(_NOT_A_DIGIT.sub("", event.value)) > MAX_INT_DIGITS):
            raise _NotAlike("a merge key, a lone '=' or a number too long")
        else:  # an int, float, bool or null: immutable, so one value serves every occurrence
            value = self.loader.construct_object(yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark), deep=True)
        self.read[known] = value
        return value

    def sequence(self, loc: Loc) -> list[Any]:
        loader = self.loader
        out: list[Any] = []
        while not loader.check_event(yaml.SequenceEndEvent):
            out.append(self.node(loc + (len(out),)))
        loader.get_event()
        return out

    def mapping(self, loc: Loc) -> dict[Any, Any]:
        loader = self.loader
        out: dict[Any, Any] = {}
        while not loader.check_event(yaml.MappingEndEvent):
            key_event = self.entered()
            try:
                if not isinstance(key_event, yaml.ScalarEvent):
                    raise _NotAlike("a key that is a list or mapping")
                key = self.scalar(key_event)
            finally:
                self.depth -= 1
            if key in out:
                raise _NotAlike("a key twice")
            part: str | int = key if isinstance(key, str | int) else str(key_event.value)  # as _Builder._mapping
            out[key] = self.node(loc + (part,))
            self.lines[loc + (part,)] = _line(key_event)
        loader.get_event()
        return out
