"""Every bad policy file is refused with a PolicyError naming file, field, line and fix, before anything is used.

One test (or parameter) per problem found in review: numbers, strict types, metric names, watched
Regions, global actions, AWS name and tag limits, empty projects, range messages, YAML syntax lines,
hostile files and the packaged JSON path.
"""

from __future__ import annotations

import ast
import hashlib
import json
import resource
import time
from pathlib import Path

import pytest
import yaml

from policies.errors import PolicyError
from policies.limits import bucket_name_problem, name_problem
from policies.loader import load_policy, parse_policy
from policies.model import KNOWN_METRICS, GovernancePolicy
from policies.terms import MAX_POLICY_BYTES
from policies.validated import DEFAULT_POLICY_PATH
from tests.conftest import REPO

DEFAULT_TEXT = DEFAULT_POLICY_PATH.read_text()
BAD = Path(__file__).with_name("bad_policies")
SOURCE = "policies/governance.yaml"


def refused(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, SOURCE)
    message = str(caught.value)
    assert message.startswith(f"invalid governance policy {SOURCE}: "), message
    return caught.value


def edited(*edits: tuple[str, str]) -> str:
    text = DEFAULT_TEXT
    for old, new in edits:
        assert old in text, f"fixture edit no longer applies: {old!r}"
        text = text.replace(old, new, 1)
    return text


def only_problem(*edits: tuple[str, str]) -> str:
    error = refused(edited(*edits))
    assert len(error.issues) == 1, str(error)
    return str(error).splitlines()[1].removeprefix("  - ")


PROJECTS_BLOCK = DEFAULT_TEXT[DEFAULT_TEXT.index("projects:") : DEFAULT_TEXT.index("approval:")]

# ---- 1. finite numbers, fractions -----------------------------------------------------------------
NUMBERS = [
    pytest.param(
        ("auc: {minimum: 0.80}", "auc: {minimum: .nan}"),
        "projects[0].metric_thresholds.auc.minimum (line 51): nan is not allowed: must be a finite number",
        id="nan-threshold",
    ),
    pytest.param(
        ("auc: {minimum: 0.80}", "auc: {minimum: .inf}"),
        "projects[0].metric_thresholds.auc.minimum (line 51): inf is not allowed: must be a finite number",
        id="inf-threshold",
    ),
    pytest.param(
        ("auc: 0.70", "auc: -.inf"),
        "approval.metric_minimums.auc (line 82): -inf is not allowed: must be a finite number",
        id="minus-inf-floor",
    ),
    pytest.param(
        ("auc: {minimum: 0.80}", "auc: {minimum: 80}"),
        "projects[0].metric_thresholds.auc.minimum (line 51): 80 is outside the range of auc (from 0 to 1): "
        "auc is a fraction, not a percentage; write 0.8 for 80 %",
        id="percentage",
    ),
    pytest.param(
        ("auc: 0.70", "auc: -0.5"),
        "approval.metric_minimums.auc (line 82): -0.5 is outside the range of auc (from 0 to 1)",
        id="negative-fraction",
    ),
    pytest.param(
        ("accuracy: {minimum: 0.75}", "accuracy: {maximum: 1e300}"),
        "projects[0].metric_thresholds.accuracy.maximum (line 52): 1e+300 is outside the range of accuracy (from 0 to 1)",
        id="huge",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), NUMBERS)
def test_numbers_are_finite_and_within_the_metric_range(edit: tuple[str, str], expected: str) -> None:
    assert only_problem(edit).startswith(expected)


