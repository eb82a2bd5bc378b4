"""The governance policy file: the documented default loads, and every invalid case fails precisely."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from policies.errors import PolicyError
from policies.loader import load_policy, parse_policy
from policies.model import GovernancePolicy, MetricThreshold
from policies.schema import SCHEMA_PATH, rendered
from policies.validated import DEFAULT_POLICY_PATH
from tests.conftest import REPO

DEFAULT_TEXT = DEFAULT_POLICY_PATH.read_text()


def test_documented_default_policy_loads(policy: GovernancePolicy) -> None:
    assert policy.organization.name == "acme"
    assert policy.regions.home == "eu-west-1"
    assert policy.regions.allowed == ["eu-west-1", "eu-central-1"]
    assert [p.name for p in policy.projects] == ["credit-risk", "churn-forecast", "claims-triage"]
    assert policy.classification.levels == ["public", "internal", "confidential", "restricted"]


def test_project_requirements_merge_the_organization_floor(policy: GovernancePolicy) -> None:
    credit = policy.project("credit-risk")
    assert credit is not None
    assert policy.approval_requirements(credit) == {
        "accuracy": MetricThreshold(minimum=0.75),
        "auc": MetricThreshold(minimum=0.80),
    }
    stricter_floor = GovernancePolicy.model_validate(
        {**policy.model_dump(mode="json"), "approval": {"metric_minimums": {"auc": 0.7, "f1": 0.5}}}
    )
    churn = stricter_floor.project("churn-forecast")
    assert churn is not None
    assert stricter_floor.approval_requirements(churn) == {
        "auc": MetricThreshold(minimum=0.75),
        "f1": MetricThreshold(minimum=0.5),
    }


def test_fingerprint_follows_content_not_formatting(policy: GovernancePolicy) -> None:
    reformatted = parse_policy(DEFAULT_TEXT.replace("# hourly", "# every hour") + "\n\n", "x.yaml")
    assert reformatted.fingerprint == policy.fingerprint
    changed = parse_policy(DEFAULT_TEXT.replace("retention_years: 7", "retention_years: 8"), "x.yaml")
    assert changed.fingerprint != policy.fingerprint
    assert policy.version == f"v1-{policy.fingerprint}"


INVALID = [
    pytest.param(
        ("classification: internal", "classification: secret"),
        "projects[1].classification (line 60): 'secret' is not a classification level; allowed: public, internal, confidential, restricted",
        id="unknown-classification",
    ),
    pytest.param(
        ("allowed: [eu-west-1, eu-central-1]", "allowed: [eu-west-1, eu-west-9]"),
        "regions.allowed[1] (line 24): 'eu-west-9' is not an AWS Region name",
        id="not-a-region",
    ),
    pytest.param(
        ("home: eu-west-1", "home: us-east-1"),
        "regions.home (line 22): home Region 'us-east-1' is not in regions.allowed (eu-west-1, eu-central-1)",
        id="home-outside-allowed",
    ),
    pytest.param(
        ("- name: churn-forecast", "- name: credit-risk"),
        "projects[1].name (line 58): duplicate project 'credit-risk' (also projects[0])",
        id="duplicate-project",
    ),
    pytest.param(
        ("owner_team: risk-analytics", "owner_team: risk-analytics\n    owner: someone"),
        "projects[0].owner (line 49): unknown field 'owner'; allowed here: name, owner_team, classification, metric_thresholds, endpoints",
        id="unknown-field",
    ),
    pytest.param(
        ("auc: {minimum: 0.75}", "auc: {minimum: 0.6}"),
        "projects[1].metric_thresholds.auc.minimum (line 62): 0.6 is below the organization minimum 0.7",
        id="threshold-below-floor",
    ),
    pytest.param(
        ("cron(0 2 ? * * *)", "rate(1 hour)"),
        "projects[1].endpoints[0].schedule (line 65): 'rate(1 hour)' is not a schedule SageMaker Model Monitor accepts",
        id="bad-schedule",
    ),
    pytest.param(
        ("  tag_key: data-classification", "  tag_key: data-classification\n  tag_key: sensitivity"),
        "classification.tag_key (line 38): key appears twice in the same mapping",
        id="duplicate-key",
    ),
    pytest.param(
        ("unattributed_level: restricted", "unattributed_level: top-secret"),
        "classification.unattributed_level (line 41): 'top-secret' is not a classification level",
        id="unknown-unattributed-level",
    ),
    pytest.param(
        ("object_lock_mode: COMPLIANCE", "object_lock_mode: STRICT"),
        "audit.object_lock_mode (line 87): 'STRICT' is not allowed: must be 'GOVERNANCE' or 'COMPLIANCE' (how the audit records are locked)",
        id="bad-object-lock-mode",
    ),
    pytest.param(
        ("name: acme", "name: Acme_Corp"),
        "organization.name (line 14): 'Acme_Corp' must be lowercase letters and digits",
        id="bad-org-name",
    ),
    pytest.param(
        ("levels: [public,", "levels: [public,,"),
        "(top level) (line 39): not valid YAML",
        id="not-yaml",
    ),
    pytest.param(
        (
            "        instance_type: ml.m5.xlarge\n",
            "        instance_type: ml.m5.xlarge\n        drift:\n          features: [income, age, income]\n",
        ),
        "projects[0].endpoints[0].drift.features (line 58): income listed more than once; list each feature once",
        id="drift-feature-twice",
    ),
    pytest.param(
        ("region_restriction: enforce", "region_restriction: warn"),
        "enforcement.region_restriction (line 93): 'warn' is not allowed: must be 'enforce' or 'report'",
        id="bad-mode",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), INVALID)
def test_invalid_policy_names_file_field_and_fix(edit: tuple[str, str], expected: str) -> None:
    old, new = edit
    assert old in DEFAULT_TEXT, f"fixture edit no longer applies: {old!r}"
    with pytest.raises(PolicyError) as caught:
        parse_policy(DEFAULT_TEXT.replace(old, new, 1), "policies/governance.yaml")
    message = str(caught.value)
    assert message.startswith("invalid governance policy policies/governance.yaml: 1 problem"), message
    assert expected in message, message


def test_every_problem_is_reported_at_once() -> None:
    text = DEFAULT_TEXT.replace("name: acme", "name: ACME").replace("retention_years: 7", "retention_years: 0")
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    assert [i.loc for i in caught.value.issues] == [("organization", "name"), ("audit", "retention_years")]


def test_missing_and_empty_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"(?s)invalid governance policy .*nope\.yaml: 1 problem.*cannot read the policy file"):
        load_policy(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    with pytest.raises(PolicyError, match="the file is empty"):
        load_policy(empty)


def test_synth_with_an_invalid_policy_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "governance.yaml"
    bad.write_text(DEFAULT_TEXT.replace("classification: internal", "classification: secret"))
    result = subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "GOVERNANCE_POLICY": str(bad)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert f"invalid governance policy {bad}" in result.stderr
    assert "projects[1].classification" in result.stderr
    assert list(tmp_path.iterdir()) == [bad], "a failed synth must not write cdktf.out or anything else"


def test_json_schema_is_current_and_describes_fields() -> None:
    assert SCHEMA_PATH.read_text() == rendered(), "run `make schema` and commit policies/governance.schema.json"
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["additionalProperties"] is False
    assert "single source of truth" in schema["description"]
    assert "Object Lock" in schema["$defs"]["Audit"]["properties"]["retention_years"]["description"]
