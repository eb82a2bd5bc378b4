"""The controls pack: each governance rule's severity, plain explanation and the framework clauses it serves.

``controls.yaml`` beside this module is the data (in the style of a cdk-nag rule pack); this module
loads it with ``yaml.safe_load``, validates it into frozen models and fails with the file and the
rule named when an entry is wrong. The evidence report and its readers use ``control_pack()``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policies.rules.outcome import RuleSet

CONTROLS_PATH = Path(__file__).with_name("controls.yaml")
PACK_SCHEMA = "ml-governance-controls/1"
INFRASTRUCTURE_SCAN = "infrastructure-scan"
ENFORCEMENT_POINTS = frozenset({*(r.value for r in RuleSet), INFRASTRUCTURE_SCAN})
RULE_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9_]+$")
# How each known framework cites a clause; a citation in another shape is an error.
CLAUSE_SHAPES: dict[str, re.Pattern[str]] = {
    "eu-ai-act": re.compile(r"^Art\. \d{1,3}(\(\d{1,2}\))?(\([a-z]\))?$"),
    "nist-ai-rmf": re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d\.\d{1,2}$"),
    "iso-42001": re.compile(r"^A\.\d{1,2}(\.\d{1,2}){1,2}$"),
}

Severity = Literal["critical", "high", "medium", "low"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "medium", "low")


class ControlPackError(ValueError):
    """The controls pack cannot be used; the message names the file and, when it is one, the rule."""

    def __init__(self, source: str, message: str, rule: str | None = None) -> None:
        self.source, self.rule = source, rule
        where = f"{source}: rule {rule!r}" if rule else source
        super().__init__(f"{where}: {message}")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ControlRef(_Frozen):
    clause: Annotated[str, Field(min_length=1)]
    """The clause as the framework numbers it: 'Art. 12(1)', 'MEASURE 2.1', 'A.6.2.8'."""
    subject: Annotated[str, Field(min_length=10)]
    """What the clause requires, in a sentence (the reason the rule cites it)."""


class Framework(_Frozen):
    title: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(pattern=r"^https://")]


class RuleControls(_Frozen):
    id: str = ""
    """The rule id (the key in the pack), filled in by the loader."""
    title: Annotated[str, Field(min_length=1)]
    severity: Severity
    enforced_by: Annotated[tuple[str, ...], Field(min_length=1)]
    """Where the rule runs: a run-time rule set (approval-gate, ...) or the infrastructure scan."""
    explanation: Annotated[str, Field(min_length=80)]
    """One plain paragraph: what the rule checks and why it matters."""
    notes: str | None = None
    """Why a framework is not cited, when one is not."""
    checkov: tuple[str, ...] = ()
    """The custom checkov checks that run this rule on the synthesized stacks."""
    controls: dict[str, tuple[ControlRef, ...]]
    """Framework id -> the clauses the rule serves."""

    @field_validator("explanation")
    @classmethod
    def _one_paragraph(cls, value: str) -> str:
        if "\n\n" in value.strip():
            raise ValueError("the explanation must be one paragraph")
        return " ".join(value.split())

    @field_validator("enforced_by")
    @classmethod
    def _known_points(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(values) - ENFORCEMENT_POINTS)
        if unknown:
            raise ValueError(
                f"unknown enforcement point(s) {', '.join(unknown)}; allowed: {', '.join(sorted(ENFORCEMENT_POINTS))}"
            )
        return values

    @field_validator("checkov")
    @classmethod
    def _check_ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in values if not CHECK_ID.match(v)]
        if bad:
            raise ValueError(f"{', '.join(bad)} is not a checkov check id (CKV_...)")
        return values

    @field_validator("controls")
    @classmethod
    def _cites_something(cls, value: dict[str, tuple[ControlRef, ...]]) -> dict[str, tuple[ControlRef, ...]]:
        if not any(value.values()):
            raise ValueError("the rule cites no clause of any framework")
        return value

    def clauses(self, framework: str) -> tuple[ControlRef, ...]:
        return self.controls.get(framework, ())


class ControlPack(_Frozen):
    source: str
    frameworks: dict[str, Framework]
    rules: dict[str, RuleControls]

    def for_rule(self, rule_id: str) -> RuleControls:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise KeyError(f"rule {rule_id!r} has no entry in the controls pack {self.source}") from None

    def for_check(self, check_id: str) -> RuleControls | None:
        """The rule a checkov check runs, if it is one of the organization's checks."""
        return next((r for r in self.rules.values() if check_id in r.checkov), None)


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(entry)'}: {err['msg']}" for err in exc.errors())


