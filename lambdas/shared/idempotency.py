"""EventBridge delivers at least once: the same event id is processed once (Powertools idempotency, DynamoDB)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from lambdas.shared import aws
from lambdas.shared.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600


class EventInProgress(RuntimeError):
    """Another delivery of the same event is being processed: retry later, do nothing now."""


@cache
def _persistence(table: str) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.client("dynamodb"))


def reset() -> None:
    _persistence.cache_clear()


def once_per_event(
    process: Callable[[dict[str, Any], Any], dict[str, Any]], event: dict[str, Any], context: Any
) -> dict[str, Any]:
    """Run ``process(event=..., context=...)`` once per event id; a redelivery gets the stored result."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="id", raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS
    )
    if context is not None:
        config.register_lambda_context(context)
    guarded = idempotent_function(
        data_keyword_argument="event", persistence_store=_persistence(settings().idempotency_table), config=config
    )(process)
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    try:
        result: dict[str, Any] = guarded(event=event, context=context)
    except IdempotencyAlreadyInProgressError as exc:
        raise EventInProgress(str(exc)) from exc
    return result
