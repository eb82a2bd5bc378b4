"""Once per event id: the handlers' store against Powertools' DynamoDB idempotency layer, which they used before.

Each case starts the idempotency table in the same state for both, delivers the same documented event to both, and
compares what they do (the work run or not, the result, the error) and the record they leave. A table written by one
is read by the other, so records kept across an upgrade are honoured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lambdas.shared import aws
from lambdas.shared.idempotency import (
    COMPLETED,
    IDEMPOTENCY_WINDOW_SECONDS,
    INPROGRESS,
    EventInProgress,
    EventWithoutId,
    once_per_event,
    record_key,
)
from lambdas.shared.settings import settings
from tests.events import approval_event
from tests.lambdas.world import ACCOUNT, REGION, World

PACKAGE = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/credit-risk/3"
EVENT_ID = "a7d6b3c1-5f0e-4c8a-9d2b-6e1f0a3b4c5d"
WORK: list[str] = []


def decide(event: dict[str, Any], context: Any) -> dict[str, Any]:
    WORK.append(event["id"])
    return {"decision": "allow", "subject": event["detail"]["ModelPackageArn"], "attempt": len(WORK)}


def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    WORK.append(event["id"])
    raise ConnectionError("the audit bucket could not be reached")


def powertools_once(process: Callable[..., dict[str, Any]], event: dict[str, Any], context: Any) -> dict[str, Any]:
    """What ``once_per_event`` was: Powertools' idempotent function on its DynamoDB layer, configured as the handlers did."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    config = IdempotencyConfig(
        event_key_jmespath="id", raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS
    )
    config.register_lambda_context(context)
    layer = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=aws.client("dynamodb"))
    try:
        result: dict[str, Any] = idempotent_function(data_keyword_argument="event", persistence_store=layer, config=config)(
            process
        )(event=event, context=context)
    except IdempotencyAlreadyInProgressError as exc:
        raise EventInProgress(str(exc)) from exc
    return result


IMPLEMENTATIONS = {"powertools": powertools_once, "handlers": once_per_event}


@dataclass(frozen=True)
class Outcome:
    worked: int
    result: Any
    error: str | None
    record: dict[str, Any] | None


def record_now(world: World, key: str) -> dict[str, Any] | None:
    """The record, its times made relative to now (seconds, milliseconds) and rounded, to compare across runs."""
    item = world.client("dynamodb").get_item(TableName=world.names.idempotency_table, Key={"id": {"S": key}}, ConsistentRead=True)
    if "Item" not in item:
        return None
    found = dict(item["Item"])
    now = time.time()
    if "expiration" in found:
        found["expiration"] = round((int(found["expiration"]["N"]) - now) / 60)
    if "in_progress_expiration" in found:
        found["in_progress_expiration"] = round((int(found["in_progress_expiration"]["N"]) / 1000 - now) / 60)
    return found


def put_record(
    world: World, key: str, status: str, *, expires_in: float, in_progress_for: float | None, data: Any = None
) -> None:
    now = time.time()
    item: dict[str, Any] = {"id": {"S": key}, "status": {"S": status}, "expiration": {"N": str(int(now + expires_in))}}
    if in_progress_for is not None:
        item["in_progress_expiration"] = {"N": str(int((now + in_progress_for) * 1000))}
    if data is not None:
        item["data"] = {"S": data}
    world.client("dynamodb").put_item(TableName=world.names.idempotency_table, Item=item)


STORED = '{"attempt": 0, "decision": "deny", "subject": "kept"}'
# The table as a delivery finds it: nothing, a finished record, one in progress, one whose invocation timed out, expired.
STATES: dict[str, Callable[[World, str], None]] = {
    "first delivery": lambda world, key: None,
    "already processed": lambda w, k: put_record(w, k, COMPLETED, expires_in=3600, in_progress_for=None, data=STORED),
    "in progress": lambda w, k: put_record(w, k, INPROGRESS, expires_in=3600, in_progress_for=50),
    "in progress, invocation timed out": lambda w, k: put_record(w, k, INPROGRESS, expires_in=3600, in_progress_for=-5),
    "in progress, no invocation deadline": lambda w, k: put_record(w, k, INPROGRESS, expires_in=3600, in_progress_for=None),
    "processed, window over": lambda w, k: put_record(w, k, COMPLETED, expires_in=-5, in_progress_for=None, data=STORED),
}


def deliver(world: World, context: Any, implementation: str, process: Callable[..., dict[str, Any]], state: str) -> Outcome:
    event = approval_event(PACKAGE, event_id=EVENT_ID)
    key = record_key(process, event["id"])
    world.client("dynamodb").delete_item(TableName=world.names.idempotency_table, Key={"id": {"S": key}})
    STATES[state](world, key)
    WORK.clear()
    result, error = None, None
    try:
        result = IMPLEMENTATIONS[implementation](process, event, context)
    except Exception as exc:  # noqa: BLE001 - the outcome compared
        error = type(exc).__name__
    return Outcome(len(WORK), result, error, record_now(world, key))


@pytest.fixture
def function_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "acme-approval-gate")


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("process", [decide, fail], ids=["work returns", "work raises"])
def test_each_delivery_is_handled_as_powertools_did(
    world: World, lambda_context: Any, function_name: None, state: str, process: Callable[..., dict[str, Any]]
) -> None:
    before = deliver(world, lambda_context, "powertools", process, state)
    now = deliver(world, lambda_context, "handlers", process, state)
    assert now == before
    if state in ("in progress", "in progress, no invocation deadline"):  # until the record's window is over
        assert (now.worked, now.error) == (0, "EventInProgress")
    elif state == "already processed":
        assert (now.worked, now.result) == (0, {"attempt": 0, "decision": "deny", "subject": "kept"})
    else:
        assert now.worked == 1


def test_a_record_written_by_either_is_honoured_by_the_other(world: World, lambda_context: Any, function_name: None) -> None:
    """An upgrade keeps the table: a delivery processed before it is not processed again after it, and back."""
    for first, then in (("powertools", "handlers"), ("handlers", "powertools")):
        event = approval_event(PACKAGE)
        WORK.clear()
        kept = IMPLEMENTATIONS[first](decide, event, lambda_context)
        again = IMPLEMENTATIONS[then](decide, event, lambda_context)
        assert (WORK, again) == ([event["id"]], kept)
        assert kept["attempt"] == 1


def test_the_record_key_is_the_function_and_the_event_id(world: World, lambda_context: Any, function_name: None) -> None:
    event = approval_event(PACKAGE)
    once_per_event(decide, event, lambda_context)
    (item,) = world.client("dynamodb").scan(TableName=world.names.idempotency_table)["Items"]
    assert item["id"]["S"].startswith("acme-approval-gate.tests.lambdas.test_idempotency.decide#")
    assert item["id"]["S"] == record_key(decide, event["id"]) != record_key(decide, event["id"] + "x")


@pytest.mark.parametrize("event", [{"detail": {}}, {"id": "", "detail": {}}, {"id": None}], ids=["no id", "empty", "null"])
def test_an_event_without_an_id_is_refused_before_any_work(
    world: World, lambda_context: Any, event: dict[str, Any], function_name: None
) -> None:
    WORK.clear()
    with pytest.raises(EventWithoutId):
        once_per_event(decide, event, lambda_context)
    assert WORK == []
    assert world.client("dynamodb").scan(TableName=world.names.idempotency_table)["Items"] == []
