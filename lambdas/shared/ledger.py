"""What a handler remembers about one event across retries, in the idempotency table.

- **facts**: what the decision was made on, stored by the first attempt before it acts. A retry
  after a partial failure decides on the same facts (not on a world its own action changed, such as
  a model version it already rejected) and so reaches the same decision and the same audit record.
- **alerted**: that the alert of an audit record went out, marked after the publish. A retry whose
  record already exists still sends the alert the failed attempt did not.
- **acted**: what an action did (deleted the endpoint, stopped the job), stored right after it. A retry after the
  record or the alert failed reports what the first attempt did, instead of acting again, finding it done and
  recording "already gone".

Items expire with the idempotency window (TTL attribute ``expiration``). An unreachable table is an
error: the caller fails closed (holds back, or leaves the event to be retried).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from lambdas.shared import aws
from lambdas.shared.settings import settings
from policies.rules.outcome import Action, Decision

WINDOW_SECONDS = 24 * 3600
ACTED = "acted"


def _table() -> tuple[Any, str]:
    return aws.client("dynamodb"), settings().idempotency_table


def remembered(kind: str, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The value stored for ``kind#key``; on the first call, ``compute()`` stored (conditionally, first writer wins)."""
    client, table = _table()
    item_id = f"{kind}#{key}"
    found = client.get_item(TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True).get("Item")
    if found:
        stored: dict[str, Any] = json.loads(found["value"]["S"])
        return stored
    value = compute()
    try:
        client.put_item(
            TableName=table,
            Item={
                "id": {"S": item_id},
                "value": {"S": json.dumps(value, sort_keys=True, default=str)},
                "expiration": {"N": str(int(time.time()) + WINDOW_SECONDS)},
            },
            ConditionExpression="attribute_not_exists(id)",
        )
    except Exception as exc:
        if aws.error_code(exc) != "ConditionalCheckFailedException":
            raise
        return remembered(kind, key, compute)  # a concurrent attempt stored first: use its facts
    return value


def acted_once(key: str, decision: Decision, act: Callable[[], str]) -> str:
    """The result of ``act()`` carrying out ``decision`` for ``key`` (the handler, the event, and the target when an
    event has several): done by the first attempt that got through it, reported again by every retry. A decision
    that does nothing (compliant, report mode) has nothing to remember."""
    if decision.action in (Action.NONE, Action.REPORT_ONLY):
        return act()
    return str(remembered(ACTED, key, lambda: {"result": act()})["result"])


def seen(kind: str, key: str) -> bool:
    client, table = _table()
    return "Item" in client.get_item(TableName=table, Key={"id": {"S": f"{kind}#{key}"}}, ConsistentRead=True)


def mark(kind: str, key: str) -> None:
    client, table = _table()
    client.put_item(
        TableName=table,
        Item={"id": {"S": f"{kind}#{key}"}, "value": {"S": "1"}, "expiration": {"N": str(int(time.time()) + WINDOW_SECONDS)}},
    )


def keep(kind: str, key: str, value: dict[str, Any]) -> None:
    """Store ``value`` under ``kind#key`` with no expiry (a clearance lasts until it is revoked)."""
    client, table = _table()
    client.put_item(
        TableName=table, Item={"id": {"S": f"{kind}#{key}"}, "value": {"S": json.dumps(value, sort_keys=True, default=str)}}
    )


class LedgerContended(RuntimeError):
    """An item kept changing under an update: the caller fails closed."""


def update(
    kind: str, key: str, change: Callable[[dict[str, Any] | None], dict[str, Any]], *, attempts: int = 5
) -> dict[str, Any]:
    """Store ``change(current)`` under ``kind#key`` with no expiry, only if nobody stored another value meanwhile (read,
    change, write on that condition; again on a conflict): two handlers adding to one item both count."""
    client, table = _table()
    item_id = f"{kind}#{key}"
    for _ in range(attempts):
        found = client.get_item(TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True).get("Item")
        seen = found["value"]["S"] if found else None
        value = change(json.loads(seen) if seen is not None else None)
        unchanged: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(id)"}
            if seen is None
            else {
                "ConditionExpression": "#value = :seen",
                "ExpressionAttributeNames": {"#value": "value"},
                "ExpressionAttributeValues": {":seen": {"S": seen}},
            }
        )
        try:
            client.put_item(
                TableName=table,
                Item={"id": {"S": item_id}, "value": {"S": json.dumps(value, sort_keys=True, default=str)}},
                **unchanged,
            )
        except Exception as exc:
            if aws.error_code(exc) != "ConditionalCheckFailedException":
                raise
            continue
        return value
    raise LedgerContended(f"{item_id} changed under {attempts} updates in a row")


def lookup(kind: str, key: str) -> dict[str, Any] | None:
    client, table = _table()
    found = client.get_item(TableName=table, Key={"id": {"S": f"{kind}#{key}"}}, ConsistentRead=True).get("Item")
    return json.loads(found["value"]["S"]) if found else None


def forget(kind: str, key: str) -> bool:
    """Remove ``kind#key``; True when it was there."""
    client, table = _table()
    response = client.delete_item(TableName=table, Key={"id": {"S": f"{kind}#{key}"}}, ReturnValues="ALL_OLD")
    return "Attributes" in response
