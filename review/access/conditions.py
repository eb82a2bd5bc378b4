"""Condition keys, policy variables and condition operators of the IAM policy language.

Follows the IAM User Guide pages "IAM JSON policy elements: Condition operators", "Creating a condition
with multiple keys or values", "Single-valued vs. multivalued condition keys", "IAM policy elements:
Variables and tags" and "AWS global condition context keys". Anything this module does not understand
raises `UnsupportedPolicyElement`; nothing is silently ignored.
"""

from __future__ import annotations

import functools
import ipaddress
import operator as _operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Context = Mapping[str, tuple[str, ...]]
"""Request context: lower-cased condition key -> its values (a single-valued key has one)."""


class UnsupportedPolicyElement(ValueError):
    """A policy uses something the evaluator does not model; evaluating it anyway could be wrong."""

    def __init__(self, detail: str, *, policy: str | None = None, statement: str | None = None) -> None:
        self.detail, self.policy, self.statement = detail, policy, statement
        super().__init__(f"{policy}/{statement}: {detail}" if policy is not None else detail)

    def at(self, policy: str, statement: str) -> UnsupportedPolicyElement:
        return UnsupportedPolicyElement(self.detail, policy=policy, statement=statement)


# "AWS global condition context keys" (IAM User Guide): every documented global key, lower-cased.
GLOBAL_KEYS = frozenset(
    {
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:currenttime",
        "aws:epochtime",
        "aws:federatedprovider",
        "aws:multifactorauthage",
        "aws:multifactorauthpresent",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalisawsservice",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalservicename",
        "aws:principalservicenameslist",
        "aws:principaltype",
        "aws:referer",
        "aws:requestedregion",
        "aws:resourceaccount",
        "aws:resourceorgid",
        "aws:resourceorgpaths",
        "aws:securetransport",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceidentity",
        "aws:sourceip",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:tagkeys",
        "aws:tokenissuetime",
        "aws:useragent",
        "aws:userid",
        "aws:username",
        "aws:viaawsservice",
        "aws:vpcsourceip",
    }
)
GLOBAL_KEY_FAMILIES = ("aws:principaltag/", "aws:resourcetag/", "aws:requesttag/")
_KEY = re.compile(r"^[A-Za-z0-9-]+:[^\s,'${}]+$")


@functools.lru_cache(maxsize=4096)
def check_key(key: str) -> str:
    """The lower-cased key (key names are case-insensitive); unknown global keys raise."""
    lowered = key.lower()
    if not _KEY.match(key):
        raise UnsupportedPolicyElement(f"{key!r} is not a condition key")
    if lowered.startswith("aws:") and lowered not in GLOBAL_KEYS and not lowered.startswith(GLOBAL_KEY_FAMILIES):
        raise UnsupportedPolicyElement(f"unknown global condition key {key!r}")
    return lowered


# --- policy variables ("IAM policy elements: Variables and tags") ---------------------------------------
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"^\s*([^,\s']+)\s*(?:,\s*'([^']*)'\s*)?$")
_SPECIALS = frozenset("*?$")


def _tokens(template: str, variables: bool) -> Iterator[tuple[str, str, str | None]]:
    """("text", s, None) / ("char", c, None) for ${*} ${?} ${$} / ("var", key, default)."""
    pos = 0
    for m in _VARIABLE.finditer(template):
        if m.start() > pos:
            yield "text", template[pos : m.start()], None
        body = m.group(1)
        parsed = _VARIABLE_BODY.match(body)
        if body not in _SPECIALS and (parsed is None or not _KEY.match(parsed.group(1))):
            raise UnsupportedPolicyElement(
                f"'{m.group(0)}' is not an IAM policy variable (an unresolved Terraform interpolation?)"
            )
        if not variables:  # Version is not 2012-10-17: variables are compared literally
            yield "text", m.group(0), None
        elif body in _SPECIALS:
            yield "char", body, None
        else:
            assert parsed is not None
            yield "var", check_key(parsed.group(1)), parsed.group(2)
        pos = m.end()
    if "${" in template[pos:]:
        raise UnsupportedPolicyElement(f"unterminated '${{' in {template!r}")
    if template[pos:]:
        yield "text", template[pos:], None


def check_template(template: str, variables: bool) -> bool:
    """Validate the variables in a template; True when it uses any (policy variables proper)."""
    return any(kind == "var" for kind, _, _ in _tokens(template, variables))


