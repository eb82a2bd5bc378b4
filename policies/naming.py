"""Names and ARNs of everything the blueprint creates, in the policy's words.

Every stack, Lambda, pipeline and check derives names from here, so a name is never
spelled twice. ``account`` and ``partition`` may be literal values or Terraform
interpolations (``${data.aws_caller_identity.current.account_id}``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.model import GovernancePolicy, MonitoredEndpoint, Project


PERSONAS: tuple[str, ...] = ("data-scientist", "pipeline-publisher", "ml-engineer", "model-approver", "auditor")
PIPELINE_PUBLISHER = "pipeline-publisher"
"""Publishes a project's governed pipeline (its code and definition): what runs as the execution role."""
KEY_PURPOSES: tuple[str, ...] = ("data", "audit", "ops")
BUCKET_PURPOSES: tuple[str, ...] = ("lineage", "audit", "access-logs")
# Many accounts (the optional accounts section): the hub's model artifact store, read by the stages.
ARTIFACTS_BUCKET_PURPOSE = "artifacts"
# Ledger kinds in the hub's clearance table that the stages' deployers read (lambdas/shared/clearance.py keeps
# "cleared"); a promotion record of a version into a stage is "promoted#<stage>#<model package ARN>".
PROMOTED = "promoted"
CLOUDTRAIL_PREFIX = "cloudtrail"  # where the trail writes inside the audit bucket
AUDIT_RECORDS_PREFIX = "decisions"  # where the handlers write one record per decision inside the audit bucket
# Lineage bucket layout, per project under projects/<project>/: what only the project's execution role
# (its governed pipeline) writes, what only the pipeline's publisher writes (the code the pipeline runs as the
# execution role: its bundle and the SageMaker SDK's uploads), and what the project's data scientists write
# (candidate data; their experiments, whose jobs run as the experiment role).
LINEAGE_EVIDENCE_PREFIXES: tuple[str, ...] = ("data", "runs", "models", "baselines")
LINEAGE_PIPELINE_CODE_PREFIXES: tuple[str, ...] = ("code", "sdk")
# The data the pipeline's Evaluate step judges every model on: published with the pipeline, never chosen, written
# or read by the people whose models it judges (a holdout they could read they could also train on).
HOLDOUT_PREFIX = "holdout"
# What services and handlers write under a project: Model Monitor's and the drift job's reports, data capture.
MONITORING_PREFIX = "monitoring"
CAPTURE_PREFIX = "capture"
LINEAGE_SERVICE_PREFIXES: tuple[str, ...] = (MONITORING_PREFIX, CAPTURE_PREFIX)
HOLDOUT_FILE = "holdout.csv"
LINEAGE_PEOPLE_PREFIXES: tuple[str, ...] = ("incoming", "experiments")
EXPERIMENTS_PREFIX = "experiments"
PEOPLE_JOBS_SEPARATOR = "--"
"""People's jobs are named ``<project>--<name>``: a project name (a slug) has no ``--``, so a session whose project
tag is a prefix of another project's name (``credit`` of ``credit-risk``) matches none of that project's jobs."""
BASELINE_REPORT = "baseline"  # a run's drift baseline: runs/<run>/baseline/baseline.json (pipelines/evidence.py)
# A run's reports, read by the people who judge a version (engineer, approver): runs/<run>/<report>/. The run's
# copy of its training data (runs/<run>/data/) is the project's data, read only as the project's data is.
RUN_REPORTS: tuple[str, ...] = ("validation", "evaluation", BASELINE_REPORT)
# Enforcement handlers the core names (the full table of handlers is lambdas/table.py).
APPROVAL_GATE = "approval-gate"
CLASSIFICATION_TAGS = "classification-tags"
REGION_GUARD = "region-guard"
MODEL_DEPLOYER = "model-deployer"
TAMPER_WATCH = "tamper-watch"
DEPLOYMENT_GUARD = "deployment-guard"
DRIFT_MONITOR = "drift-monitor"
# Construct id of the permissions boundary in the identity stack (its Terraform address is aws_iam_policy.<id>).
BOUNDARY_CONSTRUCT_ID = "permissions-boundary"
ENFORCEMENT_BOUNDARY_CONSTRUCT_ID = "enforcement-permissions-boundary"
# Tag on every resource naming the stack that created it (provider default tags).
STACK_TAG_KEY = "governance-stack"
# The audit trail's tamper alarms (and their metric filters), by id; what each watches is iam.boundary.TAMPERING_ALARMS.
TRAIL_TAMPERING_ALARM = "trail-tampering"
BOUNDARY_REMOVAL_ALARM = "boundary-removal"
TAMPER_ALARMS = (TRAIL_TAMPERING_ALARM, BOUNDARY_REMOVAL_ALARM)
# The outcomes of a Model Monitor run each monitored endpoint has an alarm on.
MONITORING_VIOLATIONS, MONITORING_FAILED = "violations", "failed"
MONITORING_OUTCOMES = (MONITORING_VIOLATIONS, MONITORING_FAILED)
_HANDLER_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_UNIQUE_SUFFIX = re.compile(r"_[0-9A-F]{8}$")


