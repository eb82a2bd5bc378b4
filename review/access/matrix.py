"""The access matrix: every role x every governed request, decided by the offline evaluator from the synthesized IAM.

    python -m review.access.matrix [--outdir cdktf.out] [--write docs/access-matrix.md] [--json reports/access-matrix.json]

A row is one governed request (``review/access/requests.py``); a cell says whether the role may
make it, in which Regions, and which statement decided. The invariants the blueprint promises
(``review/access/invariants.py``) are checked over the same cells.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from policies.errors import PolicyError
from policies.loader import load_policy
from policies.model import PROJECT_TAG_KEY, GovernancePolicy
from policies.naming import EXECUTION_ROLE_SUFFIX, Names
from review.access.evaluator import Evaluation, LabelledPolicy, Request, ScpLevel, UnsupportedPolicyElement, evaluate
from review.access.requests import GovernedRequest, Where, governed_requests
from review.access.terraform import ACCOUNT, Role, SynthesizedAccount, read_account

COMMAND = "make access-review"


@dataclass(frozen=True)
class Cell:
    role: str
    request: GovernedRequest
    region: str
    evaluation: Evaluation

    @property
    def allowed(self) -> bool:
        return self.evaluation.allowed

    @property
    def deciding(self) -> str:
        return ", ".join(str(ref) for ref in self.evaluation.deciding) or self.evaluation.reason


@dataclass(frozen=True)
class Caller:
    """A column of the matrix: a role, or a role's session tagged with a project (``role [project]``)."""

    label: str
    role: str
    session_tags: Mapping[str, str]


@dataclass(frozen=True)
class AccessMatrix:
    policy: GovernancePolicy
    account: SynthesizedAccount
    requests: tuple[GovernedRequest, ...]
    callers: tuple[Caller, ...]
    cells: tuple[Cell, ...]

    @property
    def roles(self) -> tuple[str, ...]:
        """Column labels, in order."""
        return tuple(c.label for c in self.callers)

    def role_of(self, label: str) -> str:
        return next(c.role for c in self.callers if c.label == label)

    @cached_property
    def _cells_by_request(self) -> dict[int, list[Cell]]:
        """The cells of each row, by the identity of its request (comparing requests field by field is slow)."""
        index: dict[int, list[Cell]] = {}
        for cell in self.cells:
            index.setdefault(id(cell.request), []).append(cell)
        return index

    def _row(self, request: GovernedRequest) -> list[Cell]:
        row = self._cells_by_request.get(id(request))
        return row if row is not None else [c for c in self.cells if c.request == request]

    def cell(self, role: str, request: GovernedRequest, region: str | None = None) -> Cell:
        region = region or self.policy.regions.home
        for cell in self._row(request):
            if cell.role == role and cell.region == region:
                return cell
        raise KeyError((role, request.label, region))

    def allowed_regions(self, role: str, request: GovernedRequest) -> list[str]:
        return [c.region for c in self._row(request) if c.role == role and c.allowed]

    def who_may(self, request: GovernedRequest, region: str | None = None) -> list[str]:
        region = region or self.policy.regions.home
        return [c.role for c in self._row(request) if c.region == region and c.allowed]


def regions_for(policy: GovernancePolicy, request: GovernedRequest) -> list[str]:
    if request.where is Where.WATCHED:
        return list(policy.regions.watched)
    return list(policy.regions.allowed) if request.where is Where.ALLOWED else [policy.regions.home]


def build_matrix(
    policy: GovernancePolicy,
    account: SynthesizedAccount,
    *,
    scps: Mapping[str, tuple[ScpLevel, ...]] | None = None,
) -> AccessMatrix:
    """Evaluate every governed request for every synthesized role and tagged session (``scps`` by role name)."""
    names = Names(policy, account=account.account, partition=account.partition)
    requests = tuple(governed_requests(policy, names, account.key_arns))
    projects = [p.name for p in policy.projects]
    callers = tuple(c for name in sorted(account.roles) for c in _callers(account.roles[name], projects))
    cells = []
    for caller in callers:
        role = account.roles[caller.role]
        principal = role.principal(session="tagged-session" if caller.session_tags else None, tags=caller.session_tags)
        principal = replace(principal, scp_levels=(scps or {}).get(caller.role, ()))
        for request in requests:
            for region in regions_for(policy, request):
                resource = request.in_region(region)
                context = {"aws:RequestedRegion": region, **_resource_tags(account, resource), **request.context}
                evaluation = evaluate(
                    Request(principal, request.action, resource, context), resource_policy=_resource_policy(account, resource)
                )
                cells.append(Cell(caller.label, request, region, evaluation))
    return AccessMatrix(policy, account, requests, callers, tuple(cells))