def compile_pattern(
    template: str, ctx: Context, *, mode: str, variables: bool, ignore_case: bool = False
) -> re.Pattern[str] | None:
    """See ``_compile``; a template without ``${`` compiles once (an access matrix asks the same patterns thousands of times)."""
    if "${" not in template:
        return _static_pattern(template, mode, variables, ignore_case)
    bindings = tuple((name, tuple(ctx.get(name) or ())) for name in _variable_names(template, variables))
    return _resolved_pattern(template, mode, variables, ignore_case, bindings)


@functools.lru_cache(maxsize=65536)
def _variable_names(template: str, variables: bool) -> tuple[str, ...]:
    return tuple(text for kind, text, _ in _tokens(template, variables) if kind == "var")


@functools.lru_cache(maxsize=65536)
def _resolved_pattern(
    template: str, mode: str, variables: bool, ignore_case: bool, bindings: tuple[tuple[str, tuple[str, ...]], ...]
) -> re.Pattern[str] | None:
    """A template with variables compiles once per set of values its variables take."""
    ctx = {name: values for name, values in bindings if values}
    return _compile(template, ctx, mode=mode, variables=variables, ignore_case=ignore_case)


@functools.lru_cache(maxsize=65536)
def _static_pattern(template: str, mode: str, variables: bool, ignore_case: bool) -> re.Pattern[str] | None:
    return _compile(template, {}, mode=mode, variables=variables, ignore_case=ignore_case)


def _compile(template: str, ctx: Context, *, mode: str, variables: bool, ignore_case: bool = False) -> re.Pattern[str] | None:
    """A regex for a policy value. mode: "literal" (no wildcards), "glob" (* and ? anywhere) or "arn"
    (* and ? stay inside one of the first five colon-separated ARN parts, as the ARN operators say).
    None when a variable has no value and no default: such a value matches nothing."""
    parts: list[str] = []
    colons = 0
    for kind, text, default in _tokens(template, variables):
        if kind == "var":
            values = ctx.get(text)
            if not values:
                if default is None:
                    return None
                values = (default,)
            if len(values) > 1:
                raise UnsupportedPolicyElement(f"multivalued key {text!r} cannot be a policy variable")
            parts.append(re.escape(values[0]))
            continue
        for ch in text:
            if kind == "text" and mode != "literal" and ch in "*?":
                inside_segment = mode == "arn" and colons < 5
                parts.append(("[^:]" if inside_segment else ".") + ("*" if ch == "*" else ""))
            else:
                colons += ch == ":" and kind == "text"
                parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


# --- condition operators ("IAM JSON policy elements: Condition operators") ------------------------------
@dataclass(frozen=True)
class Operator:
    kind: str  # string, arn, numeric, date, bool, ip
    negated: bool
    compare: str  # eq, like, lt, le, gt, ge, in
    ignore_case: bool = False


_OPERATORS: dict[str, Operator] = {
    "StringEquals": Operator("string", False, "eq"),
    "StringNotEquals": Operator("string", True, "eq"),
    "StringEqualsIgnoreCase": Operator("string", False, "eq", ignore_case=True),
    "StringNotEqualsIgnoreCase": Operator("string", True, "eq", ignore_case=True),
    "StringLike": Operator("string", False, "like"),
    "StringNotLike": Operator("string", True, "like"),
    # "The ArnEquals and ArnLike condition operators behave identically."
    "ArnEquals": Operator("arn", False, "like"),
    "ArnLike": Operator("arn", False, "like"),
    "ArnNotEquals": Operator("arn", True, "like"),
    "ArnNotLike": Operator("arn", True, "like"),
    "Bool": Operator("bool", False, "eq", ignore_case=True),
    "IpAddress": Operator("ip", False, "in"),
    "NotIpAddress": Operator("ip", True, "in"),
}
for _kind in ("Numeric", "Date"):
    _OPERATORS[f"{_kind}Equals"] = Operator(_kind.lower(), False, "eq")
    _OPERATORS[f"{_kind}NotEquals"] = Operator(_kind.lower(), True, "eq")
    for _name, _cmp in (("LessThan", "lt"), ("LessThanEquals", "le"), ("GreaterThan", "gt"), ("GreaterThanEquals", "ge")):
        _OPERATORS[f"{_kind}{_name}"] = Operator(_kind.lower(), False, _cmp)
_SET_OPERATORS = ("ForAnyValue", "ForAllValues")
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _operator.eq,
    "lt": _operator.lt,
    "le": _operator.le,
    "gt": _operator.gt,
    "ge": _operator.ge,
}


@dataclass(frozen=True)
class ConditionTest:
    """One operator applied to one key with its policy values (OR'ed)."""

    operator: str  # as written, for messages
    op: Operator | None  # None for Null
    set_op: str | None
    if_exists: bool
    key: str  # lower-cased
    values: tuple[str, ...]
    variables: bool


