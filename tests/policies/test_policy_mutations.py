"""Property: any mutation of the shipped policy loads with the meaning it states, or is refused cleanly.

Each example takes the valid shipped policy, changes one thing (a value replaced by one of another
type, NaN, infinities, huge or negative numbers, empty, very long or junk text; a key deleted or
added; a list entry duplicated or dropped), writes it back to YAML and parses the text. The outcome
is either a policy that says exactly what the mutated document says, or a PolicyError whose message
names the file and, for every problem, a field path and its line. Never another exception.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.errors import PolicyError, format_loc
from policies.loader import parse_policy
from policies.model import GovernancePolicy
from policies.validated import DEFAULT_POLICY_PATH

DEFAULT_TEXT = DEFAULT_POLICY_PATH.read_text()
DOCUMENT: dict[str, Any] = yaml.safe_load(DEFAULT_TEXT)
SHIPPED = parse_policy(DEFAULT_TEXT, "governance.yaml")
SOURCE = "mutated.yaml"
Path = tuple[str | int, ...]


def _paths(node: Any, path: Path = ()) -> list[Path]:
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, path + (i,))
    return found


PATHS = _paths(DOCUMENT)


def at(node: Any, path: Path) -> Any:
    for part in path:
        node = node[part]
    return node


MAPPINGS = [p for p in [(), *PATHS] if isinstance(at(DOCUMENT, p), dict)]
LISTS = [p for p in PATHS if isinstance(at(DOCUMENT, p), list) and at(DOCUMENT, p)]

JUNK = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            1,
            -1,
            7,
            101,
            2**31,
            2**63,
            -(2**63),
            10**40,
            0.5,
            -0.5,
            80.0,
            1e308,
            -1e308,
            5e-324,
            math.nan,
            math.inf,
            -math.inf,
            "",
            " ",
            "\t",
            "0.8",
            "7",
            "true",
            "yes",
            "null",
            "~",
            "*",
            "sagemaker:*",
            "eu-west-9",
            "aws:reserved",
            "x" * 300,
            "y" * 5000,
            "日本語",
            "😀",
            "\u202e",
            "a\nb",
            "ACME",
            "enforce",
            "COMPLIANCE",
            [],
            {},
            [1, 2],
            {"a": 1},
            [None],
        ]
    ),
    st.text(max_size=40),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
)
KEYS = st.one_of(
    st.sampled_from(["owner", "minimum_value", "name", "tag", "auc", "eu-west-1", "x" * 200]), st.text(min_size=1, max_size=20)
)


def render(document: Any) -> str:
    return yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)


def check_refusal(error: PolicyError) -> None:
    message = str(error)
    assert message.startswith(f"invalid governance policy {SOURCE}: "), message
    assert error.issues, message
    for issue in error.issues:
        assert issue.loc, f"no field path: {message}"
        assert issue.line is not None, f"no line: {message}"
        assert f"{format_loc(issue.loc)} (line {issue.line}): " in message


def same(loaded: Any, written: Any) -> bool:
    """``loaded`` (the policy's JSON dump) says what ``written`` (the mutated document) says."""
    if isinstance(written, bool) or isinstance(loaded, bool):
        return type(written) is type(loaded) and written == loaded
    if isinstance(written, int | float) and isinstance(loaded, int | float):
        return float(written) == float(loaded)
    if isinstance(written, str):
        return loaded == written.strip()
    if isinstance(written, list):
        return isinstance(loaded, list) and len(loaded) == len(written) and all(map(same, loaded, written))
    if isinstance(written, dict):
        return isinstance(loaded, dict) and all(k in loaded and same(loaded[k], v) for k, v in written.items())
    return loaded == written


def outcome(document: Any) -> GovernancePolicy | None:
    """The policy the mutated document loads into, or None when it is refused cleanly."""
    try:
        policy = parse_policy(render(document), SOURCE)
    except PolicyError as error:
        check_refusal(error)
        return None
    assert GovernancePolicy.model_validate_json(policy.model_dump_json()) == policy
    return policy


def examples(n: int) -> settings:
    return settings(max_examples=n, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@examples(2000)
@given(path=st.sampled_from(PATHS), value=JUNK)
def test_replacing_any_value(path: Path, value: Any) -> None:
    document = copy.deepcopy(DOCUMENT)
    at(document, path[:-1])[path[-1]] = value
    policy = outcome(document)
    if policy is not None:
        assert same(at(policy.model_dump(mode="json"), path), value), (path, value)


@examples(250)
@given(path=st.sampled_from(PATHS))
def test_deleting_any_key_or_entry(path: Path) -> None:
    document = copy.deepcopy(DOCUMENT)
    del at(document, path[:-1])[path[-1]]
    policy = outcome(document)
    if policy is not None and isinstance(path[-1], int):
        assert len(at(policy.model_dump(mode="json"), path[:-1])) == len(at(DOCUMENT, path[:-1])) - 1


@examples(400)
@given(path=st.sampled_from(MAPPINGS), key=KEYS, value=JUNK)
def test_adding_a_key_anywhere(path: Path, key: str, value: Any) -> None:
    document = copy.deepcopy(DOCUMENT)
    at(document, path)[key] = value
    policy = outcome(document)
    if policy is not None:  # only a free-form mapping (tags, metrics) may take it, and then it must keep it
        assert same(at(policy.model_dump(mode="json"), path), at(document, path)), (path, key, value)


@examples(150)
@given(path=st.sampled_from(LISTS), data=st.data())
def test_duplicating_a_list_entry(path: Path, data: st.DataObject) -> None:
    document = copy.deepcopy(DOCUMENT)
    entries = at(document, path)
    entries.append(copy.deepcopy(entries[data.draw(st.integers(0, len(entries) - 1))]))
    policy = outcome(document)
    if policy is not None:
        assert same(at(policy.model_dump(mode="json"), path), entries)


@examples(150)
@given(path=st.sampled_from(PATHS))
def test_writing_a_value_back_unchanged_changes_nothing(path: Path) -> None:
    document = copy.deepcopy(DOCUMENT)
    at(document, path[:-1])[path[-1]] = copy.deepcopy(at(DOCUMENT, path))
    assert outcome(document) == SHIPPED
