"""Which model versions the approval gate cleared for deployment.

The gate keeps a clearance when it allows an approved version (with the audit record that says so);
the deployer deploys only cleared versions; the deployment guard revokes the clearance when the
version leaves Approved and quarantines what serves it. Kept in the idempotency table, without expiry.
"""

from __future__ import annotations

from typing import Any

from lambdas.shared import ledger

CLEARED = "cleared"


def clear(package_arn: str, *, audit_record: str, policy_version: str, approved_by_person: str | None = None) -> None:
    """``approved_by_person``: who approved, which a promotion rule with ``distinct_approver`` compares with."""
    value = {"audit_record": audit_record, "policy_version": policy_version}
    ledger.keep(CLEARED, package_arn, value | ({"approved_by_person": approved_by_person} if approved_by_person else {}))


def clearance(package_arn: str) -> dict[str, Any] | None:
    return ledger.lookup(CLEARED, package_arn)


def revoke(package_arn: str) -> bool:
    return ledger.forget(CLEARED, package_arn)