# ---- 2. strict types ------------------------------------------------------------------------------
STRICT = [
    pytest.param(
        ("retention_years: 7", "retention_years: true"),
        "audit.retention_years (line 86): true is not a number: must be a whole number (years each audit record",
        id="bool-for-int",
    ),
    pytest.param(
        ("retention_years: 7", 'retention_years: "7"'),
        "audit.retention_years (line 86): '7' is text, not a number: write 7 without quotes",
        id="text-for-int",
    ),
    pytest.param(
        ("retention_years: 7", "retention_years: 7.5"),
        "audit.retention_years (line 86): 7.5 is not allowed: must be a whole number",
        id="float-for-int",
    ),
    pytest.param(
        ("auc: {minimum: 0.80}", 'auc: {minimum: "0.8"}'),
        "projects[0].metric_thresholds.auc.minimum (line 51): '0.8' is text, not a number: write 0.8 without quotes",
        id="text-for-float",
    ),
    pytest.param(
        ("auc: {minimum: 0.80}", "auc: {minimum: yes}"),
        "projects[0].metric_thresholds.auc.minimum (line 51): true is not a number: must be a number",
        id="bool-for-float",
    ),
    pytest.param(
        ("separation_of_duties: true", 'separation_of_duties: "true"'),
        "approval.separation_of_duties (line 77): 'true' is text: write true or false without quotes",
        id="text-for-bool",
    ),
    pytest.param(
        ("create_cloudtrail: true", "create_cloudtrail: 1"),
        "create_cloudtrail (line 101): 1 is not allowed: must be true or false",
        id="int-for-bool",
    ),
    pytest.param(
        ("schema_version: 1", "schema_version: true"),
        "schema_version (line 10): true is not a schema version: must be 1",
        id="bool-for-literal",
    ),
    pytest.param(
        ("owner_team: risk-analytics", "owner_team: no"),
        "projects[0].owner_team (line 48): false is not text: YAML reads unquoted yes, no, on, off, true and false as booleans",
        id="norway-for-text",
    ),
    pytest.param(
        ("owner_team: risk-analytics", "owner_team: 2024"),
        "projects[0].owner_team (line 48): 2024 is not text: it is a number; put it in quotes",
        id="number-for-text",
    ),
    pytest.param(
        ("cost-center: ml-platform", "on: ml-platform"),
        "organization.standard_tags (line 17): the key true is not text",
        id="bool-for-key",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), STRICT)
def test_no_value_is_coerced_to_another_type(edit: tuple[str, str], expected: str) -> None:
    assert only_problem(edit).startswith(expected)


def test_an_int_is_still_a_number_where_a_float_is_expected() -> None:
    policy = parse_policy(edited(("auc: {minimum: 0.80}", "auc: {minimum: 1}"), ("auc: 0.70", "auc: 0")), SOURCE)
    assert policy.projects[0].metric_thresholds["auc"].minimum == 1.0
    assert policy.approval.metric_minimums["auc"] == 0.0


def test_an_exponent_is_a_number_as_in_yaml_1_2() -> None:
    policy = parse_policy(edited(("auc: 0.70", "auc: 7e-1")), SOURCE)  # YAML 1.1 would read the text '7e-1'
    assert policy.approval.metric_minimums["auc"] == 0.7


# ---- 3. metric names ------------------------------------------------------------------------------
def test_known_metrics_are_what_the_governed_evaluation_step_reports() -> None:
    tree = ast.parse((REPO / "pipelines" / "steps" / "evaluate.py").read_text())
    reported = {
        key.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "metrics" for t in node.targets)
        for key in getattr(node.value, "keys", [])
        if isinstance(key, ast.Constant)
    }
    assert reported == set(KNOWN_METRICS)
    assert all((r.lowest, r.highest) == (0.0, 1.0) for r in KNOWN_METRICS.values())


def test_a_misspelled_metric_is_refused_with_a_suggestion() -> None:
    problem = only_problem(("accuracy: {minimum: 0.75}", "acuracy: {minimum: 0.75}"))
    assert problem.startswith(
        "projects[0].metric_thresholds.acuracy (line 52): 'acuracy' is not a metric the governed evaluation step reports: "
        "did you mean 'accuracy'? it reports accuracy, auc, f1, precision, recall"
    )
    assert "approval.custom_metrics" in problem


def test_an_organization_floor_on_an_unknown_metric_is_refused() -> None:
    problem = only_problem(("auc: 0.70", "auc: 0.70\n    rocauc: 0.5"))
    assert problem.startswith("approval.metric_minimums.rocauc (line 83): 'rocauc' is not a metric")


CUSTOM = "  custom_metrics:\n    log_loss: {minimum_value: 0, maximum_value: null}\n    coverage: {}\n  metric_minimums:"


