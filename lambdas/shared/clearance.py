"""Which model versions the approval gate cleared for deployment.

The gate keeps a clearance when it allows an approved version (with the audit record that says so);
the deployer deploys only cleared versions; the deployment guard revokes the clearance when the
version leaves Approved and quarantines what serves it. Kept in the idempotency table, without expiry.
"""

from __future__ import annotations

from typing import Any

from lambdas.shared import ledger

CLEARED = "cleared"


def clear(package_arn: str, *, audit_record: str, policy_version: str) -> None:
    ledger.keep(CLEARED, package_arn, {"audit_record": audit_record, "policy_version": policy_version})


def clearance(package_arn: str) -> dict[str, Any] | None:
    return ledger.lookup(CLEARED, package_arn)


def revoke(package_arn: str) -> bool:
    return ledger.forget(CLEARED, package_arn)
