"""A workload account's deployer and the governance hub (the policy's ``accounts`` section).

The versions live in the hub's registry; the approval gate keeps its clearances and the promotion records in
the hub's table. The deployer reads them as the hub's clearance reader, a role that only the stages' deployers
may assume and that may read only ``cleared#`` and ``promoted#`` items (``iam.cross_account``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lambdas.shared import aws
from lambdas.shared.clearance import CLEARED
from policies.naming import Names
from policies.rules.deployment import StageFacts, deployment_stage

if TYPE_CHECKING:
    from policies.model import GovernancePolicy


def deploys_from_the_hub(policy: GovernancePolicy, account: str) -> bool:
    """Whether a deployer in ``account`` is a workload account's: it deploys the hub's versions into its stage."""
    return policy.accounts is not None and account in policy.accounts.workload_accounts


def _hub_item(hub: Names, item_id: str) -> dict[str, Any] | None:
    dynamodb = aws.client("dynamodb", hub.region, role=hub.role_arn(hub.clearance_reader_role))
    found = dynamodb.get_item(TableName=hub.idempotency_table, Key={"id": {"S": item_id}}, ConsistentRead=True).get("Item")
    return json.loads(found["value"]["S"]) if found else None


def hub_facts(
    policy: GovernancePolicy, account: str, requested_stage: str | None, package_arn: str
) -> tuple[dict[str, Any] | None, StageFacts]:
    """(the hub's approval gate's clearance, None when it did not clear the version; the stage with whether the hub
    recorded the version's promotion into it)."""
    accounts = policy.accounts
    if accounts is None:
        raise ValueError("the policy has no accounts section: the deployer deploys its own account's versions")
    hub = Names(policy, account=accounts.hub)
    stage = deployment_stage(policy, account, requested_stage)
    cleared = _hub_item(hub, f"{CLEARED}#{package_arn}")
    if stage.stage is None or stage.stage not in accounts.rules():
        return cleared, stage
    return cleared, replace(stage, promoted=_hub_item(hub, hub.promotion_record(stage.stage, package_arn)) is not None)