def test_a_declared_custom_metric_is_accepted_within_its_range() -> None:
    text = edited(("accuracy: {minimum: 0.75}", "log_loss: {maximum: 3.5}"), ("  metric_minimums:", CUSTOM))
    policy = parse_policy(text, SOURCE)
    assert policy.approval.custom_metrics["log_loss"].maximum_value is None
    assert policy.approval.custom_metrics["coverage"].maximum_value == 1.0  # a fraction unless declared otherwise
    assert policy.metric_range("log_loss") is not None
    assert "log_loss" in policy.approval_requirements(policy.projects[0])
    assert policy.fingerprint != parse_policy(DEFAULT_TEXT, SOURCE).fingerprint


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            ("accuracy: {minimum: 0.75}", "log_loss: {maximum: -1}"),
            "projects[0].metric_thresholds.log_loss.maximum (line 52): -1 is outside the range of log_loss (at least 0)",
            id="below-declared-range",
        ),
        pytest.param(
            ("accuracy: {minimum: 0.75}", "coverage: {minimum: 95}"),
            "projects[0].metric_thresholds.coverage.minimum (line 52): 95 is outside the range of coverage (from 0 to 1): "
            "coverage is a fraction, not a percentage; write 0.95",
            id="custom-percentage",
        ),
    ],
)
def test_custom_metric_ranges_are_enforced(edit: tuple[str, str], expected: str) -> None:
    assert only_problem(edit, ("  metric_minimums:", CUSTOM)).startswith(expected)


def test_custom_metrics_may_not_redeclare_a_governed_one_or_invert_their_range() -> None:
    problem = only_problem(("  metric_minimums:", "  custom_metrics: {auc: {}}\n  metric_minimums:"))
    assert problem.startswith("approval.custom_metrics.auc (line 81): 'auc' is a governed metric (from 0 to 1); remove it")
    problem = only_problem(
        ("  metric_minimums:", "  custom_metrics: {mae: {minimum_value: 5, maximum_value: 1}}\n  metric_minimums:")
    )
    assert problem == "approval.custom_metrics.mae (line 81): minimum_value 5 must be below maximum_value 1"


# ---- 4. watched Regions ---------------------------------------------------------------------------
def test_an_allowed_region_must_be_watched() -> None:
    problem = only_problem(("allowed: [eu-west-1, eu-central-1]", "allowed: [eu-west-1, eu-central-1, ap-east-1, me-south-1]"))
    assert problem.startswith(
        "regions.watched (line 27): does not include ap-east-1, me-south-1: SageMaker calls there would never"
    )


def test_the_home_region_must_be_watched() -> None:
    problem = only_problem(("eu-north-1, eu-west-1, eu-west-2", "eu-north-1, eu-west-2"))
    assert problem.startswith("regions.watched (line 27): does not include eu-west-1")


def test_the_default_watched_list_is_checked_too() -> None:
    start, end = DEFAULT_TEXT.index("  watched:"), DEFAULT_TEXT.index("  # Global services")
    text = DEFAULT_TEXT[:start] + DEFAULT_TEXT[end:]
    assert parse_policy(text, SOURCE).regions.watched == parse_policy(DEFAULT_TEXT, SOURCE).regions.watched
    text = text.replace("allowed: [eu-west-1, eu-central-1]", "allowed: [eu-west-1, eu-central-1, ap-east-1]")
    assert only_problem_of(text).startswith("regions.watched (line 20): does not include ap-east-1")


def only_problem_of(text: str) -> str:
    error = refused(text)
    assert len(error.issues) == 1, str(error)
    return str(error).splitlines()[1].removeprefix("  - ")


# ---- 5. global service actions --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("'*'", "'*' would exempt every service from the Region restriction"),
        ("sagemaker:*", "'sagemaker:*' would exempt sagemaker, a service the blueprint governs"),
        ("s3:GetObject", "'s3:GetObject' would exempt s3"),
        ("kms:Decrypt", "'kms:Decrypt' would exempt kms"),
        ("events:PutRule", "'events:PutRule' would exempt events"),
        ("lambda:*", "'lambda:*' would exempt lambda"),
        ("cloudtrail:StopLogging", "'cloudtrail:StopLogging' would exempt cloudtrail"),
        ("logs:*", "'logs:*' would exempt logs"),
        ("iam:*", "actions listed twice: iam:*"),
    ],
)
def test_global_service_actions_may_not_exempt_a_governed_service(action: str, expected: str) -> None:
    problem = only_problem(("iam:*, organizations:*", f"iam:*, {action}, organizations:*"))
    assert problem.startswith(
        "regions.global_service_actions" + ("[7] (line 34): " if action != "iam:*" else " (line 32): ") + expected
    ), problem


