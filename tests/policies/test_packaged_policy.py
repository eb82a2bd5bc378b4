"""The packaged policy: built again without validation only when its digest vouches for it, and then the same policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.model.packaged import NotTheModelsDump, validated_policy
from policies.packaged import digest_file, packaged_digest, vouched_for
from tests.conftest import REPO, policy_variant


def variants(policy: GovernancePolicy) -> list[GovernancePolicy]:
    """The shipped policy, the multi-account example, and variants that set what the shipped one leaves at defaults."""
    endpoint = {
        "name": "credit-risk-live",
        "schedule": "cron(0 * ? * * *)",
        "engine": "model-monitor",
        "baseline_uri": "s3://acme-baselines/credit-risk/",
    }
    return [
        policy,
        load_policy(REPO / "examples" / "multi-account" / "governance.yaml"),
        policy_variant(
            policy,
            allow_no_projects=True,
            projects=[],
            approval={"custom_metrics": {"lift": {"minimum_value": 0, "maximum_value": None}}, "metric_minimums": {"lift": 1}},
            deployment={"quarantine": "scale-to-zero", "sweep_schedule": "rate(2 hours)"},
            enforcement={"approval_gate": "report", "data_classification": "report", "region_restriction": "enforce"},
        ),
        policy_variant(
            policy,
            projects=[
                {
                    **policy.projects[0].model_dump(mode="json"),
                    "metric_thresholds": {"auc": {"minimum": 0.9, "maximum": 1}},
                    "endpoints": [endpoint],
                }
            ],
            classification={"remediation": "stop", "unattributed_level": None},
        ),
    ]


def test_a_validated_dump_builds_the_same_policy_without_validation(policy: GovernancePolicy) -> None:
    for original in variants(policy):
        dump = original.model_dump_json(indent=2)
        validated = GovernancePolicy.model_validate_json(dump)
        built = validated_policy(json.loads(dump))
        assert built == validated
        assert repr(built) == repr(validated)  # the same types all the way down: enums, models, lists, dicts
        assert built.version == validated.version == original.version
        assert built.model_dump_json(indent=2) == dump


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("create_cloudtrail"),
        lambda d: d.update(unknown=True),
        lambda d: d["projects"][0].pop("endpoints"),
        lambda d: d["regions"].update(extra="x"),
        lambda d: d.update(organization="acme"),
    ],
    ids=["missing field", "unknown field", "missing nested field", "unknown nested field", "not a section"],
)
def test_data_that_is_not_exactly_a_dump_of_the_model_is_refused(policy: GovernancePolicy, change: Any) -> None:
    data = policy.model_dump(mode="json")
    change(data)
    with pytest.raises(NotTheModelsDump):
        validated_policy(data)


def test_the_digest_vouches_only_for_the_bytes_it_was_made_for(policy: GovernancePolicy, tmp_path: Path) -> None:
    raw = (policy.model_dump_json(indent=2) + "\n").encode()
    path = tmp_path / "policy.json"
    path.write_bytes(raw)
    assert not vouched_for(path, raw)  # no digest beside it
    digest_file(path).write_text(packaged_digest(raw) + "\n")
    assert vouched_for(path, raw)
    assert not vouched_for(path, raw.replace(b'"acme"', b'"acmf"'))
    assert packaged_digest(raw) != packaged_digest(raw + b" ")
