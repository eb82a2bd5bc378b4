"""Read the deployed blueprint back through the AWS APIs and check the policy's guarantees hold.

Used by ``make deploy-local`` (against the embedded AWS) and usable against a real account
(``verify_deployment(aws, policy)`` with any object whose ``client(service)`` returns boto3 clients).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from lambdas.routing import forwarded_patterns
from lambdas.table import HANDLERS, HandlerSpec
from policies.model import OWNER_TAG_KEY, GovernancePolicy, MonitoringEngine
from policies.naming import DRIFT_MONITOR, KEY_PURPOSES, PERSONAS, Names


class ClientFactory(Protocol):
    def client(self, service: str, region: str | None = None) -> Any: ...


def _account(aws: ClientFactory) -> str:
    return str(aws.client("sts").get_caller_identity()["Account"])


# Guarantees the embedded AWS (moto 5.2.5) cannot show, because it does not keep the field.
# ``verify_deployment(..., unverifiable=EMBEDDED_AWS_GAPS)`` reports them instead of checking them.
EMBEDDED_AWS_GAPS: dict[str, str] = {
    "lambda-dead-letter-config": "moto 5.2.5 does not store a Lambda function's DeadLetterConfig (terraform sets it; real AWS returns it)",
}


# The guarantee groups the read-back checks, each by one ``_verify_<group>`` function, with what it checks.
GUARANTEES: dict[str, str] = {
    "keys": "customer-managed KMS keys (data, audit, ops) exist and rotate",
    "buckets": "lineage, audit and access-log buckets: SSE-KMS with a bucket key (access logs SSE-S3), versioning, public "
    "access blocked, TLS-only policy, access logging; audit bucket Object Lock mode and retention",
    "identity": "the permissions boundary allows only the policy's Regions; every persona and execution role carries it",
    "audit-trail": "multi-Region trail with log file validation into the audit bucket, audit-key encrypted and logging; "
    "tampering and boundary-removal metric filters with alarms",
    "registry": "one model package group per project, tagged with its classification and owner",
    "monitoring": "every declared endpoint monitored by its engine: a drift-job schedule targeting the drift monitor, "
    "or a Model Monitor data-quality job definition watching it",
    "enforcement": "every handler of the table traced, KMS-encrypted, dead-lettered (KMS queue) and bounded (ML or enforcement "
    "boundary); its rules and schedules target it with retry and DLQ; idempotency table encrypted; forwarding rules in "
    "every other watched Region",
}
# Which group each gap of the embedded AWS belongs to.
GAP_GROUPS: dict[str, str] = {"lambda-dead-letter-config": "enforcement"}


def verify_groups(
    aws: ClientFactory, policy: GovernancePolicy, unverifiable: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Problems per guarantee group; a group whose read fails reports that, without hiding the other groups."""
    names = Names(policy, account=_account(aws))
    skip = set(unverifiable or {})
    checks: dict[str, Callable[[], list[str]]] = {
        "keys": lambda: _verify_keys(aws, names),
        "buckets": lambda: _verify_buckets(aws, names),
        "identity": lambda: _verify_identity(aws, names),
        "audit-trail": lambda: _verify_audit_trail(aws, names),
        "registry": lambda: _verify_registry(aws, names),
        "monitoring": lambda: _verify_monitoring(aws, names),
        "enforcement": lambda: _verify_enforcement(aws, names, skip),
    }
    found: dict[str, list[str]] = {}
    for group, check in checks.items():
        try:
            found[group] = check()
        except Exception as exc:  # noqa: BLE001 - a missing resource is a finding of its group, not a crash
            found[group] = [f"could not read back: {type(exc).__name__}: {str(exc).splitlines()[0]}"]
    return found


def verify_deployment(aws: ClientFactory, policy: GovernancePolicy, unverifiable: Mapping[str, str] | None = None) -> list[str]:
    """Problems found; an empty list means every guarantee holds (except those named in ``unverifiable``)."""
    return [problem for problems in verify_groups(aws, policy, unverifiable).values() for problem in problems]