def test_global_services_stay_allowed() -> None:
    policy = parse_policy(DEFAULT_TEXT, SOURCE)
    assert {"iam:*", "sts:*", "organizations:*"} <= set(policy.regions.global_service_actions)


# ---- 6. AWS naming rules and tag limits -----------------------------------------------------------
@pytest.mark.parametrize(
    ("org", "expected"),
    [
        ("sthree", "starts with 'sthree-', a prefix S3 reserves"),
        ("amzn-s3-demo", "starts with 'amzn-s3-demo-', a prefix S3 reserves"),
    ],
)
def test_an_organization_name_that_makes_a_bucket_name_s3_refuses(org: str, expected: str) -> None:
    problem = only_problem(("name: acme", f"name: {org}"))
    assert problem.startswith(f"organization.name (line 14): the S3 bucket name '{org}-ml-lineage-123456789012-eu-west-1'")
    assert expected in problem
    assert problem.endswith("choose a different organization.name")


def test_the_longest_organization_name_in_the_longest_region_still_fits() -> None:
    text = edited(
        ("name: acme", "name: abcdefghijklmnopqrst"),
        ("home: eu-west-1", "home: ap-southeast-5"),
        ("allowed: [eu-west-1, eu-central-1]", "allowed: [ap-southeast-5]"),
        ("us-east-2, us-west-1, us-west-2]", "us-east-2, us-west-1, us-west-2, ap-southeast-5]"),
    )
    policy = parse_policy(text, SOURCE)
    assert len(f"{policy.organization.name}-ml-access-logs-123456789012-{policy.regions.home}") == 63


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a" * 64, "is 64 characters; S3 allows 3 to 63"),
        ("xn--acme-ml-audit", "starts with 'xn--'"),
        ("acme-ml-audit-s3alias", "ends with '-s3alias'"),
        ("acme-ml-audit--ol-s3", "ends with '--ol-s3'"),
        ("acme-ml-audit--x-s3", "ends with '--x-s3'"),
        ("acme-ml-audit--table-s3", "ends with '--table-s3'"),
        ("acme..audit", "two adjacent dots"),
        ("Acme-audit", "lowercase letters"),
        ("192.168.1.1", "IP address"),
    ],
)
def test_bucket_name_rules(name: str, expected: str) -> None:
    problem = bucket_name_problem(name)
    assert problem is not None and expected in problem


def test_name_length_rules() -> None:
    assert name_problem("IAM role", "a" * 64) is None
    assert name_problem("IAM role", "a" * 65) == "is 65 characters; AWS allows at most 64"
    assert name_problem("Lambda function", "acme.gate") is not None


def test_every_name_the_shipped_policy_derives_is_valid() -> None:
    from policies.limits import derived_names

    policy = parse_policy(DEFAULT_TEXT, SOURCE)
    kinds = {kind for kind, _, _ in derived_names(policy)}
    assert {"S3 bucket", "IAM role", "Lambda function", "SQS queue", "KMS alias"} <= kinds
    for kind, name, _ in derived_names(policy):
        problem = bucket_name_problem(name) if kind == "S3 bucket" else name_problem(kind, name)
        assert problem is None, (kind, name, problem)


def test_a_resource_carries_at_most_50_tags() -> None:
    tags = "\n    ".join(f"tag-{i}: value" for i in range(44))
    # 44 + managed-by + the blueprint's 5 (a project role's ml-governance-role among them) = 50
    parse_policy(edited(("cost-center: ml-platform", tags)), SOURCE)
    problem = only_problem(("cost-center: ml-platform", tags + "\n    tag-44: value\n    tag-45: value"))
    assert problem.startswith("organization.standard_tags (line 16): a project's resources would carry 52 tags")
    assert "AWS allows 50 per resource: remove 2 standard tags" in problem


