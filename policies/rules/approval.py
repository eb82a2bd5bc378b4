"""May this model version be approved? The approval gate's rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policies.naming import Names
from policies.rules.artifacts import RULE as ARTIFACT_RULE
from policies.rules.artifacts import ArtifactRead, ModelData, pin_problems
from policies.rules.classification import RULE as CLASSIFICATION_RULE
from policies.rules.classification import classification_problem
from policies.rules.metrics import check_metrics
from policies.rules.outcome import Action, Decision, RuleSet, Verdict, Violation, enforcement_action, undecidable
from policies.rules.provenance import EvidenceFile, evidence_provenance
from policies.terms import Mode

if TYPE_CHECKING:
    from policies.model import GovernancePolicy


@dataclass(frozen=True)
class ModelVersionFacts:
    """What the approval gate knows about a model version, gathered by its adapter."""

    package_arn: str
    group_name: str
    group_tags: Mapping[str, str] = field(default_factory=dict)
    metrics_report_uri: str | None = None
    """Where ModelMetrics.ModelQuality.Statistics points; None when nothing is attached."""
    metrics_report_found: bool | None = None
    """Whether that object exists; None when it was not looked up."""
    metrics: Mapping[str, float] | None = None
    """Metric values read from the report; None when it was not read or could not be parsed."""
    metrics_report_error: str | None = None
    """Why the report could not be parsed, when it could not."""
    training_data_uri: str | None = None
    training_data_found: bool | None = None
    created_by: str | None = None
    """The identity (role session ARN) that registered the version."""
    approved_by: str | None = None
    """The identity (role session ARN) that approved it."""
    registered_by_person: str | None = None
    """The person behind the registration (sts:SourceIdentity, or the Studio user profile)."""
    approved_by_person: str | None = None
    """The person behind the approval."""
    pipeline_execution: str | None = None
    """MetadataProperties.GeneratedBy: the pipeline execution that registered the version."""
    evidence_files: tuple[EvidenceFile, ...] = ()
    """The files the version names as evidence, with their registered and current SHA-256."""
    model_data: tuple[ModelData, ...] = ()
    """The model data its containers name (none: the model is in the image)."""
    artifact_reads: tuple[ArtifactRead, ...] = ()
    """Each model artifact in the project's model store, as read (its object version)."""
    registered_at: str | None = None
    """When the version was registered (DescribeModelPackage's CreationTime, ISO 8601)."""


# CustomerMetadataProperties keys the governed pipeline writes and the approval gate reads.
TRAINING_DATA_URI_KEY = "lineage:training-data-uri"
TRAINING_DATA_SHA256_KEY = "lineage:training-data-sha256"
VALIDATION_REPORT_URI_KEY = "lineage:validation-report-uri"
CODE_VERSION_KEY = "lineage:code-version"
# SHA-256 (hex) of the exact bytes of the reports a version was registered on: the evaluation report
# (ModelMetrics.ModelQuality.Statistics) and the validation report (VALIDATION_REPORT_URI_KEY).
EVALUATION_REPORT_SHA256_KEY = "lineage:evaluation-report-sha256"
VALIDATION_REPORT_SHA256_KEY = "lineage:validation-report-sha256"
# The per-feature drift baseline of the training split (drift.baseline JSON) and the SHA-256 of its bytes.
BASELINE_URI_KEY = "monitoring:baseline-uri"
BASELINE_SHA256_KEY = "monitoring:baseline-sha256"


def _s3_bucket(uri: str) -> str | None:
    if not uri.startswith("s3://"):
        return None
    return uri[5:].split("/", 1)[0] or None


def governed_project(policy: GovernancePolicy, facts: ModelVersionFacts) -> list[Violation]:
    if policy.project(facts.group_name) is None:
        governed = ", ".join(p.name for p in policy.projects) or "none"
        return [
            Violation(
                "governed-project", f"model package group {facts.group_name!r} is not a governed project (governed: {governed})"
            )
        ]
    return []


def classification_tag(policy: GovernancePolicy, facts: ModelVersionFacts) -> list[Violation]:
    project = policy.project(facts.group_name)
    problem = classification_problem(
        policy,
        facts.group_tags,
        required=project.classification if project else None,
        subject=f"model package group {facts.group_name}",
        because=f"project {facts.group_name}",
    )
    return [Violation(CLASSIFICATION_RULE, problem)] if problem else []


def metric_thresholds(policy: GovernancePolicy, facts: ModelVersionFacts) -> list[Violation]:
    project = policy.project(facts.group_name)
    if project is None:
        return []
    required = policy.approval_requirements(project)
    if not required:
        return []
    if facts.metrics_report_uri is None:
        return [Violation("metric-thresholds", "no evaluation report is attached (ModelMetrics.ModelQuality.Statistics)")]
    if facts.metrics_report_found is False:
        return [Violation("metric-thresholds", f"the evaluation report {facts.metrics_report_uri} does not exist")]
    if facts.metrics_report_error is not None:
        return [
            Violation(
                "metric-thresholds",
                f"the evaluation report {facts.metrics_report_uri} is unreadable: {facts.metrics_report_error}",
            )
        ]
    if facts.metrics is None:
        return [
            Violation(
                "metric-thresholds",
                f"the evaluation report {facts.metrics_report_uri} was not read: it is outside the lineage bucket",
            )
        ]
    return [Violation("metric-thresholds", check.problem) for check in check_metrics(required, facts.metrics) if check.problem]


