"""Data-classification enforcement on SageMaker create calls, end to end in moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambdas.classification_tags import handler as classification
from lambdas.shared.events import MalformedEvent
from policies.model import GovernancePolicy
from tests.conftest import policy_variant
from tests.events import api_call_event, tag_call_event
from tests.lambdas.sagemaker_fixtures import create_model, create_training_job, job_status, tags_of
from tests.lambdas.world import REGION, World


def model_event(name: str, tags: dict[str, str]) -> dict[str, Any]:
    return api_call_event("CreateModel", name=name, region=REGION, tags=tags)


def test_compliant_resource_is_left_alone_with_one_allow_record(world: World, lambda_context: Any) -> None:
    tags = {"data-classification": "confidential", "ml-project": "credit-risk"}
    arn = create_model("credit-risk-model-1", tags)
    result = classification.handler(model_event("credit-risk-model-1", tags), lambda_context)
    assert result["decision"] == "allow"
    assert tags_of(arn) == tags
    (record,) = world.audit_records()
    assert (record["decision"], record["rule_set"], record["what"]) == ("allow", "data-classification", arn)
    assert record["who"] == "arn:aws:iam::123456789012:user/intern"
    assert record["evidence"]["required_level"] == "confidential"
    assert world.notifications() == []


def test_a_stricter_level_than_required_is_fine(world: World, lambda_context: Any) -> None:
    tags = {"data-classification": "restricted", "ml-project": "churn-forecast"}
    create_model("churn-forecast-m", tags)
    assert classification.handler(model_event("churn-forecast-m", tags), lambda_context)["decision"] == "allow"


@pytest.mark.parametrize(
    ("tags", "expected_message"),
    [
        pytest.param(
            {"ml-project": "credit-risk"},
            "model credit-risk-m has no 'data-classification' tag (project credit-risk requires 'confidential')",
            id="missing",
        ),
        pytest.param(
            {"ml-project": "credit-risk", "data-classification": "top-secret"},
            "data-classification='top-secret' on model credit-risk-m is not a classification level (public, internal, confidential, restricted)",
            id="unknown",
        ),
        pytest.param(
            {"ml-project": "credit-risk", "data-classification": "internal"},
            "data-classification='internal' on model credit-risk-m is below 'confidential' (project credit-risk)",
            id="too-low",
        ),
    ],
)
def test_violating_model_is_tagged_with_the_project_level(
    world: World, lambda_context: Any, tags: dict[str, str], expected_message: str
) -> None:
    arn = create_model("credit-risk-m", tags)
    result = classification.handler(model_event("credit-risk-m", tags), lambda_context)
    assert result["decision"] == "deny"
    assert tags_of(arn)["data-classification"] == "confidential"
    (record,) = world.audit_records()
    assert record["violations"] == [{"rule": "classification-tag", "message": expected_message}]
    assert record["action"]["kind"] == "tag-resource"
    assert record["action"]["result"] == "tagged data-classification=confidential"
    assert record["action"]["remediation"] == {"data-classification": "confidential"}
    (alert,) = world.notifications()
    assert alert["decision"] == "deny"


def test_project_is_found_by_name_prefix_when_untagged(world: World, lambda_context: Any) -> None:
    arn = create_model("claims-triage-xgb-7", {})
    classification.handler(model_event("claims-triage-xgb-7", {}), lambda_context)
    assert tags_of(arn)["data-classification"] == "restricted"


def test_unattributed_resource_requires_the_unattributed_level(world: World, lambda_context: Any) -> None:
    arn = create_model("adhoc-experiment", {"data-classification": "internal"})
    classification.handler(model_event("adhoc-experiment", {"data-classification": "internal"}), lambda_context)
    assert tags_of(arn)["data-classification"] == "restricted"
    (record,) = world.audit_records()
    assert record["evidence"]["because"] == "no governed project"


def test_violating_training_job_is_stopped_when_the_policy_says_stop(
    world: World, lambda_context: Any, policy: GovernancePolicy
) -> None:
    assert policy.classification.remediation.value == "stop"
    create_training_job("credit-risk-train-1", {"ml-project": "credit-risk"})
    event = api_call_event("CreateTrainingJob", name="credit-risk-train-1", region=REGION, tags={"ml-project": "credit-risk"})
    classification.handler(event, lambda_context)
    assert job_status("training-job", "credit-risk-train-1") == "Stopped"
    (record,) = world.audit_records()
    assert record["action"] == {
        "kind": "stop-job",
        "mode": "enforce",
        "result": "stopped training-job credit-risk-train-1",
        "remediation": {"data-classification": "confidential"},
    }


def test_a_job_named_after_a_less_strict_project_is_judged_by_the_role_it_runs_as(world: World, lambda_context: Any) -> None:
    """The restricted project's execution role (its pipeline, or published code) names a job after an internal project:
    the role in the call's own record (requestParameters.roleArn) ties it to the restricted project."""
    tags = {"data-classification": "internal"}
    create_training_job("churn-forecast-train-7", tags)
    event = api_call_event("CreateTrainingJob", name="churn-forecast-train-7", region=REGION, tags=tags)
    event["detail"]["requestParameters"]["roleArn"] = (
        f"arn:aws:iam::{world.names.account}:role/acme-claims-triage-sagemaker-execution"
    )
    assert classification.handler(event, lambda_context)["decision"] == "deny"
    assert job_status("training-job", "churn-forecast-train-7") == "Stopped"
    (record,) = world.audit_records()
    assert record["evidence"]["required_level"] == "restricted"
    assert record["evidence"]["because"] == "project claims-triage, whose role acme-claims-triage-sagemaker-execution it runs as"