@pytest.mark.parametrize("key", ["ml-project", "owner-team", "governance-stack", "data-classification", "ml-governance-role"])
def test_standard_tags_may_not_set_a_tag_the_blueprint_sets(key: str) -> None:
    problem = only_problem(("cost-center: ml-platform", f"{key}: x"))
    assert problem.startswith(
        f"organization.standard_tags.{key} (line 17): the blueprint sets tag '{key}' on each resource itself"
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("cost-center: ml-platform", "aws:cost-center: x"), "uses the reserved 'aws:' prefix"),
        (("cost-center: ml-platform", f"{'k' * 129}: x"), "tag key must be 1 to 128 characters, got 129"),
        (("cost-center: ml-platform", f"cost-center: {'v' * 257}"), "must be 1 to 256 characters, got 257"),
    ],
)
def test_tag_keys_and_values_follow_aws_rules(edit: tuple[str, str], expected: str) -> None:
    assert expected in only_problem(edit)


def test_an_address_longer_than_an_address_may_be_is_refused_before_its_pattern_reads_it() -> None:
    """The address pattern takes time quadratic in the text (Python's re, policies/model/base.py): a 64,000-character
    address is refused on its length, in a moment, where reading it through the pattern took 6 s."""
    problem = only_problem(("  emails: []", f"  emails: ['a@{'x.' * 32_000}@']"))
    assert problem.startswith("notifications.emails[0] (line 97): ") and "characters: must be at most 254 characters" in problem


def test_an_address_holding_a_control_character_is_refused() -> None:
    """Python's re (the model's engine since 2026-11-27) counts U+001C-U+001F as white space where Rust's regex did
    not: an address holding one, which SNS would have been asked to subscribe, is refused now."""
    problem = only_problem(("  emails: []", '  emails: ["ops\\x1f@example.com"]'))
    assert problem.startswith("notifications.emails[0] (line 97): 'ops\\x1f@example.com' must be an email address")


# ---- 7. nothing governed --------------------------------------------------------------------------
def test_an_empty_project_list_is_refused_with_the_fix() -> None:
    problem = only_problem_of(DEFAULT_TEXT.replace(PROJECTS_BLOCK, "projects: []\n\n"))
    assert problem == (
        "projects (line 46): no project is governed: add at least one project (name, owner_team, classification) "
        "under projects, or set allow_no_projects: true to deploy the platform before any project exists"
    )
    assert only_problem_of(DEFAULT_TEXT.replace(PROJECTS_BLOCK, "")).startswith("projects (line 10): no project is governed")


def test_a_platform_without_projects_is_an_explicit_choice() -> None:
    policy = parse_policy(DEFAULT_TEXT.replace(PROJECTS_BLOCK, "allow_no_projects: true\nprojects: []\n\n"), SOURCE)
    assert policy.projects == [] and policy.allow_no_projects
    assert policy.platform_classification == "restricted"


