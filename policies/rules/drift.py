"""Has an endpoint's captured traffic drifted from the baseline of the model version it serves? The drift job's rule.

The drift job (``lambdas/drift_monitor``) computes the statistics with ``drift.report.evaluate_drift`` and hands
this module plain data (``DriftRunFacts``: per served variant, per watched feature, the checks and whether each
breached); no numpy here. The decision:

- a watched feature of a variant with enough samples breaches a check -> **deny**, one ``data-drift`` violation
  per drifting feature naming the variant, the model version and each breached statistic;
- otherwise, any variant that could not be judged (fewer rows than ``min_samples``, more captured lines than
  ``max_unreadable_share`` that cannot be read as the baseline's features, no baseline, a baseline whose bytes do
  not match the SHA-256 registered with the version, a model that is not a registered version) -> **undecidable**,
  never a silent pass;
- otherwise **allow**.

A deny sends the drifting versions back to PendingManualApproval only when the endpoint's ``drift.on_breach`` is
``quarantine`` and the rule is in enforce mode; otherwise it is recorded and notified. An undecidable run never
acts. The endpoint itself is the deployment guard's: a version leaving Approved revokes its clearance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from policies.naming import BASELINE_REPORT, Names
from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation
from policies.terms import DriftOnBreach, Mode, MonitoringEngine

if TYPE_CHECKING:
    from policies.model import GovernancePolicy, MonitoredEndpoint, Project

RULE = "data-drift"
UNDECIDABLE = "undecidable"
# CustomerMetadataProperties the governed pipeline writes on a model version: where its drift baseline
# (drift.baseline JSON) is, and the SHA-256 of those bytes.
BASELINE_URI_KEY = "monitoring:baseline-uri"
BASELINE_SHA256_KEY = "monitoring:baseline-sha256"
STATISTIC_NAMES = {"psi": "PSI", "ks": "KS", "chi2": "chi-square", "missing": "missing values"}


@dataclass(frozen=True)
class CheckFacts:
    """One statistic of one feature, as ``drift.report.CheckResult`` computed it."""

    statistic: str
    """psi, ks, chi2 or missing (the window's share of missing values against the baseline's)."""
    value: float | None
    threshold: float
    breached: bool
    p_value: float | None = None
    effective_threshold: float | None = None
    """The p-value limit actually applied (threshold / number of tests under the Bonferroni correction)."""
    baseline_value: float | None = None
    """missing: the baseline's share of missing values."""

    def describe(self) -> str:
        name = STATISTIC_NAMES.get(self.statistic, self.statistic)
        if self.statistic == "missing":
            shown = "n/a" if self.value is None else f"{self.value:.1%}"
            bound = "more than" if self.breached else "at most"
            return (
                f"{name} {shown} of the window against {self.baseline_value or 0.0:.1%} of the baseline "
                f"({bound} {self.threshold * 100:g} points up)"
            )
        if self.statistic == "psi":
            shown = "n/a" if self.value is None else f"{self.value:.3f}"
            return f"{name} {shown} {'>' if self.breached else '<='} {self.threshold:g}"
        limit = self.threshold if self.effective_threshold is None else self.effective_threshold
        shown = "n/a" if self.p_value is None else f"{self.p_value:.3g}"
        return f"{name} p-value {shown} {'<' if self.breached else '>='} {limit:.3g}"


@dataclass(frozen=True)
class FeatureFacts:
    name: str
    status: str
    """ok, breach or insufficient-data (fewer than min_samples non-missing values in the window)."""
    window_count: int
    checks: tuple[CheckFacts, ...] = ()


@dataclass(frozen=True)
class VariantFacts:
    """One production variant of the endpoint: the version it serves and how its captured traffic compares."""

    variant: str
    model_package: str | None = None
    status: str = "undecidable"
    """no-drift, drift, insufficient-data, unreadable-capture (from the drift report) or undecidable (no report could
    be made)."""
    reason: str | None = None
    """Why the variant could not be judged, when it is undecidable."""
    rows: int = 0
    min_samples: int = 0
    features: tuple[FeatureFacts, ...] = ()
    baseline_uri: str | None = None
    baseline_sha256: str | None = None

    @property
    def breached(self) -> tuple[FeatureFacts, ...]:
        return tuple(f for f in self.features if f.status == "breach")


@dataclass(frozen=True)
class DriftRunFacts:
    """What one scheduled run of the drift job found for one endpoint."""

    endpoint: str
    endpoint_arn: str
    project: str
    run_time: str
    """The scheduled time; the window is the ``window_hours`` before it."""
    window_hours: int
    variants: tuple[VariantFacts, ...] = ()
    reason: str | None = None
    """Why no variant could be looked at (the endpoint does not exist, ...)."""
    report_uri: str | None = None
    """The run's drift report in the lineage bucket."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftRunFacts:
        variants = tuple(
            VariantFacts(
                **{
                    **v,
                    "features": tuple(
                        FeatureFacts(**{**f, "checks": tuple(CheckFacts(**c) for c in f["checks"])}) for f in v["features"]
                    ),
                }
            )
            for v in data["variants"]
        )
        return cls(**{**data, "variants": variants})


@dataclass(frozen=True)
class DriftTarget:
    """A drift-job endpoint of the policy with its project."""

    project: Project
    endpoint: MonitoredEndpoint


def drift_targets(policy: GovernancePolicy) -> list[DriftTarget]:
    """Every endpoint the drift job watches: those whose monitoring engine is drift-job."""
    return [
        DriftTarget(project, endpoint)
        for project in policy.projects
        for endpoint in project.endpoints
        if endpoint.engine is MonitoringEngine.DRIFT_JOB
    ]


def drift_target(policy: GovernancePolicy, endpoint: str) -> DriftTarget | None:
    return next((t for t in drift_targets(policy) if t.endpoint.name == endpoint), None)


def drift_mode(policy: GovernancePolicy) -> Mode:
    """Whether a breach may change a version's approval status: the approval gate's mode governs every automated
    approval-status change (the policy has no separate mode for drift)."""
    return policy.enforcement.approval_gate


def watched_features(endpoint: MonitoredEndpoint, baseline_features: Sequence[str]) -> tuple[list[str], list[str]]:
    """(features to watch, watched features the baseline lacks): the policy's list, or every baseline feature."""
    wanted = list(endpoint.drift.features) or list(baseline_features)
    return wanted, [f for f in wanted if f not in baseline_features]


