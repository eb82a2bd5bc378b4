"""EventBridge delivers at least once: the same event id is processed once (a record per event id, DynamoDB).

The records have the layout, the key and the write conditions of Powertools' DynamoDB idempotency layer, which these
handlers used before, so a table written by it is read the same way (``tests/lambdas/test_idempotency.py`` runs both on
the same table). It is written here on the handlers' own botocore client: importing Powertools' idempotency utility
imports boto3 and its S3 transfer manager, about a tenth of a cold start (docs/benchmarks.md).

- Before the work, the event's record is put ``INPROGRESS``, on condition that there is none, that it expired, or that
  it is in progress for an invocation that has timed out.
- A record in the way: ``COMPLETED`` gives back the stored result and the work is not done again; ``INPROGRESS`` raises
  ``EventInProgress`` (another delivery is deciding: retry later).
- The work raising: the record is deleted (a retry does the work) and the exception goes on.
- The work returning: the record becomes ``COMPLETED`` with the result, kept for the window.

Any failure of the table itself is raised: the caller fails closed. Results are encoded as Powertools encodes them
(``Encoder``: decimals, dataclasses); an id Powertools would find missing (empty, or nothing but nulls) is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.shared.json_encoder import Encoder

from lambdas.shared import aws
from lambdas.shared.settings import settings

IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
INPROGRESS, COMPLETED = "INPROGRESS", "COMPLETED"
ATTEMPTS = 3  # a record that changes between the put and its answer (expired, deleted) is tried again
# Unlike first write wins, a record may be taken over once it expired or its invocation timed out.
CLAIM = (
    "attribute_not_exists(#id) OR #expiry < :now"
    " OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)"
)


class EventInProgress(RuntimeError):
    """Another delivery of the same event is being processed: retry later, do nothing now."""


class EventWithoutId(ValueError):
    """The event has no id to be processed once by."""


def record_key(process: Callable[..., Any], event_id: Any) -> str:
    """``<function name>.<module>.<qualname>#<md5 of the id as JSON>``, as Powertools keys it."""
    function = f"{os.getenv('AWS_LAMBDA_FUNCTION_NAME', 'test-func')}.{process.__module__}.{process.__qualname__}"
    digest = hashlib.md5(json.dumps(event_id, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
    return f"{function}#{digest}"


def _missing(event_id: Any) -> bool:
    """Whether Powertools would find no idempotency key in ``event_id`` (``is_missing_idempotency_key``)."""
    if isinstance(event_id, dict):
        return all(value is None for value in event_id.values())
    if isinstance(event_id, list | tuple):
        return all(value is None for value in event_id)
    return not isinstance(event_id, int | float) and not event_id


def _stored(item: dict[str, Any], now: float) -> tuple[str, Any] | None:
    """What a record in the way says: ("COMPLETED", result) or ("INPROGRESS", None); None when it no longer holds
    (expired, or in progress for a timed-out invocation) and the claim can be tried again."""
    status = item.get("status", {}).get("S")
    if float(item.get("expiration", {}).get("N", "0")) < int(now):
        return None
    if status == COMPLETED:
        data = item.get("data", {}).get("S")
        return COMPLETED, json.loads(data) if data else None
    if status == INPROGRESS:
        ends = item.get("in_progress_expiration", {}).get("N")
        return None if ends is not None and float(ends) < int(now * 1000) else (INPROGRESS, None)
    raise RuntimeError(f"idempotency record with an unknown status {status!r}")


def _claim(client: Any, table: str, key: str, context: Any) -> tuple[str, Any] | None:
    """Put the event's record in progress; None when claimed, else what the record in the way says."""
    for _ in range(ATTEMPTS):
        now = time.time()
        item = {
            "id": {"S": key},
            "expiration": {"N": str(int(now + IDEMPOTENCY_WINDOW_SECONDS))},
            "status": {"S": INPROGRESS},
        }
        if context is not None:  # when this invocation times out, the next delivery may take the record over
            item["in_progress_expiration"] = {"N": str(int((now + context.get_remaining_time_in_millis() / 1000) * 1000))}
        try:
            client.put_item(
                TableName=table,
                Item=item,
                ConditionExpression=CLAIM,
                ExpressionAttributeNames={
                    "#id": "id",
                    "#expiry": "expiration",
                    "#in_progress_expiry": "in_progress_expiration",
                    "#status": "status",
                },
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now))},
                    ":now_in_millis": {"N": str(int(now * 1000))},
                    ":inprogress": {"S": INPROGRESS},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except Exception as exc:
            if aws.error_code(exc) != "ConditionalCheckFailedException":
                raise
            found = getattr(exc, "response", {}).get("Item")
            if found is None:  # the answer did not carry the record in the way: read it
                found = client.get_item(TableName=table, Key={"id": {"S": key}}, ConsistentRead=True).get("Item")
            held = _stored(found, time.time()) if found else None
            if held is not None:
                return held
    raise RuntimeError(f"the idempotency record {key} kept changing while it was claimed")


def once_per_event(process: Callable[..., dict[str, Any]], event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run ``process(event=..., context=...)`` once per event id; a redelivery gets the stored result."""
    event_id = event.get("id") if isinstance(event, dict) else None
    if _missing(event_id):
        raise EventWithoutId(f"the event has no id ({event_id!r}): it cannot be processed once")
    client, table = aws.client("dynamodb"), settings().idempotency_table
    key = record_key(process, event_id)
    held = _claim(client, table, key, context)
    if held is not None:
        status, result = held
        if status == INPROGRESS:
            raise EventInProgress(f"event {event_id} is being processed by another delivery (record {key})")
        stored: dict[str, Any] = result
        return stored
    try:
        result = process(event=event, context=context)
    except Exception:
        client.delete_item(TableName=table, Key={"id": {"S": key}})
        raise
    client.update_item(
        TableName=table,
        Key={"id": {"S": key}},
        UpdateExpression="SET #response_data = :response_data, #expiry = :expiry, #status = :status",
        ExpressionAttributeNames={"#expiry": "expiration", "#response_data": "data", "#status": "status"},
        ExpressionAttributeValues={
            ":expiry": {"N": str(int(time.time() + IDEMPOTENCY_WINDOW_SECONDS))},
            ":response_data": {"S": json.dumps(result, cls=Encoder, sort_keys=True)},
            ":status": {"S": COMPLETED},
        },
    )
    return result