# ---- 8. every refusal says what the field means and what is allowed -------------------------------
MESSAGES = [
    pytest.param(
        ("retention_years: 7", "retention_years: -1"),
        "audit.retention_years (line 86): -1 is not allowed: must be ≥ 1 (years each audit record stays locked against deletion)",
        id="greater_than_equal",
    ),
    pytest.param(
        ("retention_years: 7", "retention_years: 101"),
        "audit.retention_years (line 86): 101 is not allowed: must be ≤ 100 (years each audit record stays locked against deletion)",
        id="less_than_equal",
    ),
    pytest.param(
        ("levels: [public, internal, confidential, restricted]", "levels: []"),
        "classification.levels (line 39): the list is empty: must have at least 1 entry "
        "(classification levels ordered from least to most sensitive)",
        id="too_short",
    ),
    pytest.param(
        ("owner_team: risk-analytics", "owner_team: ''"),
        "projects[0].owner_team (line 48): the value is empty: must be at least 1 character (team that owns the project's models)",
        id="string_too_short",
    ),
    pytest.param(
        ("name: acme", f"name: {'a' * 25}"),
        "organization.name (line 14): 'aaaaaaaaaaaaaaaaaaaaaaaaa' is 25 characters: must be at most 20 characters "
        "(short lowercase name used as the prefix of every resource name)",
        id="string_too_long",
    ),
    pytest.param(
        ("- name: credit-risk-scoring", "- name: -scoring"),
        "projects[0].endpoints[0].name (line 54): '-scoring' must be letters, digits and hyphens, starting and ending with a "
        "letter or digit, at most 63 characters (name of the SageMaker endpoint)",
        id="string_pattern_mismatch",
    ),
    pytest.param(
        ("schema_version: 1", "schema_version: 2"),
        "schema_version (line 10): 2 is not allowed: must be 1 (version of the policy file format; 1 is the only one)",
        id="literal_error",
    ),
    pytest.param(
        ("object_lock_mode: COMPLIANCE", "object_lock_mode: compliance"),
        "audit.object_lock_mode (line 87): 'compliance' is not allowed: must be 'GOVERNANCE' or 'COMPLIANCE'; "
        "did you mean 'COMPLIANCE'? (how the audit records are locked)",
        id="enum",
    ),
    pytest.param(
        ("remediation: stop", "remediation: [stop]"),
        "classification.remediation (line 44): a list is not allowed: must be 'tag' or 'stop' (what enforce mode does",
        id="enum-not-text",
    ),
    pytest.param(
        ("levels: [public, internal, confidential, restricted]", "levels: public"),
        "classification.levels (line 39): 'public' is not a list: write [a, b] or one '- item' per line ([] for none) "
        "(classification levels ordered",
        id="list_type",
    ),
    pytest.param(
        ("  standard_tags:\n    cost-center: ml-platform\n    managed-by: ml-governance-blueprint", "  standard_tags: [a, b]"),
        "organization.standard_tags (line 16): a list is not a mapping: write 'name: value' entries ({} for none) "
        "(tags every resource carries)",
        id="dict_type",
    ),
    pytest.param(
        ("emails: []", "emails: [someone]"),
        "notifications.emails[0] (line 97): 'someone' must be an email address such as 'ml-alerts@example.com' "
        "(addresses subscribed to the governance alerts topic)",
        id="list-item-pattern",
    ),
    pytest.param(
        ("owner_team: risk-analytics", "owner_team: risk-analytics\n    owner: someone"),
        "projects[0].owner (line 49): unknown field 'owner'; allowed here: name, owner_team, classification, "
        "metric_thresholds, endpoints; did you mean 'owner_team'?",
        id="extra_forbidden",
    ),
    pytest.param(
        ("    owner_team: risk-analytics\n", ""),
        "projects[0].owner_team (line 47): required field is missing (team that owns the project's models)",
        id="missing",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), MESSAGES)
def test_every_refusal_names_the_meaning_and_the_fix(edit: tuple[str, str], expected: str) -> None:
    assert only_problem(edit).startswith(expected)


def test_every_pattern_of_the_policy_is_worded_when_a_value_misses_it() -> None:
    """A value that misses a field's pattern is told what the field takes in words (policies/loader.py's help), never
    shown the regular expression."""
    from policies.loader import _PATTERN_HELP
    from policies.schema import policy_schema

    patterns: set[str] = set()
    pending: list[object] = [policy_schema()]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            patterns.update([value["pattern"]] if isinstance(value.get("pattern"), str) else [])
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    assert len(patterns) >= 9 and patterns <= set(_PATTERN_HELP), sorted(patterns - set(_PATTERN_HELP))
    assert "must be an EventBridge schedule expression such as 'rate(1 hour)'" in only_problem(
        ("notifications:\n", "deployment:\n  sweep_schedule: every hour\nnotifications:\n")
    )


def test_a_section_that_is_not_a_mapping_lists_its_fields() -> None:
    start, end = DEFAULT_TEXT.index("audit:\n"), DEFAULT_TEXT.index("enforcement:\n")
    problem = only_problem_of(DEFAULT_TEXT[:start] + "audit: 7\n\n" + DEFAULT_TEXT[end:])
    assert problem.startswith(
        "audit (line 84): 7 is not a section: write its fields as 'field: value' lines (fields: retention_years, object_lock_mode)"
    )


