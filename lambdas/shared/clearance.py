"""Which model versions the approval gate cleared for deployment.

The gate keeps a clearance when it allows an approved version (with the audit record that says so);
the deployer deploys only cleared versions whose model artifacts are still the object versions the clearance
pins; the deployment guard revokes the clearance when the
version leaves Approved and quarantines what serves it. Kept in the idempotency table, without expiry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambdas.shared import ledger
from policies.naming import PROMOTED

CLEARED = "cleared"
APPROVERS = "approvers"
PINNED = "pinned"  # pinned#<s3 uri>: a clearance pins that key (kept without expiry, like the clearance)


def clear(
    package_arn: str,
    *,
    audit_record: str,
    policy_version: str,
    artifacts: list[dict[str, str]],
    approved_by_person: str | None = None,
) -> None:
    """``artifacts``: the model artifacts' pinned object versions (``policies.rules.artifacts.pins``), which the deployer
    and the deployment guard check; ``approved_by_person``: who approved, which a promotion rule with
    ``distinct_approver`` compares with. Every person the gate judged as approving the version while its clearance
    lasts stays on it (any update of an Approved version reaches the gate as an approval by whoever made it)."""
    for pin in artifacts:  # the deployment guard judges a write into a model store only when it hits a pinned key
        index_pin(pin["uri"], package_arn)
    value: dict[str, Any] = {"audit_record": audit_record, "policy_version": policy_version, "artifacts": artifacts}

    def with_approvers(current: dict[str, Any] | None) -> dict[str, Any]:
        people = set(approvers(current)) | ({approved_by_person} if approved_by_person else set())
        return value | ({APPROVERS: sorted(people)} if people else {})

    ledger.update(CLEARED, package_arn, with_approvers)  # an approval judged at the same time keeps its name too


def approvers(cleared: dict[str, Any] | None) -> tuple[str, ...]:
    """The people a clearance records as approving its version (a clearance kept before they accumulated names one)."""
    if not cleared:
        return ()
    return tuple(cleared.get(APPROVERS) or ([cleared["approved_by_person"]] if cleared.get("approved_by_person") else []))


def clearance(package_arn: str) -> dict[str, Any] | None:
    return ledger.lookup(CLEARED, package_arn)


def revoke(package_arn: str) -> bool:
    return ledger.forget(CLEARED, package_arn)


def forget_promotions(package_arn: str, stages: Sequence[str]) -> None:
    """With its clearance, a version loses its promotions: approved again, it is promoted again, stage by stage, by
    people the rules judge against its new approvers."""
    for stage in stages:
        ledger.forget(PROMOTED, f"{stage}#{package_arn}")


def index_pin(uri: str, package_arn: str) -> None:
    """Note that ``package_arn``'s clearance pins ``uri`` (``pinned#<uri>``: the versions pinning it; two versions
    registered from one artifact share it)."""
    if package_arn not in (ledger.lookup(PINNED, uri) or {}).get("packages", []):  # two clearances at once both count
        ledger.update(PINNED, uri, lambda now: {"packages": sorted({*(now or {}).get("packages", []), package_arn})})


def pinned(uri: str) -> bool:
    """Whether a clearance still in force pins the object at ``uri`` (an overwrite of it must be judged at once)."""
    return any(clearance(arn) is not None for arn in (ledger.lookup(PINNED, uri) or {}).get("packages", []))
