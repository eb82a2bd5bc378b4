"""The event and request readers: AWS's documented samples read as they are; anything else is refused, naming each problem."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.model_deployer.request import parse_request
from lambdas.shared.approval_events import ModelPackageStateChangeEvent
from lambdas.shared.call_events import SageMakerApiCallEvent, TamperCallEvent
from lambdas.shared.events import MalformedEvent, parse_model_package_event
from lambdas.shared.field_reader import EventShapeError
from policies.rules.tampering import BUS_POLICY_CALLS, DEFAULT_EVENT_BUS
from tests.events import CALL_FIXTURES, TAMPER_REQUESTS, load_event, tamper_event

REQUEST = {
    "model_package_arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/3",
    "endpoint_name": "credit-risk-live",
}


def test_the_documented_model_package_state_change_reads_as_published() -> None:
    sample = load_event("model_package_state_change")
    event = ModelPackageStateChangeEvent.read(sample)
    assert (event.id, event.account, event.region, event.resources) == (
        sample["id"],
        sample["account"],
        sample["region"],
        sample["resources"],
    )
    assert event.source == "aws.sagemaker"  # the sample repeats "source"; the last one, a list of one, is read
    assert event.time == datetime.fromisoformat(sample["time"].replace("Z", "+00:00"))
    assert event.time.tzinfo is not None
    detail = sample["detail"]
    assert event.detail.ModelPackageArn == detail["ModelPackageArn"]
    assert event.detail.ModelApprovalStatus == detail["ModelApprovalStatus"]
    assert event.detail.ModelPackageVersion == detail["ModelPackageVersion"]


@pytest.mark.parametrize("fixture", sorted({f for f, *_ in CALL_FIXTURES.values()}))
def test_every_documented_sagemaker_create_call_reads(fixture: str) -> None:
    sample = load_event(fixture)
    call = SageMakerApiCallEvent.read(sample).detail
    assert (call.eventSource, call.eventName, call.awsRegion) == (
        "sagemaker.amazonaws.com",
        sample["detail"]["eventName"],
        sample["detail"]["awsRegion"],
    )
    assert call.requestParameters == sample["detail"]["requestParameters"]
    assert call.userIdentity == sample["detail"]["userIdentity"]


@pytest.mark.parametrize("kind", sorted(TAMPER_REQUESTS))
def test_every_tamper_call_reads_and_names_its_target(kind: str) -> None:
    event = TamperCallEvent.read(tamper_event(kind))
    source, name, request = TAMPER_REQUESTS[kind]
    assert (event.detail.eventSource, event.detail.eventName) == (source, name)
    implied = {DEFAULT_EVENT_BUS} if name in BUS_POLICY_CALLS else set()  # a bus policy call may leave its bus unnamed
    lists = [tuple(v) for v in request.values() if isinstance(v, list) and all(isinstance(x, str) for x in v)]
    named = {v for v in request.values() if isinstance(v, str)} | {x for names in lists for x in names} | implied
    assert event.targets and set(event.targets) <= named  # DeleteAlarms names a list, a metric filter call two names
    assert all(set(names) <= set(event.targets) for names in lists)  # every alarm of the list
    assert event.target == ", ".join(event.targets)


def changed(change: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("model_package_state_change"))
    change(event)
    return event


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e["detail"].pop("ModelPackageArn"), "detail.ModelPackageArn: Field required"),
        (
            lambda e: e["detail"].update(ModelPackageArn="arn:aws:s3:::bucket"),
            "detail.ModelPackageArn: String should match pattern",
        ),
        (lambda e: e["detail"].update(ModelApprovalStatus="Approve"), "detail.ModelApprovalStatus: Input should be 'Approved', "),
        (lambda e: e["detail"].update(ModelPackageGroupName=""), "detail.ModelPackageGroupName: String should have at least 1"),
        (
            lambda e: e["detail"].update(ModelPackageVersion="three"),
            "detail.ModelPackageVersion: Input should be a valid integer",
        ),
        (lambda e: e.update({"detail-type": "AWS API Call via CloudTrail"}), "detail-type: Input should be 'SageMaker Model"),
        (lambda e: e.update(time="yesterday"), "time: Input should be a valid datetime"),
        (lambda e: e.update(resources="arn:aws:sagemaker:x"), "resources: Input should be a valid list"),
        (lambda e: e.update(resources=[1]), "resources.0: Input should be a valid string"),
        (lambda e: e.update(account=123456789012), "account: Input should be a valid string"),
        (lambda e: e.pop("detail"), "detail: Field required"),
        (lambda e: e.update(detail=["x"]), "detail: Input should be a valid dictionary"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(change: Any, problem: str) -> None:
    with pytest.raises(EventShapeError) as refused:
        ModelPackageStateChangeEvent.read(changed(change))
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_every_problem_is_kept_and_the_message_names_the_first_five() -> None:
    with pytest.raises(EventShapeError) as refused:
        ModelPackageStateChangeEvent.read({"detail": {}})
    problems = refused.value.problems
    assert len(problems) > 5
    assert str(refused.value) == "; ".join(problems[:5])
    with pytest.raises(EventShapeError, match=r"^event: Input should be a valid dictionary"):
        ModelPackageStateChangeEvent.read(["not", "an", "event"])


def test_a_unix_time_reads_as_the_same_instant() -> None:
    for raw in (1614186014, 1614186014000, "1614186014"):
        event = ModelPackageStateChangeEvent.read(changed(lambda e, raw=raw: e.update(time=raw)))
        assert event.time == datetime(2021, 2, 24, 17, 0, 14, tzinfo=UTC)
    for raw in ("٣", "nan", float("inf"), True):  # another script's digit, not a finite number, not a number
        with pytest.raises(EventShapeError, match=r"^time: Input should be a valid datetime"):
            ModelPackageStateChangeEvent.read(changed(lambda e, raw=raw: e.update(time=raw)))


def test_a_sagemaker_reader_refuses_another_services_call() -> None:
    with pytest.raises(EventShapeError, match=r"detail\.eventSource: Input should be 'sagemaker\.amazonaws\.com'"):
        SageMakerApiCallEvent.read(tamper_event("disable-rule"))


def test_a_deployment_request_keeps_its_id() -> None:
    """Ids are content hashes recorded in the audit trail: the same request keeps the id it had under the pydantic model."""
    assert parse_request(REQUEST).request_id == "deploy-badb03263e27c9b99cfea57cbb7e2bb4"
    with_stage = {**REQUEST, "stage": "prod", "instance_count": 2}
    assert parse_request(with_stage).request_id == "deploy-ed7eb9235efec4d5271f35e3ec96ce34"
    assert parse_request({**REQUEST, "stage": None}).request_id == parse_request(REQUEST).request_id


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"instance_count": True}, "instance_count: Input should be a valid integer"),
        ({"instance_count": "2"}, "instance_count: Input should be a valid integer"),
        ({"instance_count": 11}, "instance_count: Input should be less than or equal to 10"),
        ({"instance_count": 0}, "instance_count: Input should be greater than or equal to 1"),
        ({"instance_type": "m5.large"}, "instance_type: String should match pattern"),
        ({"stage": "a-very-long-stage-name"}, "stage: String should have at most 16 characters"),
        ({"endpoint_name": 7}, "endpoint_name: Input should be a valid string"),
        ({"replicas": 2}, "replicas: Extra inputs are not permitted"),
    ],
)
def test_a_deployment_request_is_read_strictly(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedEvent, match=f"^not a deployment request: .*{problem}"):
        parse_request({**REQUEST, **change})


@pytest.mark.parametrize("version", ["²", "①", "٣", "9" * 5000, "+3", " 3"])
def test_a_version_that_is_not_plain_ascii_digits_is_refused(version: str) -> None:
    with pytest.raises(EventShapeError, match=r"detail\.ModelPackageVersion: Input should be a valid integer"):
        ModelPackageStateChangeEvent.read(changed(lambda e: e["detail"].update(ModelPackageVersion=version)))


def test_a_pattern_is_matched_to_the_very_end_of_the_value() -> None:
    """Python's ``$`` also matches before a final newline; the readers' patterns do not."""
    with pytest.raises(EventShapeError, match=r"detail\.ModelPackageArn: String should match pattern"):
        ModelPackageStateChangeEvent.read(changed(lambda e: e["detail"].update(ModelPackageArn=e["resources"][0] + "\n")))
    for field in ("model_package_arn", "endpoint_name"):
        with pytest.raises(MalformedEvent, match=f"{field}: String should match pattern"):
            parse_request({**REQUEST, field: REQUEST[field] + "\n"})
    for field, value in (("instance_type", "ml.m5.large\n"), ("stage", "prod\n")):
        with pytest.raises(MalformedEvent, match=f"{field}: String should match pattern"):
            parse_request({**REQUEST, field: value})


def test_text_that_cannot_be_written_is_refused() -> None:
    with pytest.raises(EventShapeError, match=r"detail\.ModelPackageGroupName: Input should be a valid string"):
        ModelPackageStateChangeEvent.read(changed(lambda e: e["detail"].update(ModelPackageGroupName="x\ud800")))
    with pytest.raises(MalformedEvent, match="endpoint_name: Input should be a valid string"):
        parse_request({**REQUEST, "endpoint_name": "credit-risk\udfff"})


def test_a_reader_that_fails_unexpectedly_makes_the_event_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(event: Any) -> Any:
        raise OverflowError("a value no check foresaw")

    monkeypatch.setattr(ModelPackageStateChangeEvent, "read", broken)
    with pytest.raises(MalformedEvent, match=r"unreadable \(OverflowError: a value no check foresaw\)"):
        parse_model_package_event(load_event("model_package_state_change"))