def test_violating_job_is_tagged_when_the_policy_says_tag(world_for: Any, lambda_context: Any, policy: GovernancePolicy) -> None:
    world = world_for(policy_variant(policy, classification={"remediation": "tag"}))
    arn = create_training_job("credit-risk-train-2", {"ml-project": "credit-risk"})
    event = api_call_event("CreateTrainingJob", name="credit-risk-train-2", region=REGION, tags={"ml-project": "credit-risk"})
    classification.handler(event, lambda_context)
    assert job_status("training-job", "credit-risk-train-2") == "Completed"
    assert tags_of(arn)["data-classification"] == "confidential"
    assert world.audit_records()[0]["action"]["kind"] == "tag-resource"


def test_report_mode_only_records_and_alerts(world_for: Any, lambda_context: Any, policy: GovernancePolicy) -> None:
    world = world_for(policy_variant(policy, enforcement={"data_classification": "report"}))
    arn = create_model("credit-risk-m", {"ml-project": "credit-risk"})
    classification.handler(model_event("credit-risk-m", {"ml-project": "credit-risk"}), lambda_context)
    assert "data-classification" not in tags_of(arn)
    (record,) = world.audit_records()
    assert record["action"]["kind"] == "report-only"
    assert len(world.notifications()) == 1


def test_tags_added_after_creation_count(world: World, lambda_context: Any) -> None:
    """The decision reads the resource's current tags, not only those in the create request."""
    arn = create_model("credit-risk-late", {"ml-project": "credit-risk"})
    boto3.client("sagemaker", region_name=REGION).add_tags(
        ResourceArn=arn, Tags=[{"Key": "data-classification", "Value": "confidential"}]
    )
    assert (
        classification.handler(model_event("credit-risk-late", {"ml-project": "credit-risk"}), lambda_context)["decision"]
        == "allow"
    )


def test_resource_already_deleted_is_recorded_without_action(world: World, lambda_context: Any) -> None:
    result = classification.handler(model_event("credit-risk-gone", {"ml-project": "credit-risk"}), lambda_context)
    assert result["decision"] == "deny"
    assert result["action_result"] == "none: the resource no longer exists"
    assert len(world.audit_records()) == 1


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda e: e["detail"].pop("responseElements"), id="no-response-elements"),
        pytest.param(lambda e: e["detail"]["requestParameters"].update(tags="confidential"), id="tags-not-a-list"),
        pytest.param(lambda e: e["detail"].update(eventName="DeleteModel"), id="not-a-create-call"),
        pytest.param(lambda e: e["detail"].update(eventSource="s3.amazonaws.com"), id="wrong-source"),
        pytest.param(lambda e: e.pop("detail"), id="truncated"),
    ],
)
def test_malformed_events_are_recorded_as_undecidable_and_raised(world: World, lambda_context: Any, mutate: Any) -> None:
    arn = create_model("credit-risk-m", {"ml-project": "credit-risk"})
    event = model_event("credit-risk-m", {"ml-project": "credit-risk"})
    mutate(event)
    with pytest.raises(MalformedEvent):
        classification.handler(event, lambda_context)
    assert "data-classification" not in tags_of(arn)
    (record,) = world.audit_records()
    assert (record["decision"], record["violations"][0]["rule"]) == ("undecidable", "undecidable")
    assert record["violations"][0]["message"].startswith("malformed event: ")
    assert len(world.notifications()) == 1


