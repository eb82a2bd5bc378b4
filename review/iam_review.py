"""The IAM review: every role the blueprint creates, who assumes it, and what it may do on what.

    python -m review.iam_review [--outdir cdktf.out] [--write docs/iam-review.md]      (make iam-review)

Read from the synthesized Terraform JSON, never from the Python that produced it, so the table
shows what would be deployed. Each allowed statement is checked against the permissions
boundary the role carries: actions outside the boundary's ceiling are marked as not
effective, and the boundary's Deny statements that cut into a statement are named.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from policies.naming import construct_id

REFERENCE = re.compile(r"\$\{(?P<expr>[^}]+)\}")

Statement = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass
class Role:
    stack: str
    resource_id: str
    name: str
    assumed_by: list[str]
    boundary: str | None
    statements: list[tuple[str, Statement]] = field(default_factory=list)
    managed_policies: list[str] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return f"arn:{{partition}}:iam::{{account}}:role/{self.name}"

    @property
    def allowed_actions(self) -> list[str]:
        return sorted({a for _, s in self.statements if s.get("Effect") == "Allow" for a in as_list(s.get("Action"))})

    @property
    def actions_on_any_resource(self) -> list[str]:
        return sorted(
            {
                a
                for _, s in self.statements
                if s.get("Effect") == "Allow" and "*" in as_list(s.get("Resource"))
                for a in as_list(s.get("Action"))
            }
        )


@dataclass(frozen=True)
class Boundary:
    name: str
    statements: list[Statement]

    def ceiling_admits(self, action: str) -> bool:
        return any(
            fnmatchcase(action.lower(), pattern.lower())
            for s in self.statements
            if s.get("Effect") == "Allow"
            for pattern in as_list(s.get("Action"))
        )

    def denials_of(self, actions: list[str], role_arn: str) -> list[str]:
        """How the targeted Deny statements (Action lists) that cover any of these actions bear on this role."""
        found = []
        for s in self.statements:
            if s.get("Effect") != "Deny" or "Action" not in s:
                continue
            if not any(fnmatchcase(a.lower(), p.lower()) for a in actions for p in as_list(s["Action"])):
                continue
            exempt = [
                principal
                for operator in ("ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike")
                for principal in as_list(s.get("Condition", {}).get(operator, {}).get("aws:PrincipalArn"))
            ]
            if any(fnmatchcase(role_arn, p) for p in exempt):
                found.append(f"exempt from {s.get('Sid', '?')}")
            else:
                found.append(f"narrowed by {s.get('Sid', '?')}")
        return found


class Renderer:
    """Turns Terraform references into words a reviewer reads: {account}, key alias/…, <aws_sqs_queue x>."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.data = config.get("data", {})

    def __call__(self, text: str) -> str:
        return REFERENCE.sub(self._reference, text)

    def _reference(self, match: re.Match[str]) -> str:
        parts = match["expr"].split(".")
        if parts[0] == "data" and len(parts) >= 4:
            kind, name, attribute = parts[1], parts[2], parts[3]
            if kind == "aws_partition":
                return "{partition}"
            if kind == "aws_caller_identity":
                return "{account}"
            if kind == "aws_region":
                return "{region}"
            if kind == "aws_kms_alias":
                return f"key {self.data.get(kind, {}).get(name, {}).get('name', name)}"
            return f"<data {kind} {name}.{attribute}>"
        if len(parts) >= 3:
            return f"<{parts[0]} {construct_id(parts[1])}.{parts[2]}>"
        return match.group(0)


