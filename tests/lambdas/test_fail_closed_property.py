"""Property: a model version never ends Approved when it is non-compliant or the gate cannot decide.

Hypothesis generates model versions (classification tags, metrics, reports, training data,
identities), AWS faults, and damaged events. For every event that names the version, the
version may stay Approved only if an independent oracle, written here from the policy's
words rather than from the rules module, says it is compliant and nothing went wrong.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from lambdas.approval_gate import handler as gate
from policies.model import GovernancePolicy
from tests.events import approval_event
from tests.lambdas.world import APPROVER, CREATOR, build_world, fail_calls

LEVELS = ["public", "internal", "confidential", "restricted"]


@dataclass(frozen=True)
class Scenario:
    level: str | None
    metrics: dict[str, float]
    report: str  # in-lineage | missing-object | none | outside | garbage
    training: str  # in-lineage | missing-object | none | outside
    identities: str  # distinct | same | unknown-approver
    fault: tuple[str, str, str] | None
    damage: str  # intact | drop-status | drop-arn | drop-detail | wrong-types | truncate
    cut: float


scenarios = st.builds(
    Scenario,
    level=st.sampled_from([*LEVELS, None, "secret"]),
    metrics=st.fixed_dictionaries(
        {},
        optional={
            "auc": st.floats(0, 1, allow_nan=False),
            "accuracy": st.floats(0, 1, allow_nan=False),
        },
    ),
    report=st.sampled_from(["in-lineage", "in-lineage", "missing-object", "none", "outside", "garbage"]),
    training=st.sampled_from(["in-lineage", "in-lineage", "missing-object", "none", "outside"]),
    identities=st.sampled_from(["distinct", "distinct", "same", "unknown-approver"]),
    fault=st.one_of(
        st.none(),
        st.none(),
        st.sampled_from(
            [
                ("sagemaker", "DescribeModelPackage", "ThrottlingException"),
                ("sagemaker", "DescribeModelPackageGroup", "AccessDeniedException"),
                ("sagemaker", "ListTags", "ThrottlingException"),
                ("s3", "GetObject", "AccessDenied"),
                ("s3", "HeadObject", "InternalError"),
                ("sagemaker", "UpdateModelPackage", "ThrottlingException"),
            ]
        ),
    ),
    damage=st.sampled_from(["intact", "intact", "intact", "drop-status", "drop-arn", "drop-detail", "wrong-types", "truncate"]),
    cut=st.floats(0.05, 0.95),
)


def compliant(s: Scenario) -> bool:
    """The policy's words for credit-risk: classification at least confidential, auc >= 0.80 and
    accuracy >= 0.75 in a readable report in the lineage bucket, training data there too, and
    approved by someone other than whoever registered it."""
    return (
        s.level in ("confidential", "restricted")
        and s.metrics.get("auc", -1) >= 0.80
        and s.metrics.get("accuracy", -1) >= 0.75
        and s.report == "in-lineage"
        and s.training == "in-lineage"
        and s.identities == "distinct"
    )


def damaged(event: dict[str, Any], s: Scenario) -> Any:
    if s.damage == "drop-status":
        event["detail"].pop("ModelApprovalStatus")
    elif s.damage == "drop-arn":
        event["detail"].pop("ModelPackageArn")
    elif s.damage == "drop-detail":
        event.pop("detail")
    elif s.damage == "wrong-types":
        event["detail"]["ModelPackageVersion"] = "two"
        event["time"] = 42
    elif s.damage == "truncate":
        text = json.dumps(event)
        return text[: int(len(text) * s.cut)]
    return event


def names_the_version(event: Any, arn: str) -> bool:
    return f'{arn}"' in (event if isinstance(event, str) else json.dumps(event))


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(s=scenarios)
def test_never_approved_when_non_compliant_or_undecidable(
    s: Scenario, policy: GovernancePolicy, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    with mock_aws():
        world = build_world(policy, tmp_path, monkeypatch)
        report_uri: str | None = {
            "in-lineage": "default",
            "missing-object": f"s3://{world.names.lineage_bucket}/projects/credit-risk/evaluation/nothing.json",
            "none": None,
            "outside": "s3://elsewhere-bucket/evaluation.json",
            "garbage": world.put_lineage("projects/credit-risk/evaluation/garbage.json", "<html>"),
        }[s.report]
        training_uri: str | None = {
            "in-lineage": "default",
            "missing-object": f"s3://{world.names.lineage_bucket}/projects/credit-risk/data/nothing.csv",
            "none": None,
            "outside": "s3://elsewhere-bucket/train.csv",
        }[s.training]
        if s.level != "confidential":
            group_arn = world.sagemaker().describe_model_package_group(ModelPackageGroupName="credit-risk")[
                "ModelPackageGroupArn"
            ]
            world.sagemaker().delete_tags(ResourceArn=group_arn, TagKeys=["data-classification"])
            if s.level is not None:
                world.sagemaker().add_tags(ResourceArn=group_arn, Tags=[{"Key": "data-classification", "Value": s.level}])
        arn = world.register("credit-risk", metrics=s.metrics, report_uri=report_uri, training_uri=training_uri)
        approver = {"distinct": APPROVER, "same": CREATOR, "unknown-approver": None}[s.identities]
        world.set_identities(arn, created_by=CREATOR, approved_by=approver)
        injected = [0]
        if s.fault is not None:
            # a write that keeps failing cannot be undone by anyone; transient write faults only
            injected = fail_calls("eu-west-1", *s.fault, times=1 if s.fault[1] == "UpdateModelPackage" else None)
        event = damaged(approval_event(arn), s)

        with contextlib.suppress(Exception):  # raising (retry, then DLQ) is allowed; the status is what matters
            gate.handler(event, lambda_context)

        if not names_the_version(event, arn):
            return  # nothing identifies the version: no action is possible; the event goes to the DLQ
        read_failed = injected[0] > 0 and s.fault is not None and s.fault[1] != "UpdateModelPackage"
        undecidable = read_failed or s.damage != "intact"
        if world.status(arn) == "Approved":
            assert compliant(s) and not undecidable, (s, world.description(arn), world.audit_records())
        else:
            assert world.audit_records(), "a version taken out of Approved must leave an audit record"
