"""libyaml and PyYAML's own parser read every policy document alike (policies/policy_yaml.py).

The loader reads a policy with libyaml first and falls back to PyYAML's parser for anything libyaml does not
read cleanly. That is only sound if libyaml never accepts a document PyYAML's parser refuses and, for every
document both accept, gives the same data (to the type) and the same line for every field. These tests read the
same texts with each parser alone and compare: the repository's policy files, documents written in every style a
YAML writer produces, and YAML's awkward corners.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import policy_yaml
from policies.errors import Loc, PolicyError
from policies.loader import parse_policy
from policies.validated import DEFAULT_POLICY_PATH
from tests.policies.test_policy_mutations import DOCUMENT, JUNK, PATHS, at

REPO = Path(__file__).resolve().parents[2]
POLICY_FILES = sorted(
    [DEFAULT_POLICY_PATH, *(REPO / "examples").rglob("*.yaml"), *Path(__file__).with_name("bad_policies").glob("*.yaml")]
)

# Corners of YAML where two parsers could part ways; each is read by both and must come out the same.
CORNERS = {
    "crlf line ends": "organization:\r\n  name: acme\r\n  owner: ml\r\nregions:\r\n  home: eu-west-1\r\n",
    "byte order mark": "\ufefforganization:\n  name: acme\n",
    "next line and line separators in values": "a: 'x\x85y'\nb: \"x\u2028y\"\nc: x\u2029y\nd: 1\n",
    "next line as a line break": "a: 1\x85b: 2\n",
    "tabs inside values": "a: 'x\ty'\nb: x\ty\nc: \"\\t\"\n",
    "tab after a value": "a: 1\t\nb: 2\n",
    "tab as indentation": "a:\n\tb: 1\n",
    "comments everywhere": "# head\na: 1 # after\n# between\nb:\n  # inside\n  - x # item\n",
    "block scalars": "a: |\n  one\n  two\nb: >-\n  folded\n  text\n\nc: |+\n  kept\n\nd: |2\n    indented\n",
    "plain text over lines": "a: one\n  two\n\n  three\nb: 2\n",
    "quoted text over lines": "a: \"one \\\n  two\"\nb: 'x\n\n  y'\n",
    "double-quoted escapes": 'a: "\\x41\\u00e9\\U0001F600\\N\\_\\L\\P\\0\\a\\e"\n',
    "an escape beyond Unicode": 'a: "\\U00110000"\n',
    "an escape beyond a C long": 'a: "\\U80000000"\nb: "\\UFFFFFFFF"\n',
    "single-quoted quote": "a: 'it''s'\n",
    "a YAML 1.1 directive": "%YAML 1.1\n---\na: 1\n",
    "a YAML 1.2 directive": "%YAML 1.2\n---\na: 1\n",
    "a YAML 2.0 directive": "%YAML 2.0\n---\na: 1\n",
    "a tag directive": "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "document markers": "---\na: 1\n...\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "explicit keys": "? a\n: 1\n? [b, c]\n: 2\n",
    "a key of 1,100 characters": "k" * 1100 + ": 1\n",
    "a quoted key of 1,100 characters": '"' + "k" * 1100 + '": 1\n',
    "flow mappings without spaces": "a: {b:1, c: 2}\nd: [e,f]\n",
    "flow collections over lines": "a: [1,\n  2,\n  3]\nb: {c: 1,\n  d: 2}\n",
    "trailing comma in flow": "a: [1, 2,]\nb: {c: 1,}\n",
    "empty values": "a:\nb: ~\nc: null\nd: ''\ne: []\nf: {}\n",
    "numbers of every notation": "a: 0o17\nb: 0x1F\nc: 1:30\nd: 0b101\ne: 1_000\nf: .5\ng: 1e3\nh: -.inf\ni: .NaN\nj: 017\n",
    "booleans of YAML 1.1": "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: TRUE\n",
    "timestamps as text": "a: 2024-01-01\nb: 2024-01-01T10:00:00Z\n",
    "non-ASCII keys and values": "ключ: значение\n日本: 語\n😀: ok\n",
    "anchors and aliases": "a: &x 1\nb: *x\n",
    "a merge key": "a: {b: 1}\nc:\n  <<: {b: 2}\n",
    "a Python tag": "a: !!python/name:os.system ''\n",
    "a set tag": "a: !!set {b, c}\n",
    "an int tag on text": "a: !!int abc\n",
    "a binary tag": "a: !!binary aGVsbG8=\n",
    "a lone equals sign": "a: =\n",
    "duplicate keys": "a: 1\na: 2\n",
    "an unclosed flow list": "a: [1, 2\nb: 3\n",
    "an unclosed quote": "a: 'x\nb: 3\n",
    "a key without a colon": "a: 1\nb\nc: 2\n",
    "bad indentation": "a:\n  b: 1\n c: 2\n",
    "a value that starts with @": "a: @x\n",
    "a value that starts with a backquote": "a: `x\n",
    "a colon in a plain value": "a: b: c\n",
    "a reserved indicator after a key": "a: 1\n- b\n",
    "only comments": "# nothing here\n",
    "empty text": "",
    "a list document": "- a\n- b\n",
    "a scalar document": "just text\n",
    "nesting of 40 flow lists": "a: " + "[" * 40 + "]" * 40 + "\n",
    "a control character": "a: x\x07y\n",
    "a lone surrogate": "a: x\ud800y\n",
    "a delete character": "a: x\x7fy\n",
    "a non-breaking space": "a: x\xa0y\nb:\xa01\n",
    "a zero-width no-break space inside": "a: x\ufeffy\n",
    "a final line without a line end": "a: 1\nb: 2",
    "carriage returns alone": "a: 1\rb: 2\r",
    "spaces before a colon": "a   : 1\nb :2\n",
    "a question mark and a dash as values": "a: ?\nb: -\nc: - x\n",
    # where libyaml and PyYAML's parser part ways (found by fuzzing both): read by PyYAML's parser alone
    "a non-specific tag": "k: !\n",
    "a non-specific tag on a key": "? !\n",
    "a comment right after a block scalar's header": "k: |#\n",
    "a chomping indicator, then a comment": "k: |-#\n",
    "a folded header, then a comment and a next line": "é: >#\x85",
    "a byte order mark after a line separator": "k: \u2028\ufeff",
    "a byte order mark after a new line": "k: \n\ufeff",
    "a byte order mark after a next line, then a quoted key": '\x85\ufeff"=:x":\r  - !!int 1\n...',
    "a directive ended by a line separator": "%YAML 1.1\u2028---\u2029'true': !\n",
    "a question mark in a plain value inside a flow list": "x y: [http://h/?q=1, b]\n",
    "a question mark in a plain key inside a flow mapping": "?x: {http://h/?q=1 : }\n",
    "a cron expression inside a flow mapping": "a: {b: cron(0 * ? * * *)}\n",
    "a question mark in a quoted value inside a flow list": "a: ['http://h/?q=1', \"?\"]\n",
    "a lone explicit key in a flow list": "k: [?, :]\n",
    "a lone explicit key and an empty entry": "k: [?, , a]\n",
    "lone explicit keys between values": "k: [1, ?, :, 2]\n",
    "a lone explicit key, then a value": "k: [?, : a]\n",
    "a lone explicit key in a flow mapping": "k: {?, :}\n",
    "an empty value in a flow mapping": "k: {a: , b: 1}\n",
    "a later line that starts with a byte order mark": "a:\n\ufeff b: 1\n",
    "a tag followed by a comma in a flow list": "a: [!!str,x]\n",
    "a cron schedule in a flow mapping in a flow list": "e: [{name: x, schedule: cron(0 * ? * * *)}]\n",
}


def typed(value: Any) -> Any:
    """``value`` with the type of every part spelt out (1 == 1.0 == True in Python) and NaN comparable."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def read(reader: Callable[[str, str, dict[Loc, int]], dict[Any, Any]], text: str) -> tuple[Any, dict[Loc, int]] | str:
    """What ``reader`` makes of ``text``: its data and lines, or the message it refuses it with."""
    lines: dict[Loc, int] = {}
    try:
        data = reader(text, "policy.yaml", lines)
    except PolicyError as error:
        return str(error)
    return typed(data), lines