def _principals(trust: Statement) -> list[str]:
    found = []
    for statement in as_list(trust.get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        for kind in ("Service", "AWS", "Federated"):
            for who in as_list(principal.get(kind) if isinstance(principal, dict) else principal):
                condition = render_condition(statement.get("Condition"))
                found.append(f"{who} (if {condition})" if condition else str(who))
    return found


def render_condition(condition: dict[str, Any] | None) -> str:
    if not condition:
        return ""
    parts = []
    for operator, pairs in condition.items():
        for key, value in pairs.items():
            values = ", ".join(str(v) for v in as_list(value))
            parts.append(f"{operator} {key} = {values}")
    return "; ".join(parts)


def _referenced_id(value: str, rtype: str) -> str | None:
    match = re.fullmatch(rf"\$\{{{rtype}\.([^.}}]+)\.(?:name|arn|id)\}}", value or "")
    return match.group(1) if match else None


def collect(outdir: Path) -> tuple[list[Role], dict[str, Boundary]]:
    stacks = sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    if not stacks:
        raise FileNotFoundError(f"no synthesized stacks under {outdir / 'stacks'}: run `make synth` first")
    roles: list[Role] = []
    boundaries: dict[str, Boundary] = {}
    for path in stacks:
        stack_roles, stack_boundaries = _collect_stack(path)
        roles += stack_roles
        boundaries.update(stack_boundaries)
    return sorted(roles, key=lambda r: (r.stack, r.name)), boundaries


def _collect_stack(path: Path) -> tuple[list[Role], dict[str, Boundary]]:
    config = json.loads(path.read_text())
    render = Renderer(config)
    resources = config.get("resource", {})
    policies = {
        pid: (body.get("name", pid), json.loads(render(body["policy"])))
        for pid, body in resources.get("aws_iam_policy", {}).items()
    }
    boundaries = {name: Boundary(name, as_list(document.get("Statement"))) for name, document in policies.values()}

    by_id: dict[str, Role] = {}
    by_name: dict[str, Role] = {}
    for rid, body in resources.get("aws_iam_role", {}).items():
        boundary = body.get("permissions_boundary")
        policy_id = _referenced_id(boundary or "", "aws_iam_policy")
        role = Role(
            stack=path.parent.name,
            resource_id=construct_id(rid),
            name=body["name"],
            assumed_by=_principals(json.loads(render(body["assume_role_policy"]))),
            boundary=policies[policy_id][0] if policy_id else (render(boundary).rsplit("/", 1)[-1] if boundary else None),
        )
        for inline in as_list(body.get("inline_policy")):
            document = json.loads(render(inline["policy"]))
            role.statements += [(inline.get("name", "inline"), s) for s in as_list(document.get("Statement"))]
        by_id[rid], by_name[role.name] = role, role

    def owner(reference: str) -> Role:
        rid = _referenced_id(reference, "aws_iam_role")
        role = by_id.get(rid) if rid else by_name.get(reference)
        if role is None:
            raise ValueError(f"{path}: a policy is attached to a role not in this stack: {reference}")
        return role

    for body in resources.get("aws_iam_role_policy", {}).values():
        document = json.loads(render(body["policy"]))
        owner(body["role"]).statements += [(body.get("name", "inline"), s) for s in as_list(document.get("Statement"))]
    for body in resources.get("aws_iam_role_policy_attachment", {}).values():
        role = owner(body["role"])
        policy_id = _referenced_id(body["policy_arn"], "aws_iam_policy")
        if policy_id:
            name, document = policies[policy_id]
            role.statements += [(name, s) for s in as_list(document.get("Statement"))]
        else:
            role.managed_policies.append(render(body["policy_arn"]))
    return list(by_id.values()), boundaries


def _cell(values: list[str]) -> str:
    return "<br>".join(f"`{v}`" for v in values) if values else "none"


def render_markdown(roles: list[Role], boundaries: dict[str, Boundary], command: str) -> str:
    lines = [
        "# IAM review",
        "",
        f"Generated from the synthesized Terraform JSON by `{command}`; do not edit by hand.",
        "`{partition}`, `{account}` and `key alias/…` stand for the values Terraform resolves at deploy time;",
        "`<aws_type name.attribute>` is a reference to a resource in the same stack.",
        "",
        f"{len(roles)} roles, each with its trust, its permissions boundary and every statement it is granted.",
        "",
        "| role | stack | assumed by | boundary | allowed actions | actions on `*` resources |",
        "|---|---|---|---|---|---|",
    ]
    for role in roles:
        lines.append(
            f"| [`{role.name}`](#{role.name}) | {role.stack} | {'<br>'.join(role.assumed_by)} | "
            f"{role.boundary or '**none**'} | {len(role.allowed_actions)} | {_cell(role.actions_on_any_resource)} |"
        )
    for role in roles:
        boundary = boundaries.get(role.boundary or "")
        lines += [
            "",
            f"## {role.name}",
            "",
            f"Stack `{role.stack}`, resource `aws_iam_role.{role.resource_id}`. "
            f"Assumed by {', '.join(f'`{p}`' for p in role.assumed_by) or 'nobody'}. "
            f"Boundary: {f'`{role.boundary}`' if role.boundary else '**none**'}.",
            "",
            "| policy | statement | effect | actions | resources | condition | boundary |",
            "|---|---|---|---|---|---|---|",
        ]
        for policy_name, statement in role.statements:
            actions = [str(a) for a in as_list(statement.get("Action") or statement.get("NotAction"))]
            limits = []
            if boundary is not None and statement.get("Effect") == "Allow":
                outside = [a for a in actions if not boundary.ceiling_admits(a)]
                if outside:
                    limits.append("not effective (outside the ceiling): " + ", ".join(f"`{a}`" for a in outside))
                limits += boundary.denials_of(actions, role.arn)
            lines.append(
                f"| {policy_name} | {statement.get('Sid', '')} | {statement.get('Effect')} | {_cell(actions)} | "
                f"{_cell([str(r) for r in as_list(statement.get('Resource'))])} | "
                f"{render_condition(statement.get('Condition')) or ''} | {'<br>'.join(limits) or 'within'} |"
            )
        for managed in role.managed_policies:
            lines.append(f"| {managed} | | Allow | (managed policy, contents not in the stack) | | | |")
    used = sorted({r.boundary for r in roles if r.boundary and r.boundary in boundaries})
    for name in used:
        boundary = boundaries[name]
        lines += [
            "",
            f"## Boundary {name}",
            "",
            "What every role that carries it can never do, whatever its own policies say. Allow statements are the ceiling;",
            "Deny statements win over any grant.",
            "",
            "| statement | effect | actions | condition |",
            "|---|---|---|---|",
        ]
        for statement in boundary.statements:
            key = "Action" if "Action" in statement else "NotAction"
            actions = [str(a) for a in as_list(statement.get(key))]
            shown = _cell(actions) if key == "Action" else "every action except " + _cell(actions)
            lines.append(
                f"| {statement.get('Sid', '')} | {statement.get('Effect')} | {shown} | "
                f"{render_condition(statement.get('Condition'))} |"
            )
    return "\n".join(lines) + "\n"


COMMAND = "make iam-review"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.iam_review")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--write", type=Path, help="write the review to this file instead of printing it")
    args = parser.parse_args(argv)
    try:
        roles, boundaries = collect(args.outdir)
    except (FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    text = render_markdown(roles, boundaries, COMMAND)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
        print(f"{args.write}: {len(roles)} roles")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
