"""Stack names in deployment order (kept apart from app.py so tools need not import cdktn).

A stack only looks up what stacks in earlier waves created (keys by alias, roles and the
boundary by name), so the stacks of one wave can be applied at the same time. The app
declares these dependencies on the stacks (``TerraformStack.add_dependency``), so
``cdktf.out/manifest.json`` carries them and ``cdktn deploy`` applies the waves in order.

With the policy's ``accounts`` section the stacks are those of ``layout(policy)`` instead (docs/multi-account.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

DEPLOY_WAVES: tuple[tuple[str, ...], ...] = (
    ("foundation",),
    ("identity",),
    ("audit-trail", "model-registry", "monitoring", "enforcement"),
)
STACK_NAMES: tuple[str, ...] = tuple(name for wave in DEPLOY_WAVES for name in wave)


def stack_dependencies(waves: tuple[tuple[str, ...], ...] = DEPLOY_WAVES) -> dict[str, tuple[str, ...]]:
    """Each stack with the stacks it depends on: every stack of every earlier wave."""
    found: dict[str, tuple[str, ...]] = {}
    earlier: tuple[str, ...] = ()
    for wave in waves:
        for name in wave:
            found[name] = earlier
        earlier += wave
    return found


# ---- many accounts (the policy's accounts section) ----------------------------------------------------------
ORGANIZATION = "organization"
HUB = "hub"


@dataclass(frozen=True)
class StackPlan:
    name: str
    kind: str
    """organization, hub-<part> (foundation, identity, audit-trail, enforcement, registry, cross-account), spoke-<part>"""
    account: str


def account_prefix(policy: GovernancePolicy, account: str) -> str:
    """``hub`` or ``spoke-<stages sharing the account>``."""
    accounts = policy.accounts
    assert accounts is not None
    if account == accounts.hub:
        return HUB
    return "spoke-" + "-".join(accounts.workload_accounts[account])


def layout(policy: GovernancePolicy) -> list[StackPlan]:
    """Every stack of the multi-account layout, in deployment order."""
    accounts = policy.accounts
    if accounts is None:
        raise ValueError("the policy has no accounts section: it deploys the single-account stacks (infra.app)")
    return [plan for wave in _waves(policy) for plan in wave]


def _waves(policy: GovernancePolicy) -> list[list[StackPlan]]:
    accounts = policy.accounts
    assert accounts is not None
    hub, workloads = accounts.hub, list(accounts.workload_accounts)

    def plan(account: str, part: str) -> StackPlan:
        prefix = account_prefix(policy, account)
        return StackPlan(f"{prefix}-{part}", f"{'hub' if account == hub else 'spoke'}-{part}", account)

    return [
        [StackPlan(ORGANIZATION, ORGANIZATION, accounts.organization_admin), plan(hub, "foundation")]
        + [plan(a, "foundation") for a in workloads],
        [plan(hub, "identity")] + [plan(a, "identity") for a in workloads],
        # the workload accounts' enforcement roles trust the hub's handler roles, which IAM checks exist
        [plan(hub, "audit-trail"), plan(hub, "enforcement")] + [plan(a, "audit-trail") for a in workloads],
        [plan(a, "workload") for a in workloads],
        # group, key, bus and trust policies name the workload accounts' roles, which must exist first
        [plan(hub, "registry"), plan(hub, "cross-account")],
    ]


def deploy_waves(policy: GovernancePolicy) -> tuple[tuple[str, ...], ...]:
    """Stack names wave by wave: a stack only names what earlier waves created."""
    return tuple(tuple(p.name for p in wave) for wave in _waves(policy))


def stack_names(policy: GovernancePolicy) -> tuple[str, ...]:
    return tuple(p.name for p in layout(policy))


def unmonitored_endpoints(policy: GovernancePolicy) -> list[str]:
    """``<project>/<endpoint>`` of every endpoint the policy declares that its stacks do not monitor for drift: in the
    multi-account layout, every one (it has no monitoring stack yet: docs/multi-account.md, "Not done yet"); the model
    deployer still deploys them and the deployment guard still judges what they serve."""
    if policy.accounts is None:
        return []
    return [f"{project.name}/{endpoint.name}" for project in policy.projects for endpoint in project.endpoints]


def monitoring_notice(policy: GovernancePolicy) -> str | None:
    """What a synth of ``policy`` tells its user about the endpoints its stacks do not monitor (None: every one is)."""
    unmonitored = unmonitored_endpoints(policy)
    if not unmonitored:
        return None
    return (
        f"note: the multi-account layout does not monitor endpoints for drift yet; {len(unmonitored)} declared "
        f"endpoint(s) get no drift job or Model Monitor schedule: {', '.join(unmonitored)} (they are deployed and "
        "guarded as the policy says; docs/multi-account.md, 'Not done yet')"
    )


def stacks_of_account(policy: GovernancePolicy, account: str) -> list[str]:
    return [p.name for p in layout(policy) if p.account == account and p.kind != ORGANIZATION]
