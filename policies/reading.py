"""What every enforcement point derives from the policy: one definition, for two readers.

The validated model (``policies.model``, pydantic) and the packaged view the handlers build from
``policy.json`` without pydantic (``policies.packaged``) both inherit these methods, so a derived
value (a project's tags, the merged approval thresholds, a stage's promotion rule) is computed by the
same code wherever it is read. A method that needs another part of the policy as an object asks
``_sibling`` for its class: the pydantic model, or the view built from the same shape.

Nothing here imports pydantic (an import-linter contract keeps it so).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from policies.terms import KNOWN_METRICS, OWNER_TAG_KEY, PROJECT_TAG_KEY, MetricRange, MonitoringEngine

if TYPE_CHECKING:
    from policies.model import Accounts, Classification, GovernancePolicy, MetricThreshold, Project, Promotion, Regions, Stage


class Reading:
    def _sibling(self, name: str) -> Callable[..., Any]:
        """The class of the policy part ``name`` (for instance ``MetricThreshold``) as this reader builds it."""
        raise NotImplementedError


class ThresholdReading(Reading):
    def describe(self: MetricThreshold) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts)

    def admits(self: MetricThreshold, value: float) -> bool:
        if math.isnan(value):  # NaN never meets a threshold
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        return not (self.maximum is not None and value > self.maximum)


class RegionsReading(Reading):
    @property
    def forwarded(self: Regions) -> list[str]:
        """Watched Regions other than home: each gets an EventBridge forwarding rule."""
        return [r for r in self.watched if r != self.home]


class ClassificationReading(Reading):
    @property
    def required_for_unattributed(self: Classification) -> str:
        return self.unattributed_level or self.levels[-1]

    def rank(self: Classification, level: str) -> int:
        """Position of ``level`` in the ordering (0 = least sensitive); -1 if unknown."""
        return self.levels.index(level) if level in self.levels else -1


class AccountsReading(Reading):
    def stage(self: Accounts, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def stage_names(self: Accounts) -> list[str]:
        return [s.name for s in self.stages]

    def rules(self: Accounts) -> dict[str, Promotion]:
        """The promotion rule of every stage that has one (entry stages have none)."""
        if self.promotion is not None:
            return dict(self.promotion)
        names = self.stage_names
        promotion = self._sibling("Promotion")
        return {later: promotion(after=earlier) for earlier, later in pairwise(names)}

    @property
    def entry_stages(self: Accounts) -> list[str]:
        """Stages where versions are registered (no promotion rule)."""
        rules = self.rules()
        return [s.name for s in self.stages if s.name not in rules]

    def stages_of(self: Accounts, project: str) -> list[str]:
        """Stages ``project`` runs in, in stage order."""
        if self.projects is None:
            return self.stage_names
        listed = self.projects.get(project, [])
        return [s for s in self.stage_names if s in listed]

    def projects_in(self: Accounts, stage: str, all_projects: Sequence[str]) -> list[str]:
        return [p for p in all_projects if stage in self.stages_of(p)]

    @property
    def workload_accounts(self: Accounts) -> dict[str, list[str]]:
        """Each distinct workload account with the stages it serves, in stage order."""
        found: dict[str, list[str]] = {}
        for stage in self.stages:
            found.setdefault(stage.account, []).append(stage.name)
        return found

    def account_of(self: Accounts, stage: str) -> str:
        found = self.stage(stage)
        if found is None:
            raise KeyError(f"no stage {stage!r}; stages: {', '.join(self.stage_names)}")
        return found.account

    @property
    def scp_targets(self: Accounts) -> list[str]:
        """OUs the guardrail SCPs are attached to: every stage's OU (once each), and the hub's when set."""
        targets = [s.ou for s in self.stages]
        if self.hub_ou:
            targets.append(self.hub_ou)
        return list(dict.fromkeys(targets))

    def promotion_problems(
        self: Accounts,
        stage: str,
        *,
        approved: bool,
        cleared: bool,
        promoted_by: Mapping[str, str],
        approvers: Collection[str],
        promoter: str,
    ) -> list[str]:
        """Why ``promoter`` may not promote a version into ``stage`` (empty: they may).

        ``promoted_by`` maps each stage the version was already promoted into to who did it; ``approvers`` are
        the people who approved it in the hub (the entry stages' approvers).
        """
        rule = self.rules().get(stage)
        if self.stage(stage) is None:
            return [f"{stage!r} is not a stage; stages: {', '.join(self.stage_names)}"]
        if rule is None:
            return []  # an entry stage: versions are registered there, not promoted into it
        problems = []
        if rule.require_approved and not approved:
            problems.append(f"the version is not Approved in the hub's registry ({stage} requires it)")
        if rule.require_approved and not cleared:
            problems.append(f"the approval gate has not cleared the version ({stage} requires it)")
        entry = rule.after in self.entry_stages
        previous = set(approvers) if entry else {promoted_by[rule.after]} if rule.after in promoted_by else set()
        if not entry and not previous:
            problems.append(f"the version has not been promoted into {rule.after} ({stage} comes after it)")
        if rule.distinct_approver and promoter in previous:
            what = "approved the version" if entry else f"promoted it into {rule.after}"
            problems.append(f"{promoter} {what}; {stage} needs a different approver")
        return problems


class PolicyReading(Reading):
    def metric_range(self: GovernancePolicy, name: str) -> MetricRange | None:
        """Values ``name`` can take: a governed metric's, or the declared custom metric's; None if unknown."""
        if name in KNOWN_METRICS:
            return KNOWN_METRICS[name]
        custom = self.approval.custom_metrics.get(name)
        return None if custom is None else MetricRange(custom.minimum_value, custom.maximum_value)

    def project(self: GovernancePolicy, name: str) -> Project | None:
        return next((p for p in self.projects if p.name == name), None)

    def approval_requirements(self: GovernancePolicy, project: Project) -> dict[str, MetricThreshold]:
        """Metric bounds a model version of ``project`` must meet: the organization floor merged with the project's own."""
        threshold_of = self._sibling("MetricThreshold")
        merged = {name: threshold_of(minimum=floor) for name, floor in self.approval.metric_minimums.items()}
        for name, threshold in project.metric_thresholds.items():
            floor = merged.get(name)
            minimum = threshold.minimum
            if floor is not None and floor.minimum is not None:
                minimum = floor.minimum if minimum is None else max(minimum, floor.minimum)
            merged[name] = threshold_of(minimum=minimum, maximum=threshold.maximum)
        return dict(sorted(merged.items()))

    @property
    def platform_classification(self: GovernancePolicy) -> str:
        """Level of shared platform resources (lineage, audit): the most sensitive level of any governed project."""
        ranks = [self.classification.rank(p.classification) for p in self.projects]
        return self.classification.levels[max(ranks)] if ranks else self.classification.levels[-1]

    def standard_tags(self: GovernancePolicy) -> dict[str, str]:
        """Tags on every resource: the organization's standard tags plus the platform classification."""
        return {**self.organization.standard_tags, self.classification.tag_key: self.platform_classification}

    def project_tags(self: GovernancePolicy, project: Project) -> dict[str, str]:
        return {
            **self.organization.standard_tags,
            self.classification.tag_key: project.classification,
            PROJECT_TAG_KEY: project.name,
            OWNER_TAG_KEY: project.owner_team,
        }

    @property
    def version(self: GovernancePolicy) -> str:
        return f"v{self.schema_version}-{self.fingerprint}"


def policy_fingerprint(data: dict[str, Any], defaults_of: Callable[[str], dict[str, Any]]) -> str:
    """The fingerprint of the policy whose ``model_dump(mode="json")`` is ``data`` (left unchanged).

    ``defaults_of(name)`` is the JSON of the part ``name`` with every field at its default. Fields added after
    version 1 of the format count only when set, so a policy that does not use them keeps its version.
    """
    data = copy.deepcopy(data)
    if not data["allow_no_projects"]:
        del data["allow_no_projects"]
    if not data["approval"]["custom_metrics"]:
        del data["approval"]["custom_metrics"]
    if data["deployment"] == defaults_of("Deployment"):
        del data["deployment"]
    if data["accounts"] is None:
        del data["accounts"]
    default_monitoring = {"engine": MonitoringEngine.DRIFT_JOB.value, "drift": defaults_of("DriftSettings")}
    for project in data["projects"]:
        for endpoint in project["endpoints"]:
            if {k: endpoint[k] for k in default_monitoring} == default_monitoring:
                del endpoint["engine"], endpoint["drift"]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
