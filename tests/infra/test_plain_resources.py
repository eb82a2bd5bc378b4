"""Per-project and per-Region resources written as plain Terraform JSON (infra/plain_resources.py) synthesize to what
the provider bindings wrote: the addresses cdktn gives, arguments the binding accepts and renders the same, nothing
merged into them from a binding at the same address; the same for the plain provider configurations."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

import infra.node  # noqa: F401  (the bundled Node.js, before cdktn starts jsii)
from infra.plain_resources import PlainResources, logical_id
from policies.loader import load_policy
from policies.model import GovernancePolicy
from tests.conftest import REPO

# Nested blocks of the plain kinds, as the bindings' structs (module of the type, struct class, nested blocks).
NESTED_BLOCKS: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "aws_scheduler_schedule": {
        "flexible_time_window": ("SchedulerScheduleFlexibleTimeWindow", {}),
        "target": (
            "SchedulerScheduleTarget",
            {
                "retry_policy": "SchedulerScheduleTargetRetryPolicy",
                "dead_letter_config": "SchedulerScheduleTargetDeadLetterConfig",
            },
        ),
    }
}
# Construct paths below a stack that exercise each rule of cdktn's logical ids.
PATHS = [
    ("execution-fraud-detection",),
    ("group-a.b:c",),  # characters a Terraform name may not hold are dropped
    ("drift-scheduler", "schedule-churn-live", "schedule"),
    ("scheduler", "Default", "key"),  # "Default" is left out
    ("outer", "Resource"),  # "Resource" is hashed, not shown
    ("forwarding", "warding", "rule"),  # a component that ends its predecessor is shown once
    ("x" * 300,),  # too long to stand alone: hashed
    ("y" * 200, "z" * 100),  # the readable part is cut at 240 characters
]


def binding(resource_type: str) -> tuple[Any, str]:
    module_name = resource_type.removeprefix("aws_")
    module = importlib.import_module(f"cdktn_provider_aws.{module_name}")
    return module, "".join(part.capitalize() for part in module_name.split("_"))


def provider_arguments(configuration: dict[str, Any]) -> dict[str, Any]:
    """The AWS provider binding's keyword arguments for a plain configuration."""
    from cdktn_provider_aws.provider import AwsProviderAssumeRole, AwsProviderDefaultTags

    structs = {"default_tags": AwsProviderDefaultTags, "assume_role": AwsProviderAssumeRole}
    return {key: [structs[key](**item) for item in value] if key in structs else value for key, value in configuration.items()}


def binding_arguments(resource_type: str, body: dict[str, Any], providers: dict[str, Any]) -> dict[str, Any]:
    """The binding's keyword arguments for a plain block (its nested blocks as the binding's structs, its provider as
    the binding of that configuration in ``providers``)."""
    module, _ = binding(resource_type)
    arguments = {key: providers[value] if key == "provider" else value for key, value in body.items() if key != "//"}
    for key, (struct, inner) in NESTED_BLOCKS.get(resource_type, {}).items():
        if key in arguments:
            fields = {k: getattr(module, inner[k])(**v) if k in inner else v for k, v in arguments[key].items()}
            arguments[key] = getattr(module, struct)(**fields)
    return arguments


def test_logical_ids_are_cdktns(tmp_path: Path) -> None:
    from cdktn import App, TerraformStack
    from cdktn_provider_aws.iam_role import IamRole
    from cdktn_provider_aws.provider import AwsProvider
    from constructs import Construct

    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "ids")
    AwsProvider(stack, "aws", region="eu-west-1")
    for number, path in enumerate(PATHS):
        scope: Construct = stack
        for component in path[:-1]:
            scope = scope.node.try_find_child(component) or Construct(scope, component)  # type: ignore[assignment]
        IamRole(scope, path[-1], name=f"role-{number}", assume_role_policy="{}")
    app.synth()
    roles = json.loads((tmp_path / "stacks" / "ids" / "cdk.tf.json").read_text())["resource"]["aws_iam_role"]
    by_name = {body["name"]: name for name, body in roles.items()}
    assert [logical_id(path) for path in PATHS] == [by_name[f"role-{n}"] for n in range(len(PATHS))]


