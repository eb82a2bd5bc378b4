"""Once per event id: the handlers' store against Powertools' DynamoDB idempotency layer, which they used before.

Each case starts the idempotency table in the same state for both, on the same fixed clock, delivers the same event to
both, and compares what they do (the work run or not, the result, the error) and the record they leave, to the
second and the millisecond. A table written by one is read by the other, so records kept across an upgrade are
honoured.
"""

from __future__ import annotations

import datetime as real_datetime
import decimal
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.shared import aws, idempotency
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
NOW = 1_900_000_000.0  # a whole second; both implementations read this clock
WORK: list[Any] = []


def decide(event: dict[str, Any], context: Any) -> dict[str, Any]:
    WORK.append(event["id"])
    return {"decision": "allow", "subject": event.get("detail", {}).get("ModelPackageArn"), "attempt": len(WORK)}


def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    WORK.append(event["id"])
    raise ConnectionError("the audit bucket could not be reached")


@dataclass
class Verdict:
    decision: str


def decide_in_other_types(event: dict[str, Any], context: Any) -> dict[str, Any]:
    WORK.append(event["id"])
    return {"score": decimal.Decimal("0.91"), "verdict": Verdict("allow")}


def powertools_once(process: Callable[..., dict[str, Any]], event: dict[str, Any], context: Any) -> dict[str, Any]:
    """What ``once_per_event`` was: Powertools' idempotent function on its DynamoDB layer, configured as the handlers did;
    its exceptions named as the handlers' store names them."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyKeyError,
        IdempotencyPersistenceLayerError,
    )

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
    except IdempotencyKeyError as exc:
        raise EventWithoutId(str(exc)) from exc
    except IdempotencyPersistenceLayerError as exc:  # the table's own error, wrapped
        raise exc.__cause__ from exc  # type: ignore[misc]
    return result


IMPLEMENTATIONS = {"powertools": powertools_once, "handlers": once_per_event}


class FixedDatetime(real_datetime.datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        return real_datetime.datetime.fromtimestamp(NOW, tz)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both implementations at ``NOW``; the function named as Lambda names it."""
    import aws_lambda_powertools.utilities.idempotency.base as handler_base
    import aws_lambda_powertools.utilities.idempotency.persistence.base as persistence_base
    from aws_lambda_powertools.utilities.idempotency.persistence import datarecord, dynamodb

    fixed = types.SimpleNamespace(datetime=FixedDatetime, timedelta=real_datetime.timedelta)
    for module in (handler_base, persistence_base, datarecord, dynamodb):
        monkeypatch.setattr(module, "dt", fixed)
    monkeypatch.setattr(idempotency, "time", types.SimpleNamespace(time=lambda: NOW))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "acme-approval-gate")


@dataclass(frozen=True)
class Outcome:
    worked: int
    result: Any
    error: str | None
    records: tuple[tuple[tuple[str, Any], ...], ...]


def records(world: World) -> tuple[tuple[tuple[str, Any], ...], ...]:
    items = world.client("dynamodb").scan(TableName=world.names.idempotency_table)["Items"]
    return tuple(sorted(tuple(sorted((k, tuple(v.items())) for k, v in item.items())) for item in items))


def clear(world: World) -> None:
    table = world.client("dynamodb")
    for item in table.scan(TableName=world.names.idempotency_table)["Items"]:
        table.delete_item(TableName=world.names.idempotency_table, Key={"id": item["id"]})


def put_record(world: World, key: str, status: str, *, expires: float, deadline_ms: float | None, data: str | None) -> None:
    item: dict[str, Any] = {"id": {"S": key}, "status": {"S": status}, "expiration": {"N": str(int(expires))}}
    if deadline_ms is not None:
        item["in_progress_expiration"] = {"N": str(int(deadline_ms))}
    if data is not None:
        item["data"] = {"S": data}
    world.client("dynamodb").put_item(TableName=world.names.idempotency_table, Item=item)