UNGOVERNED_PROJECT = "not-a-governed-project"
"""The session every open project tag is also enumerated with: a value no project of the policy has."""


def _callers(role: Role, projects: Sequence[str]) -> list[Caller]:
    """The role itself, and one tagged session per value its trust policy lets a session tag carry.

    The keys a session may carry must be listed (``ForAllValues:StringEquals aws:TagKeys``): a session that could
    carry any key could carry a tag a bucket policy trusts (``ml-governance-role``). A key's values are the ones the
    trust lists (``StringEquals aws:RequestTag/<key>``); the project tag's values may be left open (the identity
    provider sets them), and are then every governed project, every hyphen-prefix of a project's name (the values
    that reach furthest into another project's ``<project>-*`` names) and one value no project has.
    """
    out = [Caller(role.name, role.name, {})]
    for index, statement in enumerate(_statements(role.trust.document)):
        actions = statement.get("Action")
        if statement.get("Effect") != "Allow" or "sts:TagSession" not in (actions if isinstance(actions, list) else [actions]):
            continue
        where = {"policy": f"{role.name} trust", "statement": str(statement.get("Sid") or f"#{index}")}
        conditions = statement.get("Condition", {})
        keys = conditions.get("ForAllValues:StringEquals", {}).get("aws:TagKeys")
        if not keys:
            raise UnsupportedPolicyElement(
                "a session may carry any tag key (no ForAllValues:StringEquals aws:TagKeys), a role kind the bucket "
                "policies trust among them; list the keys",
                **where,
            )
        listed = {
            k.split("/", 1)[1]: v
            for k, v in conditions.get("StringEquals", {}).items()
            if k.lower().startswith("aws:requesttag/")
        }
        for tag in keys if isinstance(keys, list) else [keys]:
            values = listed.get(tag)
            if values is None and tag != PROJECT_TAG_KEY:
                raise UnsupportedPolicyElement(
                    f"a session may carry tag {tag} with values the trust does not list; list them with StringEquals", **where
                )
            if values is None:  # and every hyphen-prefix of a project's name (credit, of credit-risk): names reach names
                prefixes = [p[:i] for p in projects for i, c in enumerate(p) if c == "-"]
                values = list(dict.fromkeys([*projects, *(v for v in prefixes if v not in projects), UNGOVERNED_PROJECT]))
            out += [Caller(f"{role.name} [{v}]", role.name, {tag: v}) for v in (values if isinstance(values, list) else [values])]
    return out


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = document.get("Statement", [])
    return [raw] if isinstance(raw, Mapping) else list(raw)


def _resource_tags(account: SynthesizedAccount, resource: str) -> dict[str, str]:
    """``aws:ResourceTag/*`` of a role the request names (iam:PassRole)."""
    if ":role/" not in resource:
        return {}
    role = account.roles.get(resource.rsplit("/", 1)[-1])
    return {f"aws:ResourceTag/{k}": v for k, v in (role.tags if role else {}).items()}


def _resource_policy(account: SynthesizedAccount, resource: str) -> LabelledPolicy | None:
    found = account.policy_for(resource)
    if found is None and resource.startswith(f"arn:{account.partition}:iam::") and ":role/" in resource:
        role = account.roles.get(resource.rsplit("/", 1)[-1])
        return role.trust if role else None
    return found


def short(role: Role | str, org: str) -> str:
    name = role.name if isinstance(role, Role) else role
    return name.removeprefix(f"{org}-").replace(EXECUTION_ROLE_SUFFIX, " (execution)")