def plain_blocks_and_bindings(policy: GovernancePolicy, outdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Builds ``policy``'s stacks; returns their plain blocks as synthesized (``stack:type.name``: block, tokens
    resolved; ``stack:provider.alias``: configuration) and what the binding of each block's type (or the provider's)
    renders, given those arguments at the same path."""
    from infra.app import build, stack_classes

    stack_classes()
    from cdktn import App, TerraformStack
    from cdktn_provider_aws.provider import AwsProvider
    from constructs import Construct

    app = App(outdir=str(outdir / "blueprint"))
    stacks = build(app, policy)
    app.synth()
    reference = App(outdir=str(outdir / "bindings"))
    synthesized: dict[str, Any] = {}
    for stack_name, stack in stacks.items():
        if not stack.plain_blocks:
            continue
        stack_json = json.loads((outdir / "blueprint" / "stacks" / stack_name / "cdk.tf.json").read_text())
        resources = stack_json["resource"]
        reference_stack = TerraformStack(reference, stack_name)
        providers = {"aws": AwsProvider(reference_stack, "aws", region=policy.regions.home)}
        aliased = {c["alias"]: c for c in stack_json["provider"]["aws"] if "alias" in c}
        for configuration in stack.plain_providers.get("aws", []):
            alias = configuration["alias"]
            synthesized[f"{stack_name}:provider.{alias}"] = aliased[alias]
            providers[f"aws.{alias}"] = AwsProvider(reference_stack, f"aws-{alias}", **provider_arguments(configuration))
        for resource_type, named in stack.plain_blocks.items():
            module, class_name = binding(resource_type)
            for name, block in named.items():
                body = resources[resource_type][name]  # the block, its tokens resolved
                assert set(body) == set(block), f"{stack_name}: {resource_type}.{name} has more than its block"
                *parents, construct_id = block["//"]["metadata"]["path"].split("/")[1:]
                scope: Construct = reference_stack
                for component in parents:
                    scope = scope.node.try_find_child(component) or Construct(scope, component)  # type: ignore[assignment]
                getattr(module, class_name)(scope, construct_id, **binding_arguments(resource_type, body, providers))
                synthesized[f"{stack_name}:{resource_type}.{name}"] = body
    reference.synth()
    rendered: dict[str, Any] = {}
    for stack_dir in (outdir / "bindings" / "stacks").iterdir():
        stack_json = json.loads((stack_dir / "cdk.tf.json").read_text())
        for resource_type, named in stack_json["resource"].items():
            rendered.update({f"{stack_dir.name}:{resource_type}.{name}": body for name, body in named.items()})
        aliased = [c for c in stack_json["provider"]["aws"] if "alias" in c]
        rendered.update({f"{stack_dir.name}:provider.{c['alias']}": c for c in aliased})
    return synthesized, rendered


def test_plain_blocks_synthesize_as_the_bindings_would(policy: GovernancePolicy, tmp_path: Path) -> None:
    """Every plain block of the shipped policy's stacks is in the stack's JSON as written (no binding merged into
    it), and the binding of its type, given the same arguments at the same path, renders the same block."""
    synthesized, rendered = plain_blocks_and_bindings(policy, tmp_path)
    endpoints = sum(len(project.endpoints) for project in policy.projects)  # each a drift-job schedule
    regions = len(policy.regions.forwarded)  # a provider configuration, two rules and two targets each
    assert len(synthesized) == 6 * len(policy.projects) + endpoints + 5 * regions
    assert {address.split(":")[0] for address in synthesized} == {"identity", "model-registry", "monitoring", "enforcement"}
    assert rendered == synthesized


def test_the_multi_account_stacks_plain_blocks_too(tmp_path: Path) -> None:
    """The hub's registry (group, its policy, the artifact key and alias per project) and the workload accounts'
    per-project hub grants, as the bindings render them."""
    policy = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    synthesized, rendered = plain_blocks_and_bindings(policy, tmp_path)
    kinds = {address.split(".")[0] for address in synthesized}
    assert {
        "hub-registry:aws_kms_key",
        "hub-registry:aws_kms_alias",
        "spoke-prod-workload:aws_iam_role_policy",
        "spoke-prod-workload:provider",  # each assuming the deployment role in its account
        "hub-enforcement:aws_cloudwatch_event_rule",
    } <= kinds
    assert rendered == synthesized


def test_a_resource_added_twice_is_refused() -> None:
    resources = PlainResources(stack=None, stack_id="identity")  # type: ignore[arg-type]
    resources.add("aws_iam_role", ("execution-a",), {"name": "a"})
    with pytest.raises(ValueError, match=r"identity: aws_iam_role\.execution-a is added twice"):
        resources.add("aws_iam_role", ("execution-a",), {"name": "b"})


def test_a_path_component_holding_a_slash_is_refused() -> None:
    """constructs turns "/" in an id into "--"; a plain resource names no such path rather than guess the address."""
    with pytest.raises(ValueError, match="'a/b'"):
        logical_id(("a/b",))