def key_arn_by_alias(aws: ClientFactory, alias: str) -> str | None:
    try:
        meta = aws.client("kms").describe_key(KeyId=alias)["KeyMetadata"]
    except Exception:  # noqa: BLE001 - a missing key is reported, not raised
        return None
    return str(meta["Arn"])


def _verify_keys(aws: ClientFactory, names: Names) -> list[str]:
    kms = aws.client("kms")
    problems = []
    for purpose in KEY_PURPOSES:
        alias = names.key_alias(purpose)
        arn = key_arn_by_alias(aws, alias)
        if arn is None:
            problems.append(f"KMS key {alias} does not exist")
            continue
        if not kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"]:
            problems.append(f"KMS key {alias} does not rotate")
        if kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyManager"] != "CUSTOMER":
            problems.append(f"KMS key {alias} is not customer-managed")
    return problems


def _verify_buckets(aws: ClientFactory, names: Names) -> list[str]:
    s3 = aws.client("s3")
    problems: list[str] = []
    expected_keys = {
        names.lineage_bucket: key_arn_by_alias(aws, names.key_alias("data")),
        names.audit_bucket: key_arn_by_alias(aws, names.key_alias("audit")),
        names.access_logs_bucket: None,
    }
    for bucket, key_arn in expected_keys.items():
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        default = rule["ApplyServerSideEncryptionByDefault"]
        if key_arn is not None:
            if default.get("SSEAlgorithm") != "aws:kms" or default.get("KMSMasterKeyID") != key_arn:
                problems.append(f"bucket {bucket} is not encrypted with its customer-managed key {key_arn}: {default}")
            if not rule.get("BucketKeyEnabled"):
                problems.append(f"bucket {bucket} has no S3 bucket key")
        elif default.get("SSEAlgorithm") != "AES256":
            problems.append(f"access-log bucket {bucket} should use SSE-S3, has {default}")
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            problems.append(f"bucket {bucket} is not versioned")
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if not all(
            block.get(flag) for flag in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        ):
            problems.append(f"bucket {bucket} does not block all public access: {block}")
        statements = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
        if not any(s.get("Sid") == "DenyInsecureTransport" and s.get("Effect") == "Deny" for s in statements):
            problems.append(f"bucket {bucket} policy does not deny insecure transport")
        if key_arn is not None:
            logging = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled", {})
            if logging.get("TargetBucket") != names.access_logs_bucket:
                problems.append(f"bucket {bucket} does not log access to {names.access_logs_bucket}: {logging}")
    lock = s3.get_object_lock_configuration(Bucket=names.audit_bucket)["ObjectLockConfiguration"]
    retention = lock.get("Rule", {}).get("DefaultRetention", {})
    audit = names.policy.audit
    if (
        lock.get("ObjectLockEnabled") != "Enabled"
        or retention.get("Mode") != audit.object_lock_mode.value
        or retention.get("Years") != audit.retention_years
    ):
        problems.append(
            f"audit bucket Object Lock is {lock}, policy wants {audit.object_lock_mode.value} for {audit.retention_years} years"
        )
    return problems