def test_a_burst_of_distinct_events_gives_exactly_one_record_each(world: World, lambda_context: Any) -> None:
    """300 events in the suite; the 1,000-event bursts against the embedded AWS, with their throughput, are
    tests/benchmarks/bench_burst.py (docs/benchmarks.md)."""
    tags = {"data-classification": "confidential", "ml-project": "credit-risk"}
    create_model("credit-risk-burst", tags)
    events = [model_event("credit-risk-burst", tags) for _ in range(300)]
    for event in events:
        classification.handler(event, lambda_context)
    for event in events[:30]:  # some are delivered twice
        classification.handler(event, lambda_context)
    records = world.audit_records()
    assert len(records) == 300
    assert {r["event"]["id"] for r in records} == {e["id"] for e in events}


def test_a_classification_lowered_after_the_check_is_judged_again(world: World, lambda_context: Any) -> None:
    """A job passed its create call as confidential; an execution role then tags it public. The tag call is judged on
    the job's tags as they are now, and the job is stopped."""
    arn = create_training_job("credit-risk-train-3", {"data-classification": "confidential"})
    lowered = {"data-classification": "public"}
    boto3.client("sagemaker", region_name=REGION).add_tags(
        ResourceArn=arn, Tags=[{"Key": "data-classification", "Value": "public"}]
    )
    assert classification.handler(tag_call_event("AddTags", arn, lowered), lambda_context)["decision"] == "deny"
    assert job_status("training-job", "credit-risk-train-3") == "Stopped"
    (record,) = world.audit_records()
    assert record["evidence"]["tags"]["data-classification"] == "public"
    assert record["evidence"]["required_level"] == "confidential"


def test_a_tag_call_that_keeps_the_level_is_allowed(world: World, lambda_context: Any) -> None:
    arn = create_model("credit-risk-m2", {"data-classification": "confidential"})
    assert classification.handler(tag_call_event("AddTags", arn, {"team": "risk"}), lambda_context)["decision"] == "allow"


def test_a_tag_call_is_judged_with_the_role_the_job_runs_as(world: World, lambda_context: Any) -> None:
    """The role a job runs as is not in a tag call's record: it is read from the job. A restricted project's execution
    role names a job after an internal project, tagged restricted, then lowers the tag to internal."""
    role = f"arn:aws:iam::{world.names.account}:role/acme-claims-triage-sagemaker-execution"
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    arn = create_training_job("churn-forecast-train-8", {"data-classification": "restricted"}, role=role)
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "data-classification", "Value": "internal"}])
    assert (
        classification.handler(tag_call_event("AddTags", arn, {"data-classification": "internal"}), lambda_context)["decision"]
        == "deny"
    )
    (record,) = world.audit_records()
    assert record["evidence"]["because"] == "project claims-triage, whose role acme-claims-triage-sagemaker-execution it runs as"


def test_a_tag_call_on_a_resource_already_deleted_is_not_a_violation(world: World, lambda_context: Any) -> None:
    """Tags changed, then the model deleted (a teardown): there is nothing left whose tags could be wrong."""
    arn = create_model("credit-risk-m3", {"data-classification": "confidential"})
    boto3.client("sagemaker", region_name=REGION).delete_model(ModelName="credit-risk-m3")
    result = classification.handler(tag_call_event("DeleteTags", arn, {"team": ""}), lambda_context)
    assert result["decision"] == "allow"
    (record,) = world.audit_records()
    assert record["action"]["result"] == "none: the resource no longer exists"
    assert world.notifications() == []