EXECUTION_ROLE_SUFFIX = "-sagemaker-execution"
"""What ends a project's SageMaker execution role name."""
EXPERIMENT_ROLE_SUFFIX = "-experiments"
"""What always ends a project's experiment role name (the role people's own jobs run as)."""


def bounded(name: str, limit: int) -> str:
    """``name`` if it fits in ``limit`` characters, else a prefix plus a stable hash suffix."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def construct_id(address: str) -> str:
    """``aws_s3_bucket.audit_bucket_85D46CD8`` or ``audit_bucket_85D46CD8`` -> ``audit_bucket``.

    A resource's name in synthesized JSON without its type and the hash suffix CDK Terrain adds.
    """
    return _UNIQUE_SUFFIX.sub("", address.split(".", 1)[-1])


@dataclass(frozen=True)
class Names:
    policy: GovernancePolicy
    account: str
    partition: str = "aws"

    @property
    def org(self) -> str:
        return self.policy.organization.name

    @property
    def region(self) -> str:
        return self.policy.regions.home

    # ---- KMS --------------------------------------------------------------------------
    def key_alias(self, purpose: str) -> str:
        assert purpose in KEY_PURPOSES, purpose
        return f"alias/{self.org}-ml-{purpose}"

    @property
    def key_alias_pattern(self) -> str:
        """Matches the aliases of every governance key (``kms:ResourceAliases`` conditions)."""
        return f"alias/{self.org}-ml-*"

    # ---- S3 ---------------------------------------------------------------------------
    def bucket(self, purpose: str) -> str:
        assert purpose in (*BUCKET_PURPOSES, ARTIFACTS_BUCKET_PURPOSE), purpose
        return f"{self.org}-ml-{purpose}-{self.account}-{self.region}"

    def is_bucket(self, purpose: str, name: str) -> bool:
        """Whether ``name`` is the ``purpose`` bucket of this organization and Region, in any account."""
        assert purpose in BUCKET_PURPOSES, purpose
        return name.startswith(f"{self.org}-ml-{purpose}-") and name.endswith(f"-{self.region}")

    @property
    def lineage_bucket(self) -> str:
        return self.bucket("lineage")

    @property
    def audit_bucket(self) -> str:
        return self.bucket("audit")

    @property
    def access_logs_bucket(self) -> str:
        return self.bucket("access-logs")

    @staticmethod
    def lineage_project_prefix(project: str) -> str:
        return f"projects/{project}"

    @classmethod
    def lineage_training_data(cls, project: str, filename: str) -> str:
        return f"{cls.lineage_project_prefix(project)}/data/{filename}"

    @classmethod
    def lineage_holdout(cls, project: str) -> str:
        """The data the governed pipeline evaluates every model of ``project`` on (its publisher publishes it)."""
        return f"{cls.lineage_project_prefix(project)}/{HOLDOUT_PREFIX}/{HOLDOUT_FILE}"

    @classmethod
    def lineage_run_data(cls, project: str, run: str) -> str:
        """Where a pipeline run keeps the copy of the training data it validated (pipelines/evidence.py)."""
        return f"{cls.lineage_project_prefix(project)}/runs/{run}/data/train.csv"

    @classmethod
    def lineage_run_reports(cls, project: str) -> list[str]:
        """Every run's reports of ``project`` (``*``: of every project), as key patterns."""
        return [f"{cls.lineage_project_prefix(project)}/runs/*/{report}/*" for report in RUN_REPORTS]

    @classmethod
    def lineage_run_report(cls, project: str, run: str, report: str) -> str:
        """Where a pipeline run's report lands: ``runs/<run>/<report>/<report>.json`` (pipelines/definition.py)."""
        return f"{cls.lineage_project_prefix(project)}/runs/{run}/{report}/{report}.json"

    @classmethod
    def lineage_drift_report(cls, project: str, endpoint: str, run: str) -> str:
        """Where the drift job writes the report of one run (``run``: the scheduled time, e.g. 2026-11-20T10:00:00Z)."""
        return f"{cls.lineage_monitoring_prefix(project, endpoint)}/drift/{run}.json"

    @classmethod
    def lineage_monitoring_prefix(cls, project: str, endpoint: str) -> str:
        """Monitoring output of an endpoint (Model Monitor's data-quality reports, the drift job's reports)."""
        return f"{cls.lineage_project_prefix(project)}/{MONITORING_PREFIX}/{endpoint}"

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    # ---- IAM --------------------------------------------------------------------------
    @property
    def boundary_policy(self) -> str:
        return f"{self.org}-ml-permissions-boundary"

    @property
    def boundary_policy_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:policy/{self.boundary_policy}"

    @property
    def enforcement_boundary_policy(self) -> str:
        return f"{self.org}-enforcement-permissions-boundary"

    @property
    def enforcement_boundary_policy_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:policy/{self.enforcement_boundary_policy}"

    @property
    def deployer_role(self) -> str:
        """The one role that creates models, endpoint configs and endpoints (the model-deployer function)."""
        return f"{self.org}-{MODEL_DEPLOYER}"

    def persona_role(self, persona: str) -> str:
        assert persona in PERSONAS, persona
        return f"{self.org}-{persona}"

    def execution_role(self, project: Project) -> str:
        """The role the project's governed pipeline runs as: it alone writes evidence and registers versions."""
        return bounded(f"{self.org}-{project.name}{EXECUTION_ROLE_SUFFIX}", 64)

    def experiment_role(self, project: Project) -> str:
        """The role a project's data scientists run their own jobs as: no evidence, no registration.

        The suffix survives any shortening, so ``experiment_roles`` matches every one and no other role.
        """
        return bounded(f"{self.org}-{project.name}", 64 - len(EXPERIMENT_ROLE_SUFFIX)) + EXPERIMENT_ROLE_SUFFIX

    @property
    def experiment_roles(self) -> str:
        """Every project's experiment role, as an ARN pattern."""
        return self.role_arn(f"{self.org}-*{EXPERIMENT_ROLE_SUFFIX}")

    def handler_role(self, handler: str) -> str:
        return f"{self.org}-{_handler(handler)}"

    @property
    def event_forwarding_role(self) -> str:
        return f"{self.org}-governance-event-forwarding"

    def role_arn(self, role: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{role}"

    # ---- SageMaker --------------------------------------------------------------------
    def model_package_group(self, project: Project) -> str:
        return project.name

    def model_package_group_arn(self, project: Project) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:model-package-group/{project.name}"

    def model_packages_arn(self, project: Project) -> str:
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:model-package/{project.name}/*"

    def data_quality_job_definition(self, endpoint: MonitoredEndpoint) -> str:
        return bounded(f"{endpoint.name}-data-quality", 63)

    def monitoring_schedule(self, endpoint: MonitoredEndpoint) -> str:
        return bounded(f"{endpoint.name}-data-quality", 63)

    # ---- many accounts (the accounts section) ----------------------------------------------
    @property
    def artifacts_bucket(self) -> str:
        """The hub's model artifact store: pipelines of entry stages write, the stages a project runs in read."""
        return self.bucket(ARTIFACTS_BUCKET_PURPOSE)

    @staticmethod
    def artifacts_prefix(project: str) -> str:
        return f"projects/{project}/models"

    def model_store(self, project: str) -> tuple[str, str]:
        """Where a project's model artifacts must be for the approval gate to pin them (bucket, key prefix): the
        pipeline's training output in this account's lineage bucket, or with many accounts the hub's artifact
        bucket, where the entry stages' pipelines write them. Both buckets are versioned."""
        accounts = self.policy.accounts
        if accounts is None:
            return self.lineage_bucket, self.artifacts_prefix(project)
        return Names(self.policy, account=accounts.hub, partition=self.partition).artifacts_bucket, self.artifacts_prefix(project)

    def artifact_key_alias(self, project: str) -> str:
        """One key per project for its model artifacts (matches ``key_alias_pattern``: the guardrails protect it)."""
        return f"alias/{self.org}-ml-artifacts-{project}"

    @staticmethod
    def artifact_key_output(project: str) -> str:
        """The hub registry stack's Terraform output holding the ARN of ``project``'s artifact key: what its
        pipelines encrypt their training output with (the hub's bucket refuses any other key)."""
        return f"artifact-key-{project}-arn"

    @property
    def clearance_reader_role(self) -> str:
        """The hub role the stages' deployers assume to read the approval gate's clearances and promotions."""
        return f"{self.org}-clearance-reader"

    def guardrail_policy(self, index: int) -> str:
        """Name of the index-th guardrail service control policy."""
        return f"{self.org}-ml-governance-guardrails-{index}"

    def hub_external_id(self, hub_account: str) -> str:
        """``sts:ExternalId`` the hub's handlers pass when assuming a workload account's enforcement role (not a secret:
        it keeps a role of another organization's hub from being used as a confused deputy)."""
        return f"{self.org}-ml-governance-{hub_account}"

    def event_bus_arn(self, account: str) -> str:
        """The default bus of ``account`` in the home Region."""
        return f"arn:{self.partition}:events:{self.region}:{account}:event-bus/default"

    def promotion_record(self, stage: str, package_arn: str) -> str:
        return f"{PROMOTED}#{stage}#{package_arn}"

    # ---- operations ---------------------------------------------------------------------
    @property
    def alerts_topic(self) -> str:
        return f"{self.org}-governance-alerts"

    @property
    def alerts_topic_arn(self) -> str:
        return f"arn:{self.partition}:sns:{self.region}:{self.account}:{self.alerts_topic}"

    @property
    def trail(self) -> str:
        return f"{self.org}-governance-trail"

    @property
    def trail_delivery_role(self) -> str:
        return f"{self.org}-cloudtrail-to-logs"

    @property
    def trail_log_group(self) -> str:
        return f"/aws/cloudtrail/{self.trail}"

    @property
    def idempotency_table(self) -> str:
        return f"{self.org}-governance-idempotency"

    @property
    def trail_arn(self) -> str:
        return f"arn:{self.partition}:cloudtrail:{self.region}:{self.account}:trail/{self.trail}"

    @property
    def audit_records_prefix(self) -> str:
        return AUDIT_RECORDS_PREFIX

    @property
    def home_event_bus_arn(self) -> str:
        return f"arn:{self.partition}:events:{self.region}:{self.account}:event-bus/default"

    def forwarding_rule(self, purpose: str) -> str:
        return f"{self.forwarding_rule_prefix}{purpose}"

    @property
    def forwarding_rule_prefix(self) -> str:
        return f"{self.org}-forward-"

    @property
    def idempotency_table_arn(self) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{self.idempotency_table}"

    def handler_function(self, handler: str) -> str:
        return f"{self.org}-{_handler(handler)}"

    def handler_rule(self, handler: str) -> str:
        return f"{self.org}-{_handler(handler)}"

    def handler_schedule_rule(self, handler: str) -> str:
        """The rule that runs a handler on a schedule (the deployment guard's sweep)."""
        return f"{self.handler_rule(handler)}-schedule"

    def lineage_capture_prefix(self, project: str, endpoint: str) -> str:
        """Where an endpoint the deployer creates captures its traffic (SageMaker data capture)."""
        return f"{self.lineage_project_prefix(project)}/{CAPTURE_PREFIX}/{endpoint}"

    def handler_rule_arn(self, handler: str) -> str:
        return f"arn:{self.partition}:events:{self.region}:{self.account}:rule/{self.handler_rule(handler)}"

    def handler_schedule_rule_arn(self, handler: str) -> str:
        return f"arn:{self.partition}:events:{self.region}:{self.account}:rule/{self.handler_schedule_rule(handler)}"

    def handler_function_arn(self, handler: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.handler_function(handler)}"

    @property
    def drift_schedule_group(self) -> str:
        """The EventBridge Scheduler group holding one drift-job schedule per endpoint (the schedule is named after it)."""
        return f"{self.org}-{DRIFT_MONITOR}"

    @property
    def drift_schedule_group_arn(self) -> str:
        return f"arn:{self.partition}:scheduler:{self.region}:{self.account}:schedule-group/{self.drift_schedule_group}"

    def drift_schedule_arn(self, endpoint: str) -> str:
        return f"arn:{self.partition}:scheduler:{self.region}:{self.account}:schedule/{self.drift_schedule_group}/{endpoint}"

    @property
    def drift_scheduler_role(self) -> str:
        """The role EventBridge Scheduler assumes to invoke the drift monitor."""
        return f"{self.org}-{DRIFT_MONITOR}-scheduler"

    def handler_log_group(self, handler: str) -> str:
        return f"/aws/lambda/{self.handler_function(handler)}"

    def handler_log_group_arn(self, handler: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{self.handler_log_group(handler)}"

    def tamper_alarm(self, alarm: str) -> str:
        """A tamper alarm of the audit trail (``TAMPER_ALARMS``), and its metric filter."""
        return f"{self.org}-{alarm}"

    def dead_letter_alarm(self, handler: str) -> str:
        return f"{self.dead_letter_queue(handler)}-not-empty"

    def handler_errors_alarm(self, handler: str) -> str:
        return f"{self.handler_function(handler)}-errors"

    def monitoring_alarm(self, endpoint: str, outcome: str) -> str:
        """The alarm on a Model Monitor endpoint's runs with ``outcome`` (``MONITORING_OUTCOMES``)."""
        return f"{self.org}-{endpoint}-monitoring-{outcome}"

    def dead_letter_queue(self, handler: str) -> str:
        return f"{self.org}-{_handler(handler)}-dlq"

    def dead_letter_queue_arn(self, handler: str) -> str:
        return f"arn:{self.partition}:sqs:{self.region}:{self.account}:{self.dead_letter_queue(handler)}"


def _handler(name: str) -> str:
    if not _HANDLER_NAME.match(name):
        raise ValueError(f"{name!r} is not a handler name (lowercase words joined by hyphens)")
    return name