# ---- 9. YAML syntax errors point at the real line -------------------------------------------------
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            ("allowed: [eu-west-1, eu-central-1]", "allowed: [eu-west-1, eu-central-1"),
            "(top level) (line 24): not valid YAML: the '[' on this line is not closed",
            id="unclosed-bracket",
        ),
        pytest.param(
            ("auc: {minimum: 0.80}", "auc: {minimum: 0.80"),
            "(top level) (line 51): not valid YAML: the '{' on this line is not closed",
            id="unclosed-brace",
        ),
        pytest.param(
            ("owner_team: risk-analytics", 'owner_team: "risk-analytics'),
            "(top level) (line 48): not valid YAML: the quote that starts on this line is not closed",
            id="unclosed-quote",
        ),
        pytest.param(
            ("    owner_team: customer-insights", "      owner_team: customer-insights"),
            "(top level) (line 59): not valid YAML: mapping values are not allowed here; check the indentation",
            id="indentation",
        ),
        pytest.param(
            ("owner_team: risk-analytics", 'owner_team: "risk-analytics\\U00110000"'),
            "(top level) (line 48): not valid YAML: the escape \\U00110000 names no character (the last is \\U0010FFFF)",
            id="escape-beyond-unicode",
        ),
        pytest.param(
            ("  home: eu-west-1", "\thome: eu-west-1"),
            "(top level) (line 22): not valid YAML: found character '\\t' that cannot start any token",
            id="tab",
        ),
    ],
)
def test_yaml_syntax_errors_point_at_the_line_to_fix(edit: tuple[str, str], expected: str) -> None:
    assert only_problem(edit).startswith(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!!int", "audit.retention_years (line 86): '' cannot be read as int"),
        ("!!float", "audit.retention_years (line 86): '' cannot be read as float"),
        ("!!bool", "audit.retention_years (line 86): '' cannot be read as bool"),
        ("!!bool maybe", "audit.retention_years (line 86): 'maybe' cannot be read as bool"),
    ],
)
def test_a_plain_tag_on_a_value_it_cannot_read_is_refused_with_the_line(value: str, expected: str) -> None:
    assert only_problem(("retention_years: 7", f"retention_years: {value}")) == expected


# ---- 10. hostile files ----------------------------------------------------------------------------
HOSTILE = [
    ("alias_bomb.yaml", "a (line 2): uses a YAML anchor (&a); a policy has no need for anchors or aliases"),
    ("recursive_alias.yaml", "organization (line 1): uses a YAML anchor (&org)"),
    ("python_tag.yaml", "organization.name (line 3): the YAML tag !!python/object/apply:os.system is not allowed"),
    ("several_documents.yaml", "(top level) (line 3): the file holds several YAML documents"),
    (
        "list_document.yaml",
        "(top level) (line 1): the policy must be a mapping of sections (organization, regions, ...); this file holds a list",
    ),
    (
        "scalar_document.yaml",
        "(top level) (line 1): the policy must be a mapping of sections (organization, regions, ...); this file holds a single value",
    ),
    (
        "latin1.yaml",
        "(top level) (line 3): the file is not UTF-8 text: byte 0xe9 at column 12 cannot be decoded; save it as UTF-8",
    ),
    ("nul_bytes.yaml", "(top level) (line 3): the file holds a NUL byte, so it is binary or UTF-16/32 text"),
    ("utf16.yaml", "(top level) (line 1): the file holds a NUL byte"),
    ("control_character.yaml", "(top level) (line 3): not valid YAML: character '\\x07' is not allowed"),
    ("deep_nesting.yaml", "the YAML nests more than 32 levels deep"),
    ("merge_key.yaml", "organization (line 3): merge keys (<<) are not allowed in a policy"),
]


