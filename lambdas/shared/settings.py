"""The handlers' environment contract, validated on first use."""

from __future__ import annotations

import os
from functools import cache
from typing import NamedTuple

from lambdas.shared.aws import EXTERNAL_ID_ENV, HOME_ACCOUNT_ENV, WORKLOAD_ROLE_ENV
from policies.naming import Names

METRICS_NAMESPACE = "MLGovernance"
# What X-Ray traces in the handlers besides the invocation: every AWS call (botocore), the only I/O they do.
# Named, not all-supported (the Tracer default), so a cold start does not import and patch libraries they never use.
TRACED_MODULES = ("botocore",)
ENV = {
    "audit_bucket": "GOVERNANCE_AUDIT_BUCKET",
    "lineage_bucket": "GOVERNANCE_LINEAGE_BUCKET",
    "alerts_topic_arn": "GOVERNANCE_ALERTS_TOPIC_ARN",
    "idempotency_table": "GOVERNANCE_IDEMPOTENCY_TABLE",
}


class SettingsError(RuntimeError):
    pass


class Settings(NamedTuple):
    """What ``ENV`` names, read once per container (a named tuple: cheaper to define on a cold start than a dataclass)."""

    audit_bucket: str
    lineage_bucket: str
    alerts_topic_arn: str
    idempotency_table: str


@cache
def settings() -> Settings:
    missing = [var for var in ENV.values() if not os.environ.get(var)]
    if missing:
        raise SettingsError(f"environment variables not set: {', '.join(missing)} (the enforcement stack sets them)")
    return Settings(**{field: os.environ[var] for field, var in ENV.items()})


def handler_environment(names: Names, handler: str, *, acts_in_workload_accounts: bool = False) -> dict[str, str]:
    """The environment the enforcement stack gives a handler: the contract ``settings()`` reads.

    ``acts_in_workload_accounts``: a handler in the hub of many accounts that reads and acts in the workload
    accounts through its namesake roles (``lambdas.shared.aws``): their ARN pattern, the external id, the hub."""
    values = {
        "audit_bucket": names.audit_bucket,
        "lineage_bucket": names.lineage_bucket,
        "alerts_topic_arn": names.alerts_topic_arn,
        "idempotency_table": names.idempotency_table,
    }
    environment = {
        **{ENV[field]: value for field, value in values.items()},
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_SERVICE_NAME": handler,
    }
    accounts = names.policy.accounts
    if acts_in_workload_accounts and accounts is not None:  # the enforcement stack runs in the hub
        environment[WORKLOAD_ROLE_ENV] = f"arn:{names.partition}:iam::{{account}}:role/{names.handler_role(handler)}"
        environment[EXTERNAL_ID_ENV] = names.hub_external_id(accounts.hub)
        environment[HOME_ACCOUNT_ENV] = accounts.hub
    return environment