STORED = '{"attempt": 0, "decision": "deny", "subject": "kept"}'
HOUR, MS = 3600, NOW * 1000
# The table as a delivery finds it, with the edges of the window (seconds) and of an invocation's deadline (ms).
STATES: dict[str, Callable[[World, str], None]] = {
    "first delivery": lambda world, key: None,
    "processed": lambda w, k: put_record(w, k, COMPLETED, expires=NOW + HOUR, deadline_ms=None, data=STORED),
    "processed, window ends now": lambda w, k: put_record(w, k, COMPLETED, expires=NOW, deadline_ms=None, data=STORED),
    "processed, window ended 1 s ago": lambda w, k: put_record(w, k, COMPLETED, expires=NOW - 1, deadline_ms=None, data=STORED),
    "in progress": lambda w, k: put_record(w, k, INPROGRESS, expires=NOW + HOUR, deadline_ms=MS + 50_000, data=None),
    "in progress, deadline now": lambda w, k: put_record(w, k, INPROGRESS, expires=NOW + HOUR, deadline_ms=MS, data=None),
    "in progress, deadline 1 ms ago": lambda w, k: put_record(
        w, k, INPROGRESS, expires=NOW + HOUR, deadline_ms=MS - 1, data=None
    ),
    "in progress, no deadline": lambda w, k: put_record(w, k, INPROGRESS, expires=NOW + HOUR, deadline_ms=None, data=None),
    "in progress, window over": lambda w, k: put_record(w, k, INPROGRESS, expires=NOW - 1, deadline_ms=MS + 50_000, data=None),
}
EXPECTED = {  # what the handlers' store does (and Powertools did) in each state: (work runs, error)
    "first delivery": (1, None),
    "processed": (0, None),
    "processed, window ends now": (0, None),
    "processed, window ended 1 s ago": (1, None),
    "in progress": (0, "EventInProgress"),
    "in progress, deadline now": (0, "EventInProgress"),
    "in progress, deadline 1 ms ago": (1, None),
    "in progress, no deadline": (0, "EventInProgress"),
    "in progress, window over": (1, None),
}


def deliver(
    world: World, context: Any, implementation: str, process: Callable[..., dict[str, Any]], event: dict[str, Any]
) -> Outcome:
    WORK.clear()
    result, error = None, None
    try:
        result = IMPLEMENTATIONS[implementation](process, event, context)
    except Exception as exc:  # noqa: BLE001 - the outcome compared
        error = type(exc).__name__
    return Outcome(len(WORK), result, error, records(world))


def both(world: World, context: Any, process: Callable[..., dict[str, Any]], event: dict[str, Any], state: str) -> list[Outcome]:
    outcomes = []
    for implementation in IMPLEMENTATIONS:
        clear(world)
        STATES[state](world, record_key(process, event.get("id")))
        outcomes.append(deliver(world, context, implementation, process, event))
    return outcomes


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("process", [decide, fail, decide_in_other_types], ids=["returns", "raises", "returns decimals"])
def test_each_delivery_is_handled_as_powertools_did(
    world: World, lambda_context: Any, clock: None, state: str, process: Callable[..., dict[str, Any]]
) -> None:
    before, now = both(world, lambda_context, process, approval_event(PACKAGE, event_id=EVENT_ID), state)
    assert now == before
    worked, error = EXPECTED[state]
    assert now.worked == worked
    assert now.error == (error or ("ConnectionError" if process is fail and worked else None))
    if state.startswith("processed") and not worked:
        assert now.result == {"attempt": 0, "decision": "deny", "subject": "kept"}


def test_a_record_written_by_either_is_honoured_by_the_other(world: World, lambda_context: Any, clock: None) -> None:
    """An upgrade keeps the table: a delivery processed before it is not processed again after it, and back."""
    for first, then in (("powertools", "handlers"), ("handlers", "powertools")):
        event = approval_event(PACKAGE)
        WORK.clear()
        kept = IMPLEMENTATIONS[first](decide, event, lambda_context)
        again = IMPLEMENTATIONS[then](decide, event, lambda_context)
        assert (WORK, again) == ([event["id"]], kept)