def _number(value: str) -> float:
    return float(value)


def _date(value: str) -> datetime:
    if re.fullmatch(r"-?\d+", value):
        return datetime.fromtimestamp(int(value), tz=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(value, strict=False)


_PARSERS: dict[str, Callable[[str], object]] = {"numeric": _number, "date": _date, "ip": _network}


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise UnsupportedPolicyElement(f"condition value {value!r} is not a string, number or boolean")


def parse_condition(block: object, variables: bool) -> tuple[ConditionTest, ...]:
    """Validate a Condition element into tests; every test must hold (AND)."""
    if not isinstance(block, Mapping):
        raise UnsupportedPolicyElement("Condition must be an object")
    tests: list[ConditionTest] = []
    for operator, keys in block.items():
        set_op, _, base = str(operator).rpartition(":")
        if set_op and set_op not in _SET_OPERATORS:
            raise UnsupportedPolicyElement(f"unknown condition set operator {set_op!r} in {operator!r}")
        if_exists = base.endswith("IfExists") and base != "IfExists"
        name = base.removesuffix("IfExists") if if_exists else base
        op = _OPERATORS.get(name)
        if op is None and (name != "Null" or if_exists or set_op):
            raise UnsupportedPolicyElement(f"unsupported condition operator {operator!r}")
        if not isinstance(keys, Mapping) or not keys:
            raise UnsupportedPolicyElement(f"{operator!r} must map condition keys to values")
        for key, raw in keys.items():
            values = tuple(_scalar(v) for v in (raw if isinstance(raw, list) else [raw]))
            for value in values:
                uses_variables = check_template(value, variables)
                if op is None or op.kind in _PARSERS:
                    if uses_variables:
                        raise UnsupportedPolicyElement(f"policy variables cannot be used with {operator!r}")
                    try:
                        _PARSERS[op.kind](value) if op is not None else None
                    except ValueError:
                        raise UnsupportedPolicyElement(
                            f"{operator!r} value {value!r} is not a valid {op.kind if op else ''} value"
                        ) from None
                if (op is None or op.kind == "bool") and not uses_variables and value.lower() not in ("true", "false"):
                    raise UnsupportedPolicyElement(f"{operator!r} value {value!r} is neither true nor false")
            tests.append(ConditionTest(str(operator), op, set_op or None, if_exists, check_key(str(key)), values, variables))
    return tuple(tests)


def _matches(test: ConditionTest, op: Operator, request_value: str, policy_value: str, ctx: Context) -> bool:
    if op.kind in _PARSERS:
        try:
            have, want = _PARSERS[op.kind](request_value), _PARSERS[op.kind](policy_value)
        except ValueError:
            raise ValueError(f"request context value {request_value!r} of {test.key!r} is not a valid {op.kind} value") from None
        if isinstance(have, ipaddress.IPv4Network) and isinstance(want, ipaddress.IPv4Network):
            return have.subnet_of(want)
        if isinstance(have, ipaddress.IPv6Network) and isinstance(want, ipaddress.IPv6Network):
            return have.subnet_of(want)
        if op.kind == "ip":  # an IPv4 address is never inside an IPv6 range, nor the reverse
            return False
        return bool(_ORDER[op.compare](have, want))
    mode = "arn" if op.kind == "arn" else "glob" if op.compare == "like" else "literal"
    pattern = compile_pattern(policy_value, ctx, mode=mode, variables=test.variables, ignore_case=op.ignore_case)
    return pattern is not None and pattern.fullmatch(request_value) is not None


def holds(test: ConditionTest, ctx: Context) -> bool:
    """Evaluate one test. Missing keys: positive operators false, negated true, ...IfExists true,
    ForAllValues true, ForAnyValue false; Null compares presence. Multiple policy values are OR'ed
    (for negated operators: the request value must match none of them)."""
    present = ctx.get(test.key) or None  # an empty set of values counts as absent
    if test.op is None:  # Null: "true" means the key is absent
        return any((present is None) == (value.lower() == "true") for value in test.values)
    if present is None:  # "If the key is not present, evaluate the condition element as true" wins for ...IfExists
        if test.if_exists or test.set_op is not None:
            return test.if_exists or test.set_op == "ForAllValues"
        return test.op.negated
    if test.set_op is None and len(present) > 1:
        raise UnsupportedPolicyElement(
            f"{test.operator!r} on multivalued request key {test.key!r} needs ForAnyValue/ForAllValues"
        )
    op = test.op

    def one(request_value: str) -> bool:
        return any(_matches(test, op, request_value, value, ctx) for value in test.values) != op.negated

    return all(map(one, present)) if test.set_op == "ForAllValues" else any(map(one, present))