def baseline_problem(uri: str | None, sha256: str | None, *, lineage_bucket: str, project: str) -> str | None:
    """Why the registered baseline reference cannot be used, before reading it."""
    if not uri:
        return f"the model version names no drift baseline ({BASELINE_URI_KEY})"
    if not sha256:
        return f"the model version names its baseline {uri} but no SHA-256 ({BASELINE_SHA256_KEY})"
    runs = f"s3://{lineage_bucket}/{Names.lineage_project_prefix(project)}/runs/"
    run = uri.removeprefix(runs).split("/", 1)[0]
    if (
        not uri.startswith(runs)
        or not run
        or uri != f"s3://{lineage_bucket}/{Names.lineage_run_report(project, run, BASELINE_REPORT)}"
    ):
        return f"the baseline {uri} is not a pipeline run's baseline of the project ({runs}<run>/{BASELINE_REPORT}/...)"
    return None


def _insufficient(variant: VariantFacts, facts: DriftRunFacts) -> str:
    short = [f.name for f in variant.features if f.status == "insufficient-data"]
    listed = ", ".join(short[:5]) + (f" and {len(short) - 5} more" if len(short) > 5 else "")
    return (
        f"insufficient data: variant {variant.variant} captured {variant.rows} rows in the {facts.window_hours} h "
        f"before {facts.run_time}; {variant.min_samples} are needed to judge drift (too few values: {listed})"
    )


def _undecided(variant: VariantFacts, facts: DriftRunFacts) -> Violation | None:
    if variant.status == "insufficient-data":
        return Violation(UNDECIDABLE, _insufficient(variant, facts))
    if variant.status not in ("no-drift", "drift"):  # undecidable, unreadable-capture, or a status this rule does not know
        return Violation(UNDECIDABLE, f"variant {variant.variant}: {variant.reason or 'could not be judged'}")
    return None


def _evidence(facts: DriftRunFacts, endpoint: MonitoredEndpoint | None) -> dict[str, Any]:
    return {
        "endpoint": facts.endpoint,
        "project": facts.project,
        "run_time": facts.run_time,
        "window_hours": facts.window_hours,
        "report_uri": facts.report_uri,
        "on_breach": endpoint.drift.on_breach.value if endpoint else None,
        "variants": [
            {
                "variant": v.variant,
                "model_package": v.model_package,
                "status": v.status,
                "rows": v.rows,
                "breached_features": [f.name for f in v.breached],
                "baseline_uri": v.baseline_uri,
                "baseline_sha256": v.baseline_sha256,
            }
            for v in facts.variants
        ],
    }


def decide_drift(policy: GovernancePolicy, facts: DriftRunFacts) -> Decision:
    mode = drift_mode(policy)
    target = drift_target(policy, facts.endpoint)
    evidence = _evidence(facts, target.endpoint if target else None)

    def decision(verdict: Verdict, action: Action, violations: tuple[Violation, ...], **extra: Any) -> Decision:
        return Decision(RuleSet.DATA_DRIFT, facts.endpoint_arn, verdict, action, mode, violations, evidence, **extra)

    if target is None or target.project.name != facts.project:
        reason = f"endpoint {facts.endpoint} is not a drift-job endpoint of project {facts.project} in the policy"
        return decision(Verdict.UNDECIDABLE, Action.REPORT_ONLY, (Violation(UNDECIDABLE, reason),))
    undecided = tuple(v for v in (_undecided(variant, facts) for variant in facts.variants) if v is not None)
    if facts.reason is not None:
        undecided = (Violation(UNDECIDABLE, facts.reason), *undecided)
    elif not facts.variants:
        undecided = (Violation(UNDECIDABLE, f"endpoint {facts.endpoint} serves no production variant"), *undecided)
    drifting = [(v, f) for v in facts.variants if v.status == "drift" for f in v.breached]
    if drifting:
        found = tuple(
            Violation(
                RULE,
                f"{f.name} drifted on variant {v.variant} (model version {v.model_package}): "
                + "; ".join(c.describe() for c in f.checks if c.breached),
            )
            for v, f in drifting
        )
        quarantine = target.endpoint.drift.on_breach is DriftOnBreach.QUARANTINE and mode is Mode.ENFORCE
        versions = sorted({v.model_package for v, _ in drifting if v.model_package})
        return decision(
            Verdict.DENY,
            Action.REVERT_TO_PENDING if quarantine and versions else Action.REPORT_ONLY,
            found + undecided,
            remediation={"model_packages": ",".join(versions)} if quarantine and versions else {},
        )
    if undecided:
        return decision(Verdict.UNDECIDABLE, Action.REPORT_ONLY, undecided)
    return decision(Verdict.ALLOW, Action.NONE, ())