def _mark(matrix: AccessMatrix, role: str, request: GovernedRequest) -> str:
    regions = regions_for(matrix.policy, request)
    allowed = matrix.allowed_regions(role, request)
    if not allowed:
        return "·"
    if len(regions) == 1 or len(allowed) == len(regions):
        return "**allow**"
    return f"**allow** in {len(allowed)}/{len(regions)} Regions"


def render_markdown(matrix: AccessMatrix, violations: Sequence[str]) -> str:
    org = matrix.policy.organization.name
    headers = [short(r, org) for r in matrix.roles]
    lines = [
        "# Access matrix",
        "",
        f"Generated by `{COMMAND}` from the synthesized Terraform (`cdktf.out/`) with the offline IAM evaluator",
        "(`review/access/evaluator.py`): identity policies, permissions boundaries, trust and resource policies",
        f"(buckets, keys, topic, queues, model package groups), evaluated as AWS documents it for one account ({ACCOUNT}).",
        "Do not edit: a test fails when this file differs from what the stacks produce.",
        "",
        f"Policy {matrix.policy.version}. **allow** = the role may make the request; · = denied. Rows marked *watched* are",
        f"asked in every watched Region ({len(matrix.policy.regions.watched)}), the others in the home Region {matrix.policy.regions.home}.",
        "The JSON beside it (`reports/access-matrix.json`) names, for every cell and Region, the statements that decided.",
        "",
        "## Invariants",
        "",
    ]
    lines += [f"- FAILED: {v}" for v in violations] or ["All invariants hold (`review/access/invariants.py`)."]
    groups: dict[str, list[GovernedRequest]] = {}
    for request in matrix.requests:
        groups.setdefault(request.group, []).append(request)
    for group, requests in groups.items():
        lines += [
            "",
            f"## {group.capitalize()}",
            "",
            "| request | " + " | ".join(headers) + " |",
            "|---" * (len(headers) + 1) + "|",
        ]
        for request in requests:
            where = " *(watched)*" if request.where is Where.WATCHED else ""
            marks = [_mark(matrix, role, request) for role in matrix.roles]
            lines.append(f"| {request.label}{where} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"


def to_json(matrix: AccessMatrix, violations: Sequence[str]) -> dict[str, Any]:
    return {
        "schema": "ml-governance-access-matrix/1",
        "policy_version": matrix.policy.version,
        "account": matrix.account.account,
        "roles": list(matrix.roles),
        "invariant_violations": list(violations),
        "cells": [
            {
                "role": c.role,
                "group": c.request.group,
                "request": c.request.label,
                "action": c.request.action,
                "resource": c.request.in_region(c.region),
                "region": c.region,
                "decision": c.evaluation.decision,
                "deciding": [str(ref) for ref in c.evaluation.deciding],
                "reason": c.evaluation.reason,
            }
            for c in matrix.cells
        ],
    }


def summary(matrix: AccessMatrix, violations: Sequence[str]) -> dict[str, Any]:
    """The counts an evidence report carries."""
    return {
        "roles": len(matrix.roles),
        "requests": len(matrix.requests),
        "cells": len(matrix.cells),
        "allowed": sum(c.allowed for c in matrix.cells),
        "invariant_violations": list(violations),
    }


def review(outdir: Path, policy: GovernancePolicy) -> tuple[AccessMatrix, list[str]]:
    from review.access.invariants import check_invariants

    matrix = build_matrix(policy, read_account(outdir))
    return matrix, check_invariants(matrix)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.access.matrix")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--write", type=Path, help="write the Markdown matrix here (docs/access-matrix.md)")
    parser.add_argument("--json", type=Path, help="write every cell with its deciding statements here")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        matrix, violations = review(args.outdir, load_policy())
    except (PolicyError, FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    text = render_markdown(matrix, violations)
    if args.write:
        args.write.write_text(text)
        print(f"{args.write}: {len(matrix.roles)} roles x {len(matrix.requests)} requests, {len(matrix.cells)} evaluations")
    else:
        sys.stdout.write(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(matrix, violations), indent=1))
    for violation in violations:
        print(f"invariant violated: {violation}", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