def reference(text: str, source: str, lines: dict[Loc, int]) -> dict[Any, Any]:
    return policy_yaml.read_with(policy_yaml._PolicyYamlLoader, text, source, lines)


def libyaml_alone(text: str, source: str, lines: dict[Loc, int]) -> dict[Any, Any]:
    assert policy_yaml._FastPolicyYamlLoader is not None
    try:
        return policy_yaml.read_with(policy_yaml._FastPolicyYamlLoader, text, source, lines)
    except (PolicyError, policy_yaml._NotAlike):
        raise
    except Exception as error:  # plain_data falls back on any error: for this comparison, a refusal
        raise PolicyError([], source) from error


def events_alone(text: str, source: str, lines: dict[Loc, int]) -> dict[Any, Any]:
    try:
        return policy_yaml._read_events(text, lines)
    except policy_yaml._NotAlike:
        raise
    except Exception as error:  # plain_data falls back on any error: for this comparison, a refusal
        raise PolicyError([], source) from error


def assert_read_alike(text: str) -> None:
    expected = read(reference, text)
    assert read(policy_yaml.plain_data, text) == expected, f"the policy reader and PyYAML's parser differ on {text!r}"
    if policy_yaml._libyaml_reads_alike(text):  # the event reader decides only what it reads as the reference does
        with contextlib.suppress(policy_yaml._NotAlike):  # declined: the composer reads it
            events = read(events_alone, text)
            if not isinstance(events, str):  # a refusal falls back to the composer, then to PyYAML's parser
                assert events == expected, f"libyaml's events and PyYAML's parser read {text!r} differently"
    if policy_yaml._libyaml_reads_alike(text):  # libyaml alone decides what it accepts: it must accept the same
        try:
            fast = read(libyaml_alone, text)
        except policy_yaml._NotAlike:  # libyaml met what it reads otherwise (checked while composing): not its call
            return
        if isinstance(expected, str):
            assert isinstance(fast, str), f"libyaml accepts what PyYAML's parser refuses: {text!r}"
        else:
            assert fast == expected, f"libyaml and PyYAML's parser read {text!r} differently"


