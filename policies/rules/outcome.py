"""What a governance decision says: the verdict, every violated rule in plain words, and the action."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from policies.terms import Mode


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    UNDECIDABLE = "undecidable"


class Action(StrEnum):
    NONE = "none"
    REJECT_MODEL = "reject-model"
    REVERT_TO_PENDING = "revert-to-pending"
    REJECT_PROMOTION = "reject-promotion"
    TAG_RESOURCE = "tag-resource"
    STOP_JOB = "stop-job"
    DELETE_ENDPOINT = "delete-endpoint"
    QUARANTINE_VARIANTS = "quarantine-variants"
    DEPLOY = "deploy"
    REPORT_ONLY = "report-only"


class RuleSet(StrEnum):
    APPROVAL_GATE = "approval-gate"
    DATA_CLASSIFICATION = "data-classification"
    REGION_RESTRICTION = "region-restriction"
    TAMPER_DETECTION = "tamper-detection"
    DATA_DRIFT = "data-drift"
    DEPLOYMENT = "deployment"


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str


@dataclass(frozen=True)
class Decision:
    rule_set: RuleSet
    subject: str
    verdict: Verdict
    action: Action
    mode: Mode
    violations: tuple[Violation, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)
    remediation: Mapping[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def explanation(self) -> str:
        """Every violated rule in plain words, for approval descriptions and notifications."""
        if not self.violations:
            return "compliant with the governance policy"
        return "; ".join(f"{v.rule}: {v.message}" for v in self.violations)

    def digest(self) -> str:
        """Stable identity of the decision's content (not its timing): equal decisions, equal digests."""
        content = {
            "rule_set": self.rule_set.value,
            "subject": self.subject,
            "verdict": self.verdict.value,
            "action": self.action.value,
            "mode": self.mode.value,
            "violations": [[v.rule, v.message] for v in self.violations],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def undecidable(
    rule_set: RuleSet, subject: str, reason: str, mode: Mode, *, safe_action: Action = Action.REPORT_ONLY
) -> Decision:
    """A rule could not be applied: ``safe_action`` in enforce mode (what leaves the subject safe), report otherwise."""
    return Decision(
        rule_set=rule_set,
        subject=subject,
        verdict=Verdict.UNDECIDABLE,
        action=safe_action if mode is Mode.ENFORCE else Action.REPORT_ONLY,
        mode=mode,
        violations=(Violation("undecidable", reason),),
    )


def enforcement_action(mode: Mode, violations: tuple[Violation, ...], on_violation: Action) -> Action:
    if not violations:
        return Action.NONE
    return on_violation if mode is Mode.ENFORCE else Action.REPORT_ONLY