def _rule(source: str, rule_id: Any, body: Any, frameworks: dict[str, Framework]) -> RuleControls:
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise ControlPackError(source, f"{rule_id!r} is not a rule id (lowercase words joined by hyphens)")
    if not isinstance(body, dict):
        raise ControlPackError(source, "the entry must be a mapping (title, severity, explanation, controls, ...)", rule_id)
    try:
        entry = RuleControls.model_validate({**body, "id": rule_id})
    except ValidationError as exc:
        raise ControlPackError(source, _explain(exc), rule_id) from None
    for framework, refs in entry.controls.items():
        if framework not in frameworks:
            raise ControlPackError(source, f"controls.{framework}: unknown framework; declared: {', '.join(frameworks)}", rule_id)
        shape = CLAUSE_SHAPES.get(framework)
        for i, ref in enumerate(refs):
            if shape is not None and not shape.match(ref.clause):
                raise ControlPackError(
                    source,
                    f"controls.{framework}[{i}].clause {ref.clause!r} is not cited the way {framework} numbers it",
                    rule_id,
                )
        clauses = [r.clause for r in refs]
        dupes = sorted({c for c in clauses if clauses.count(c) > 1})
        if dupes:
            raise ControlPackError(source, f"controls.{framework} cites {', '.join(dupes)} twice", rule_id)
    return entry


def load_control_pack(path: str | Path = CONTROLS_PATH) -> ControlPack:
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ControlPackError(source, f"cannot read the controls pack: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ControlPackError(source, f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ControlPackError(source, "the pack must be a mapping with schema, frameworks and rules")
    if data.get("schema") != PACK_SCHEMA:
        raise ControlPackError(source, f"schema is {data.get('schema')!r}, expected {PACK_SCHEMA!r}")
    unknown = sorted(set(data) - {"schema", "frameworks", "rules"})
    if unknown:
        raise ControlPackError(source, f"unknown top-level key(s) {', '.join(unknown)}")
    raw_frameworks, raw_rules = data.get("frameworks"), data.get("rules")
    if not isinstance(raw_frameworks, dict) or not raw_frameworks:
        raise ControlPackError(source, "frameworks must map framework ids to a title and url")
    if not isinstance(raw_rules, dict) or not raw_rules:
        raise ControlPackError(source, "rules must map rule ids to their entries")
    frameworks: dict[str, Framework] = {}
    for key, body in raw_frameworks.items():
        try:
            frameworks[str(key)] = Framework.model_validate(body)
        except ValidationError as exc:
            raise ControlPackError(source, f"frameworks.{key}: {_explain(exc)}") from None
    rules = {str(rule_id): _rule(source, rule_id, body, frameworks) for rule_id, body in raw_rules.items()}
    checks = [c for r in rules.values() for c in r.checkov]
    shared = sorted({c for c in checks if checks.count(c) > 1})
    if shared:
        raise ControlPackError(source, f"checkov check(s) {', '.join(shared)} are mapped to more than one rule")
    return ControlPack(source=source, frameworks=frameworks, rules=rules)


@cache
def control_pack() -> ControlPack:
    """The pack beside this module, loaded and validated once."""
    return load_control_pack(CONTROLS_PATH)