def test_pyyaml_ships_libyaml() -> None:
    """The fast reader is in use: uv.lock pins a PyYAML wheel built with libyaml."""
    assert yaml.__with_libyaml__
    assert policy_yaml._FastPolicyYamlLoader is not None


def test_libyaml_decides_a_valid_policy_without_the_reference_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = parse_policy(DEFAULT_POLICY_PATH.read_text(), "governance.yaml")

    class Refuses(policy_yaml._PolicyYamlLoader):
        def __init__(self, stream: str) -> None:
            raise AssertionError("PyYAML's parser was asked")

    monkeypatch.setattr(policy_yaml, "_PolicyYamlLoader", Refuses)
    assert parse_policy(DEFAULT_POLICY_PATH.read_text(), "governance.yaml") == expected


def test_a_valid_policy_is_read_from_libyamls_events_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the composer nor PyYAML's parser is asked for a policy that can be used, however many projects it
    holds: the repository's, and one of 300 projects."""
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    data["projects"] = [
        {**copy.deepcopy(data["projects"][0]), "name": f"project-{i:03d}", "endpoints": [{"name": f"p{i:03d}-live"}]}
        for i in range(300)
    ]
    texts = [DEFAULT_POLICY_PATH.read_text(), yaml.safe_dump(data, sort_keys=False)]
    expected = [parse_policy(text, "governance.yaml") for text in texts]

    def asked(*args: Any) -> Any:
        raise AssertionError("the composer was asked")

    monkeypatch.setattr(policy_yaml, "read_with", asked)
    assert [parse_policy(text, "governance.yaml") for text in texts] == expected
    assert len(expected[1].projects) == 300


def test_a_refusal_is_worded_by_the_reference_parser() -> None:
    text = CORNERS["an unclosed flow list"]
    with pytest.raises(PolicyError) as fast_first:
        policy_yaml.plain_data(text, "policy.yaml", {})
    with pytest.raises(PolicyError) as reference:
        policy_yaml.read_with(policy_yaml._PolicyYamlLoader, text, "policy.yaml", {})
    assert str(fast_first.value) == str(reference.value)
    assert "the '[' on this line is not closed" in str(fast_first.value)


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_policy_file_is_read_alike(path: Path) -> None:
    assert_read_alike(path.read_bytes().decode("utf-8", errors="surrogateescape"))


@pytest.mark.parametrize("text", CORNERS.values(), ids=CORNERS.keys())
def test_every_corner_of_yaml_is_read_alike(text: str) -> None:
    assert_read_alike(text)


STYLES = st.fixed_dictionaries(
    {
        "default_flow_style": st.sampled_from([False, True, None]),
        "canonical": st.booleans(),
        "allow_unicode": st.booleans(),
        "width": st.sampled_from([20, 80, 1000]),
        "indent": st.sampled_from([2, 4, 7]),
        "explicit_start": st.booleans(),
        "default_style": st.sampled_from([None, "'", '"', "|", ">"]),
    }
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=JUNK, style=STYLES)
def test_mutated_policies_written_in_any_style_are_read_alike(path: tuple[str | int, ...], value: Any, style: Any) -> None:
    document = copy.deepcopy(DOCUMENT)
    at(document, path[:-1])[path[-1]] = value
    assert_read_alike(yaml.dump(document, Dumper=yaml.SafeDumper, sort_keys=False, **style))


# YAML's indicators, line breaks and values, in any order: mostly texts that are not YAML, and the corners in between.
PIECES = [
    *("a", "b", "1", "x y", "é", "😀", "null", "true", "0x1F", "1e3", ".5", "~", "=", "@", "`", "\xa0", "<<"),
    *(": ", ":", "- ", "-", "? ", "?", "[", "]", "{", "}", ", ", ",", "'", '"', "#", " #c", " ", "  ", "*", "&"),
    *("!!str", "!!int", "!", "!e!", "%YAML 1.1\n", "%TAG !e! tag:x,2000:\n", "---", "...", "|", ">", "|2", "|-", ">+"),
    *("\n", "\n  ", "\n    ", "\r\n", "\r", "\x85", "\u2028", "\u2029", "\ufeff", "\t", "\\", "\\n", "\\x41", "\\\n"),
    *("http://h/?q=1", "cron(0 * ? * * *)", "?, :", "?,"),
]


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=14), keyed=st.booleans())
def test_any_text_of_yaml_pieces_is_read_alike(pieces: list[str], keyed: bool) -> None:
    assert_read_alike(("k: " if keyed else "") + "".join(pieces))