def _verify_identity(aws: ClientFactory, names: Names) -> list[str]:
    iam = aws.client("iam")
    problems: list[str] = []
    boundary_arn = names.boundary_policy_arn
    version = iam.get_policy(PolicyArn=boundary_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=boundary_arn, VersionId=version)["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(document)
    region_deny = next((s for s in document["Statement"] if s.get("Sid") == "DenyOutsideAllowedRegions"), None)
    allowed = (region_deny or {}).get("Condition", {}).get("StringNotEquals", {}).get("aws:RequestedRegion")
    if sorted(allowed or []) != sorted(names.policy.regions.allowed):
        problems.append(f"boundary denies Regions outside {allowed}, policy allows {names.policy.regions.allowed}")
    expected_roles = [names.persona_role(p) for p in PERSONAS] + [
        role for p in names.policy.projects for role in (names.execution_role(p), names.experiment_role(p))
    ]
    for role_name in expected_roles:
        role = iam.get_role(RoleName=role_name)["Role"]
        attached = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        if attached != boundary_arn:
            problems.append(f"role {role_name} carries boundary {attached!r}, expected {boundary_arn}")
    return problems


def _verify_audit_trail(aws: ClientFactory, names: Names) -> list[str]:
    if not names.policy.create_cloudtrail:
        return []
    cloudtrail, logs = aws.client("cloudtrail"), aws.client("logs")
    trail = cloudtrail.get_trail(Name=names.trail)["Trail"]
    problems = []
    if not (trail.get("IsMultiRegionTrail") and trail.get("LogFileValidationEnabled")):
        problems.append(f"trail {names.trail} is not multi-Region with log file validation")
    if trail.get("S3BucketName") != names.audit_bucket:
        problems.append(f"trail {names.trail} delivers to {trail.get('S3BucketName')}, not the audit bucket")
    if trail.get("KmsKeyId") != key_arn_by_alias(aws, names.key_alias("audit")):
        problems.append(f"trail {names.trail} is not encrypted with the audit key: {trail.get('KmsKeyId')}")
    if not cloudtrail.get_trail_status(Name=names.trail).get("IsLogging"):
        problems.append(f"trail {names.trail} is not logging")
    log_group = trail.get("CloudWatchLogsLogGroupArn", "").split(":log-group:")[-1].removesuffix(":*")
    filters = logs.describe_metric_filters(logGroupName=log_group)["metricFilters"] if log_group else []
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{names.org}-")["MetricAlarms"]
    for tampering in ("trail-tampering", "boundary-removal"):
        name = f"{names.org}-{tampering}"
        if name not in {f["filterName"] for f in filters}:
            problems.append(f"no metric filter {name} on the trail's log group {log_group!r}")
        if not any(a["AlarmName"] == name and a["AlarmActions"] == [names.alerts_topic_arn] for a in alarms):
            problems.append(f"no alarm {name} notifying {names.alerts_topic_arn}")
    return problems


def _verify_registry(aws: ClientFactory, names: Names) -> list[str]:
    sagemaker = aws.client("sagemaker")
    problems: list[str] = []
    tag_key = names.policy.classification.tag_key
    for project in names.policy.projects:
        group = sagemaker.describe_model_package_group(ModelPackageGroupName=names.model_package_group(project))
        tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=group["ModelPackageGroupArn"])["Tags"]}
        if tags.get(tag_key) != project.classification:
            problems.append(
                f"model package group {project.name} has {tag_key}={tags.get(tag_key)!r}, policy says {project.classification!r}"
            )
        if tags.get(OWNER_TAG_KEY) != project.owner_team:
            problems.append(
                f"model package group {project.name} has {OWNER_TAG_KEY}={tags.get(OWNER_TAG_KEY)!r}, policy says {project.owner_team!r}"
            )
    return problems


def _verify_monitoring(aws: ClientFactory, names: Names) -> list[str]:
    problems: list[str] = []
    drift_monitor = names.handler_function(DRIFT_MONITOR)
    for project in names.policy.projects:
        for endpoint in project.endpoints:
            if endpoint.engine is MonitoringEngine.MODEL_MONITOR:
                definition = aws.client("sagemaker").describe_data_quality_job_definition(
                    JobDefinitionName=names.data_quality_job_definition(endpoint)
                )
                if definition["DataQualityJobInput"]["EndpointInput"]["EndpointName"] != endpoint.name:
                    problems.append(f"data-quality job definition for {endpoint.name} watches another endpoint")
                continue
            schedule = aws.client("scheduler").get_schedule(Name=endpoint.name, GroupName=names.drift_schedule_group)
            target = schedule.get("Target", {})
            if not target.get("Arn", "").endswith(f":function:{drift_monitor}"):
                problems.append(f"drift schedule of {endpoint.name} targets {target.get('Arn')!r}, not {drift_monitor}")
            if schedule.get("State") != "ENABLED":
                problems.append(f"drift schedule of {endpoint.name} is {schedule.get('State')}")
            if schedule.get("ScheduleExpression") != endpoint.schedule:
                problems.append(
                    f"drift schedule of {endpoint.name} runs {schedule.get('ScheduleExpression')!r}, policy says {endpoint.schedule!r}"
                )
    return problems