@pytest.mark.parametrize(
    "event_id",
    ["", None, [], {}, [None], {"k": None}, 0, False, 1.5, "日本語", {"a": 1}, [None, "x"]],
    ids=repr,
)
def test_an_id_is_found_or_refused_as_powertools_did(world: World, lambda_context: Any, clock: None, event_id: Any) -> None:
    before, now = both(world, lambda_context, decide, {"id": event_id}, "first delivery")
    assert now == before
    missing = event_id in ("", None, [], {}, [None], {"k": None})
    assert (now.worked, now.error) == ((0, "EventWithoutId") if missing else (1, None))


def test_a_refused_claim_answered_without_the_record_reads_it(world: World, lambda_context: Any, clock: None) -> None:
    """DynamoDB returns the record in the way with the refusal; when the answer lacks it, the record is read."""

    def without_the_record(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop("Item", None)

    aws.client("dynamodb").meta.events.register("after-call.dynamodb.PutItem", without_the_record)
    for state in ("processed", "in progress"):
        before, now = both(world, lambda_context, decide, approval_event(PACKAGE, event_id=EVENT_ID), state)
        assert now == before
        assert (now.worked, now.error) == EXPECTED[state]


@pytest.mark.parametrize("operation", ["PutItem", "UpdateItem", "DeleteItem"])
def test_a_table_that_fails_fails_the_delivery(world: World, lambda_context: Any, clock: None, operation: str) -> None:
    """The claim, the completion or the release failing is raised (the caller fails closed), leaving the table as
    Powertools left it: no claim, a claim in progress, a claim in progress."""

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, operation)

    aws.client("dynamodb").meta.events.register(f"before-call.dynamodb.{operation}", refuse)
    process = fail if operation == "DeleteItem" else decide
    before, now = both(world, lambda_context, process, approval_event(PACKAGE, event_id=EVENT_ID), "first delivery")
    assert now == before
    assert now.error == "ClientError"
    assert (now.worked, [dict(r)["status"] for r in now.records]) == (
        (0, []) if operation == "PutItem" else (1, [(("S", INPROGRESS),)])
    )


def test_the_record_key_is_the_function_and_the_event_id(world: World, lambda_context: Any, clock: None) -> None:
    event = approval_event(PACKAGE)
    once_per_event(decide, event, lambda_context)
    (item,) = world.client("dynamodb").scan(TableName=world.names.idempotency_table)["Items"]
    assert item["id"]["S"].startswith("acme-approval-gate.tests.lambdas.test_idempotency.decide#")
    assert item["id"]["S"] == record_key(decide, event["id"]) != record_key(decide, event["id"] + "x")


@pytest.mark.parametrize("refusals", [1, 2, 3, 5])
def test_a_record_gone_by_the_time_it_is_read_is_claimed_again_three_times_at_most(
    world: World, lambda_context: Any, clock: None, refusals: int
) -> None:
    """A claim refused for a record that is gone when read (it expired or was released meanwhile) is tried again, as
    Powertools did: up to three claims in all, then the delivery fails (and is retried by EventBridge)."""
    claims: list[str] = []

    def refuse(**_: Any) -> None:
        claims.append("claim")
        if len(claims) <= refusals:
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "in the way"}}, "PutItem")

    aws.client("dynamodb").meta.events.register("before-call.dynamodb.PutItem", refuse)
    seen = []
    for implementation in IMPLEMENTATIONS:
        clear(world)
        claims.clear()
        outcome = deliver(world, lambda_context, implementation, decide, approval_event(PACKAGE, event_id=EVENT_ID))
        seen.append((len(claims), outcome.worked, outcome.error is None))
    assert seen[0] == seen[1] == ((refusals + 1, 1, True) if refusals < 3 else (3, 0, False))
