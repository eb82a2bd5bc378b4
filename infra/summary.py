"""Print what the policy produced, read from the synthesized Terraform JSON (``make demo``)."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from infra.stack_order import STACK_NAMES
from policies.errors import PolicyError
from policies.loader import load_policy
from policies.model import PROJECT_TAG_KEY, GovernancePolicy
from policies.validated import policy_path


def load_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    stacks = {}
    for name in STACK_NAMES:
        path = outdir / "stacks" / name / "cdk.tf.json"
        if path.is_file():
            stacks[name] = json.loads(path.read_text())
    return stacks


def resources(config: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(rtype, name, body) for rtype, items in config.get("resource", {}).items() for name, body in items.items()]


def boundary_regions(stacks: dict[str, dict[str, Any]]) -> list[str]:
    for rtype, _, body in resources(stacks.get("identity", {})):
        if rtype == "aws_iam_policy" and "permissions-boundary" in str(body.get("name")):
            for statement in json.loads(body["policy"])["Statement"]:
                if statement.get("Sid") == "DenyOutsideAllowedRegions":
                    return list(statement["Condition"]["StringNotEquals"]["aws:RequestedRegion"])
    return []


def render(policy: GovernancePolicy, stacks: dict[str, dict[str, Any]], source: str) -> str:
    out: list[str] = []
    total = sum(len(resources(c)) for c in stacks.values())
    out.append(f"ML governance blueprint for '{policy.organization.name}'  (policy {policy.version}, {source})")
    out.append("")
    regions = boundary_regions(stacks)
    out.append(f"Home Region        {policy.regions.home}")
    out.append(
        f"Enforced Regions   {', '.join(regions) or '(no identity stack)'}  (permissions boundary denies every other Region)"
    )
    out.append(
        f"Watched Regions    {len(policy.regions.watched)}: SageMaker API calls there are forwarded to {policy.regions.home} and checked"
    )
    out.append(f"Classification     tag '{policy.classification.tag_key}', levels {' < '.join(policy.classification.levels)}")
    out.append(f"Audit trail        S3 Object Lock {policy.audit.object_lock_mode.value}, {policy.audit.retention_years} years")
    modes = ", ".join(f"{rule.replace('_', ' ')}: {mode.value}" for rule, mode in policy.enforcement)
    out.append(f"Enforcement        {modes}")
    out.append("")
    out.append(f"Governed projects ({len(policy.projects)})")
    tagged = Counter(
        body.get("tags", {}).get(PROJECT_TAG_KEY)
        for config in stacks.values()
        for _, _, body in resources(config)
        if isinstance(body.get("tags"), dict)
    )
    for project in policy.projects:
        bounds = ", ".join(f"{m} {t.describe()}" for m, t in policy.approval_requirements(project).items()) or "no metric bounds"
        endpoints = ", ".join(f"{e.name} [{e.schedule}]" for e in project.endpoints) or "no endpoints monitored"
        out.append(
            f"  {project.name:<20} team {project.owner_team:<20} {project.classification:<13} {tagged[project.name]:>3} tagged resources"
        )
        out.append(f"  {'':<20} approval needs {bounds}")
        out.append(f"  {'':<20} monitoring: {endpoints}")
    out.append("")
    out.append(f"Stacks ({len(stacks)}, {total} resources), in deployment order")
    for name, config in stacks.items():
        counts = Counter(rtype for rtype, _, _ in resources(config))
        providers = config.get("provider", {}).get("aws", [])
        regions_used = sorted({p.get("region", "?") for p in providers})
        out.append(f"  {name:<16} {sum(counts.values()):>4} resources   provider Region(s): {', '.join(regions_used)}")
        for rtype, count in sorted(counts.items()):
            out.append(f"      {count:>4}  {rtype}")
    out.append("")
    out.append(
        "Next: make validate (terraform validate offline), make deploy-local (apply into an embedded AWS), make scan, make test"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    outdir = Path(args[0] if args else "cdktf.out")
    stacks = load_stacks(outdir)
    if not stacks:
        print(f"no synthesized stacks in {outdir}/stacks: run `make synth`", file=sys.stderr)
        return 2
    try:
        policy = load_policy()
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(render(policy, stacks, os.path.relpath(policy_path())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