def _dead_letter_queue_problems(sqs: Any, names: Names, spec: HandlerSpec, config: dict[str, Any], skip: set[str]) -> list[str]:
    """The handler's dead-letter queue: the function's dead-letter target, KMS-encrypted, and open to its rules."""
    problems = []
    name, function = names.dead_letter_queue(spec.name), config["FunctionName"]
    queue_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn", "KmsMasterKeyId", "Policy"])["Attributes"]
    if "lambda-dead-letter-config" not in skip and config.get("DeadLetterConfig", {}).get("TargetArn") != queue["QueueArn"]:
        problems.append(f"function {function} does not dead-letter to {queue['QueueArn']}")
    if not queue.get("KmsMasterKeyId"):
        problems.append(f"dead-letter queue {name} is not KMS-encrypted")
    statements = json.loads(queue["Policy"])["Statement"] if queue.get("Policy") else []
    lets_rules_deliver = any(
        s.get("Effect") == "Allow"
        and s.get("Principal") == {"Service": "events.amazonaws.com"}
        and "sqs:SendMessage" in s.get("Action", ())
        for s in statements
    )
    if (spec.route or spec.schedule) and not lets_rules_deliver:
        problems.append(f"dead-letter queue {name} has no policy letting its rules deliver what they could not")
    return problems


def _verify_enforcement(aws: ClientFactory, names: Names, skip: set[str]) -> list[str]:
    problems: list[str] = []
    lambda_, events, sqs, iam = aws.client("lambda"), aws.client("events"), aws.client("sqs"), aws.client("iam")
    ops_key = key_arn_by_alias(aws, names.key_alias("ops"))
    for spec in HANDLERS:
        handler = spec.name
        function = names.handler_function(handler)
        config = lambda_.get_function_configuration(FunctionName=function)
        if config.get("TracingConfig", {}).get("Mode") != "Active":
            problems.append(f"function {function} is not traced with X-Ray")
        if config.get("KMSKeyArn") != ops_key:
            problems.append(f"function {function} environment is not encrypted with {ops_key}: {config.get('KMSKeyArn')}")
        problems += _dead_letter_queue_problems(sqs, names, spec, config, skip)
        role_name = config["Role"].rsplit("/", 1)[-1]
        attached = iam.get_role(RoleName=role_name)["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        expected_boundary = names.boundary_policy_arn if spec.region_bound else names.enforcement_boundary_policy_arn
        if attached != expected_boundary:
            problems.append(f"role {role_name} of {function} carries boundary {attached!r}, expected {expected_boundary}")
        rules = [names.handler_rule(handler)] if spec.route else []
        rules += [names.handler_schedule_rule(handler)] if spec.schedule else []
        for rule in rules:
            targets = events.list_targets_by_rule(Rule=rule)["Targets"]
            if [t["Arn"] for t in targets] != [config["FunctionArn"]]:
                problems.append(f"rule {rule} does not target {function}: {[t['Arn'] for t in targets]}")
            elif "DeadLetterConfig" not in targets[0] or "RetryPolicy" not in targets[0]:
                problems.append(f"rule {rule} target has no retry policy or dead-letter queue")
    table = aws.client("dynamodb").describe_table(TableName=names.idempotency_table)["Table"]
    if table.get("SSEDescription", {}).get("Status") != "ENABLED":
        problems.append(f"idempotency table {names.idempotency_table} is not encrypted with a KMS key")
    for region in names.policy.regions.forwarded:
        rules = aws.client("events", region).list_rules(NamePrefix=names.forwarding_rule_prefix)["Rules"]
        if len(rules) != len(forwarded_patterns()):
            problems.append(f"{region} has {len(rules)} forwarding rules, expected {len(forwarded_patterns())}")
    return problems