def lineage_evidence(policy: GovernancePolicy, facts: ModelVersionFacts, lineage_bucket: str) -> list[Violation]:
    if not policy.approval.require_lineage_evidence:
        return []
    violations = []
    uri = facts.training_data_uri
    if not uri:
        violations.append(Violation("lineage-evidence", "the model version does not name its training data"))
    elif _s3_bucket(uri) != lineage_bucket:
        violations.append(Violation("lineage-evidence", f"the training data {uri} is not in the lineage bucket {lineage_bucket}"))
    elif facts.training_data_found is False:
        violations.append(Violation("lineage-evidence", f"the training data {uri} does not exist"))
    report = facts.metrics_report_uri
    if report and _s3_bucket(report) != lineage_bucket:
        violations.append(
            Violation("lineage-evidence", f"the evaluation report {report} is not in the lineage bucket {lineage_bucket}")
        )
    return violations


def separation_of_duties(policy: GovernancePolicy, facts: ModelVersionFacts) -> list[Violation]:
    """The person who approves is not the person who registered: people, not role sessions (sts:SourceIdentity)."""
    if not policy.approval.separation_of_duties:
        return []
    if not facts.registered_by_person or not facts.approved_by_person:
        missing = "registered" if not facts.registered_by_person else "approved"
        who = facts.created_by if missing == "registered" else facts.approved_by
        why = f"{who} carries no sts:SourceIdentity" if who else "no identity is recorded"
        return [Violation("separation-of-duties", f"cannot establish the person who {missing} the model version ({why})")]
    if facts.registered_by_person == facts.approved_by_person:
        return [
            Violation(
                "separation-of-duties",
                f"{facts.approved_by_person} approved a model version they registered ({facts.approved_by} / {facts.created_by})",
            )
        ]
    return []


def provenance(policy: GovernancePolicy, facts: ModelVersionFacts, lineage_bucket: str, execution_role: str) -> list[Violation]:
    if not policy.approval.require_lineage_evidence or policy.project(facts.group_name) is None:
        return []
    return evidence_provenance(
        project=facts.group_name,
        files=facts.evidence_files,
        pipeline_execution=facts.pipeline_execution,
        registered_by=facts.created_by,
        execution_role=execution_role,
        lineage_bucket=lineage_bucket,
    )


def model_artifacts(policy: GovernancePolicy, facts: ModelVersionFacts) -> list[Violation]:
    """Every model artifact the version names can be pinned to the object version judged now (``policies.rules.artifacts``)."""
    if policy.project(facts.group_name) is None:
        return []
    parts = facts.package_arn.split(":")
    store = Names(policy, account=parts[4] if len(parts) > 5 else "*").model_store(facts.group_name)
    reads = {r.uri: r for r in facts.artifact_reads}
    return [Violation(ARTIFACT_RULE, p) for p in pin_problems(facts.model_data, reads, store, facts.registered_at)]


def decide_approval(policy: GovernancePolicy, facts: ModelVersionFacts, *, lineage_bucket: str) -> Decision:
    """The approval gate's decision for a model version that just became Approved."""
    violations: list[Violation] = []
    violations += governed_project(policy, facts)
    violations += classification_tag(policy, facts)
    violations += metric_thresholds(policy, facts)
    violations += lineage_evidence(policy, facts, lineage_bucket)
    project = policy.project(facts.group_name)
    if project is not None:
        violations += provenance(policy, facts, lineage_bucket, Names(policy, account="*").execution_role(project))
    violations += model_artifacts(policy, facts)
    violations += separation_of_duties(policy, facts)
    found = tuple(violations)
    mode = policy.enforcement.approval_gate
    return Decision(
        rule_set=RuleSet.APPROVAL_GATE,
        subject=facts.package_arn,
        verdict=Verdict.DENY if found else Verdict.ALLOW,
        action=enforcement_action(mode, found, Action.REJECT_MODEL),
        mode=mode,
        violations=found,
        evidence={
            "model_package_group": facts.group_name,
            "metrics": dict(facts.metrics or {}),
            "metrics_report": facts.metrics_report_uri,
            "training_data": facts.training_data_uri,
            "created_by": facts.created_by,
            "approved_by": facts.approved_by,
            "registered_by_person": facts.registered_by_person,
            "approved_by_person": facts.approved_by_person,
            "pipeline_execution_arn": facts.pipeline_execution,
            **{
                f"{f.role.replace(' ', '_')}_{part}": value
                for f in facts.evidence_files
                for part, value in (("uri", f.uri), ("sha256", f.sha256), ("version_id", f.version_id))
            },
            "model_artifacts": [
                {"uri": r.uri, "found": r.found, "version_id": r.version_id, "etag": r.etag, "written_at": r.last_modified}
                for r in facts.artifact_reads
            ],
            "registered_at": facts.registered_at,
        },
    )


def undecidable_approval(policy: GovernancePolicy | None, package_arn: str, reason: str) -> Decision:
    """The gate could not decide: in enforce mode the model version must not stay Approved.

    Without a readable policy the mode is unknown, so the gate holds back (enforce): failing closed.
    """
    mode = policy.enforcement.approval_gate if policy is not None else Mode.ENFORCE
    return undecidable(RuleSet.APPROVAL_GATE, package_arn, reason, mode, safe_action=Action.REVERT_TO_PENDING)