@pytest.mark.parametrize(("name", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_file_is_refused_cleanly(name: str, expected: str) -> None:
    path = BAD / name
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"invalid governance policy {path}: 1 problem", lines
    assert expected in lines[1], lines


def test_the_alias_bomb_costs_no_time_and_no_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.thread_time()  # this thread's CPU: what the parser did, whatever else the machine runs
    for _ in range(100):
        with pytest.raises(PolicyError):
            load_policy(BAD / "alias_bomb.yaml")
    assert time.thread_time() - started < 2.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20_000  # KiB


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)  # sparse: costs no disk
    started = time.thread_time()
    with pytest.raises(PolicyError) as caught:
        load_policy(huge)
    assert time.thread_time() - started < 1.0
    assert "the file is 50.0 MiB; a policy file may be at most 1 MiB" in str(caught.value)
    with pytest.raises(PolicyError, match="a policy file may be at most 1 MiB"):
        parse_policy("#" * (MAX_POLICY_BYTES + 1), "text")
    with pytest.raises(PolicyError, match="a policy file may be at most 1 MiB"):
        parse_policy("é" * (MAX_POLICY_BYTES // 2 + 1), "text")  # 1 MiB + 2 bytes once encoded


def test_a_file_of_countless_values_is_refused_early() -> None:
    many = ", ".join(["a"] * 150_000)
    started = time.thread_time()
    problem = only_problem(("allowed: [eu-west-1, eu-central-1]", f"allowed: [{many}]"))
    assert time.thread_time() - started < 5.0
    assert problem.startswith("regions.allowed[99981] (line 24): the file holds more than 100,000 values")


def test_a_policy_of_a_thousand_projects_is_read(tmp_path: Path) -> None:
    """A policy grows by 28 to 56 values a project (one monitored endpoint): 1,000 projects load (10,000 values refused 354)."""
    data = load_policy().model_dump(mode="json")
    template = data["projects"][0]
    data["projects"] = [
        {
            **template,
            "name": f"project-{i:04d}",
            "endpoints": [{"name": f"project-{i:04d}-live", "schedule": "cron(0 * ? * * *)"}],
        }
        for i in range(1000)
    ]
    policy = tmp_path / "governance.yaml"
    policy.write_text(yaml.safe_dump(json.loads(json.dumps(data)), sort_keys=False))  # no shared values: no anchors
    assert [p.name for p in load_policy(policy).projects][-1] == "project-0999"


def test_a_huge_number_is_refused_without_parsing_it() -> None:
    problem = only_problem(("retention_years: 7", f"retention_years: {'9' * 5000}"))
    assert problem == "audit.retention_years (line 86): a number with 5000 digits is not one a policy can use"


def test_a_mapping_key_that_is_a_list_or_null_is_refused() -> None:
    assert only_problem(("  name: acme", "  name: acme\n  ? [a]\n  : x")).startswith(
        "organization (line 15): a key must be a plain name"
    )
    assert "the key null is not text" in only_problem(("  name: acme", "  name: acme\n  ~: x"))


def test_a_key_named_like_pydantics_key_marker_is_an_ordinary_key() -> None:
    assert only_problem(("cost-center: ml-platform", "'[key]': 5")).startswith(
        "organization.standard_tags.[key] (line 17): 5 is not text"
    )


def test_thousands_of_problems_make_a_readable_message() -> None:
    many = ", ".join(f"nowhere-{i}" for i in range(5000))
    error = refused(edited(("allowed: [eu-west-1, eu-central-1]", f"allowed: [eu-west-1, {many}]")))
    assert len(error.issues) == 5000
    message = str(error)
    assert message.count("\n") == 51 and message.endswith("... and 4950 more (fix these first)")


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file: Is a directory"):
        load_policy(tmp_path)
    with pytest.raises(PolicyError, match="cannot read the policy file: No such file or directory"):
        load_policy(tmp_path / "absent.yaml")


def test_duplicates_are_still_refused() -> None:
    assert only_problem(("  tag_key: data-classification", "  tag_key: data-classification\n  tag_key: other")).startswith(
        "classification.tag_key (line 38): key appears twice"
    )
    assert only_problem(("- name: churn-forecast-live", "- name: credit-risk-scoring")).startswith(
        "projects[1].endpoints[0].name (line 64): endpoint 'credit-risk-scoring' is already monitored at projects[0].endpoints[0].name"
    )


# ---- 11. the packaged JSON path --------------------------------------------------------------------
def test_the_packaged_json_round_trips() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert GovernancePolicy.model_validate_json(policy.model_dump_json()) == policy
    assert GovernancePolicy.model_validate_json(policy.model_dump_json(indent=2)).version == policy.version


def test_the_json_path_is_strict_too() -> None:
    document = json.loads(load_policy(DEFAULT_POLICY_PATH).model_dump_json())
    document["audit"]["retention_years"] = "7"
    with pytest.raises(ValueError, match="retention_years"):
        GovernancePolicy.model_validate_json(json.dumps(document))
    document["audit"]["retention_years"] = True
    with pytest.raises(ValueError, match="retention_years"):
        GovernancePolicy.model_validate_json(json.dumps(document))


def test_new_fields_at_their_defaults_leave_the_policy_version_unchanged() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    data = policy.model_dump(mode="json")
    del data["allow_no_projects"], data["approval"]["custom_metrics"], data["deployment"], data["accounts"]
    for project in data["projects"]:
        for endpoint in project["endpoints"]:
            del endpoint["engine"], endpoint["drift"]
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert policy.fingerprint == hashlib.sha256(canonical.encode()).hexdigest()[:16]
