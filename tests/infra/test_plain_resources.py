"""The stacks' resources and lookups written as plain Terraform JSON (infra/plain_resources.py) synthesize to what
the provider bindings wrote: the addresses cdktn gives, arguments the binding accepts and renders the same, nothing
merged into them from a binding at the same address, the order Terraform cannot infer declared; the same for the
plain provider configurations."""

from __future__ import annotations

import filecmp
import importlib
import json
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import infra.node  # noqa: F401  (the bundled Node.js, before cdktn starts jsii)
from infra.plain_resources import PlainResources, logical_id
from infra.stack_order import layout
from policies.loader import load_policy
from policies.model import GovernancePolicy
from tests.conftest import REPO

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


# The plain blocks' nested blocks, as their bindings' structs: (module, struct, its own nested blocks). jsii does
# not always take a dict for a struct (a list of dicts for the provider's assume_role rendered as [{}]), so each is
# built as its struct; a nested block missing here fails the test.
NESTED_BLOCKS: dict[tuple[str, str], tuple[str, str, dict[str, str]]] = {
    ("aws_scheduler_schedule", "flexible_time_window"): ("scheduler_schedule", "SchedulerScheduleFlexibleTimeWindow", {}),
    ("aws_scheduler_schedule", "target"): (
        "scheduler_schedule",
        "SchedulerScheduleTarget",
        {"retry_policy": "SchedulerScheduleTargetRetryPolicy", "dead_letter_config": "SchedulerScheduleTargetDeadLetterConfig"},
    ),
    ("aws_cloudwatch_event_target", "retry_policy"): ("cloudwatch_event_target", "CloudwatchEventTargetRetryPolicy", {}),
    ("aws_cloudwatch_event_target", "dead_letter_config"): (
        "cloudwatch_event_target",
        "CloudwatchEventTargetDeadLetterConfig",
        {},
    ),
    ("aws_lambda_function", "tracing_config"): ("lambda_function", "LambdaFunctionTracingConfig", {}),
    ("aws_lambda_function", "dead_letter_config"): ("lambda_function", "LambdaFunctionDeadLetterConfig", {}),
    ("aws_lambda_function", "environment"): ("lambda_function", "LambdaFunctionEnvironment", {}),
    ("aws_dynamodb_table", "attribute"): ("dynamodb_table", "DynamodbTableAttribute", {}),
    ("aws_dynamodb_table", "ttl"): ("dynamodb_table", "DynamodbTableTtl", {}),
    ("aws_dynamodb_table", "server_side_encryption"): ("dynamodb_table", "DynamodbTableServerSideEncryption", {}),
    ("aws_dynamodb_table", "point_in_time_recovery"): ("dynamodb_table", "DynamodbTablePointInTimeRecovery", {}),
    ("aws_cloudwatch_log_metric_filter", "metric_transformation"): (
        "cloudwatch_log_metric_filter",
        "CloudwatchLogMetricFilterMetricTransformation",
        {},
    ),
    ("aws_s3_bucket_ownership_controls", "rule"): ("s3_bucket_ownership_controls", "S3BucketOwnershipControlsRule", {}),
    ("aws_s3_bucket_versioning", "versioning_configuration"): (
        "s3_bucket_versioning",
        "S3BucketVersioningVersioningConfiguration",
        {},
    ),
    ("aws_s3_bucket_server_side_encryption_configuration", "rule"): (
        "s3_bucket_server_side_encryption_configuration",
        "S3BucketServerSideEncryptionConfigurationRuleA",
        {
            "apply_server_side_encryption_by_default": "S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA"
        },
    ),
    ("aws_s3_bucket_object_lock_configuration", "rule"): (
        "s3_bucket_object_lock_configuration",
        "S3BucketObjectLockConfigurationRuleA",
        {"default_retention": "S3BucketObjectLockConfigurationRuleDefaultRetentionA"},
    ),
    ("aws_s3_bucket_lifecycle_configuration", "rule"): (
        "s3_bucket_lifecycle_configuration",
        "S3BucketLifecycleConfigurationRule",
        {
            "filter": "S3BucketLifecycleConfigurationRuleFilter",
            "abort_incomplete_multipart_upload": "S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload",
            "noncurrent_version_expiration": "S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration",
            "transition": "S3BucketLifecycleConfigurationRuleTransition",
            "expiration": "S3BucketLifecycleConfigurationRuleExpiration",
        },
    ),
    ("provider", "default_tags"): ("provider", "AwsProviderDefaultTags", {}),
    ("provider", "assume_role"): ("provider", "AwsProviderAssumeRole", {}),
}
MAPS = {"tags", "dimensions"}  # arguments that are maps of strings, not blocks


def binding_arguments(kind: str, body: dict[str, Any], providers: dict[str, Any]) -> dict[str, Any]:
    """The binding's keyword arguments for a plain block of ``kind`` (a resource type, or ``provider``): nested
    blocks as the binding's structs, its provider as that configuration's binding."""

    def struct(key: str, value: dict[str, Any]) -> Any:
        assert (kind, key) in NESTED_BLOCKS, f"{kind}.{key}: add its struct to NESTED_BLOCKS"
        module_name, class_name, inner = NESTED_BLOCKS[(kind, key)]
        module = importlib.import_module(f"cdktn_provider_aws.{module_name}")

        def nested(k: str, v: Any) -> Any:
            if k not in inner:
                return v
            return [getattr(module, inner[k])(**item) for item in v] if isinstance(v, list) else getattr(module, inner[k])(**v)

        return getattr(module, class_name)(**{k: nested(k, v) for k, v in value.items()})

    arguments: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("//", "depends_on"):  # depends_on: a meta-argument, compared as written (``plain_blocks_and_bindings``)
            continue
        if key == "provider":
            arguments[key] = providers[value]
        elif isinstance(value, dict) and key not in MAPS:
            arguments[key] = struct(key, value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            arguments[key] = [struct(key, item) for item in value]
        else:
            arguments[key] = value
    return arguments


def addresses(outdir: Path) -> dict[str, dict[str, Any]]:
    """``stack:type.name`` of every resource, ``stack:data.type.name`` of every data source, ``stack:provider`` of the
    default provider and ``stack:provider.alias`` of every aliased one, synthesized."""
    found: dict[str, dict[str, Any]] = {}
    for stack_dir in (outdir / "stacks").iterdir():
        stack_json = json.loads((stack_dir / "cdk.tf.json").read_text())
        for resource_type, named in stack_json.get("resource", {}).items():
            found.update({f"{stack_dir.name}:{resource_type}.{name}": body for name, body in named.items()})
        for data_type, named in stack_json.get("data", {}).items():
            found.update({f"{stack_dir.name}:data.{data_type}.{name}": body for name, body in named.items()})
        for configuration in stack_json.get("provider", {}).get("aws", []):
            found[f"{stack_dir.name}:provider" + (f".{configuration['alias']}" if "alias" in configuration else "")] = (
                configuration
            )
    return found


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


def written_as_by_the_kernel(merged: Path, by_the_kernel: Path) -> list[str]:
    """The stacks' JSON with the plain blocks added after synth (a GovernanceApp) is the JSON the kernel writes when
    they are handed to it, byte for byte, but for the note of the stack's overrides that the kernel's holds (the
    sections the blocks and the ``terraform`` settings went through, and nothing else)."""

    def without_plain_overrides(text: str) -> str:
        noted = re.search(r'\n\s*"overrides": \{\s*"stack": \[([^\]]*)\]\s*\},', text)
        if noted is None:
            return text
        assert set(re.findall(r'"([^"]+)"', noted.group(1))) <= {"resource", "data", "provider", "terraform"}, noted.group(0)
        return text[: noted.start()] + text[noted.end() :]

    assets = sorted(path.relative_to(by_the_kernel) for path in by_the_kernel.glob("stacks/*/assets/**/*") if path.is_file())
    assert assets == sorted(path.relative_to(merged) for path in merged.glob("stacks/*/assets/**/*") if path.is_file())
    for asset in assets:  # placed by the kernel, or linked after synth
        assert filecmp.cmp(merged / asset, by_the_kernel / asset, shallow=False), asset
    files = sorted(path.relative_to(by_the_kernel) for path in by_the_kernel.rglob("*.json"))
    assert files == sorted(path.relative_to(merged) for path in merged.rglob("*.json"))
    for file in files:
        assert (merged / file).read_text() == without_plain_overrides((by_the_kernel / file).read_text()), file
    return [str(file) for file in files if file.name == "cdk.tf.json"]


def plain_blocks_and_bindings(policy: GovernancePolicy, outdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Builds ``policy``'s stacks; returns their plain blocks as synthesized (``stack:type.name``: block, tokens
    resolved; ``stack:provider.alias``: configuration) and what the binding of each block's type (or the provider's)
    renders, given those arguments at the same path. Checks on the way that each block is in its stack as written,
    that the stacks hold their bindings' resources and their plain blocks, none at another's address, and that a
    GovernanceApp (the blocks added after synth) writes what the kernel writes (the blocks handed to it)."""
    from infra.app import build, stack_classes, synth

    stack_classes()
    from cdktn import App, TerraformStack
    from cdktn_provider_aws.provider import AwsProvider
    from constructs import Construct

    app = App(outdir=str(outdir / "blueprint"))  # not a GovernanceApp: the blocks go through the kernel
    stacks = build(app, policy)
    app.synth()
    merged_after_synth = synth(policy, outdir / "merged-after-synth")
    assert written_as_by_the_kernel(merged_after_synth, outdir / "blueprint")
    with mock.patch.object(PlainResources, "write", lambda self: None):  # the same stacks, their bindings only
        bindings_only = App(outdir=str(outdir / "bindings-only"))
        build(bindings_only, policy)
        bindings_only.synth()
    blueprint, of_bindings = addresses(outdir / "blueprint"), addresses(outdir / "bindings-only")

    reference = App(outdir=str(outdir / "bindings"))
    synthesized: dict[str, Any] = {}
    depends_on: dict[str, list[str]] = {}  # as written; the bindings take objects, not addresses
    for stack_name, stack in stacks.items():
        if not stack.plain.has_blocks:
            continue
        reference_stack = TerraformStack(reference, stack_name)
        configurations = stack.plain.providers.get("aws", [])
        default = configurations[0] if configurations and "alias" not in configurations[0] else None
        if default is not None:  # plain, as the provider's binding would write it
            synthesized[f"{stack_name}:provider"] = blueprint[f"{stack_name}:provider"]
        arguments = binding_arguments("provider", default, {}) if default else {"region": policy.regions.home}
        providers = {"aws": AwsProvider(reference_stack, "aws", **arguments)}
        for configuration in configurations[1:] if default else configurations:
            alias = configuration["alias"]
            synthesized[f"{stack_name}:provider.{alias}"] = blueprint[f"{stack_name}:provider.{alias}"]
            providers[f"aws.{alias}"] = AwsProvider(
                reference_stack, f"aws-{alias}", **binding_arguments("provider", configuration, {})
            )
        for resource_type, named in [
            *stack.plain.blocks.items(),
            *((f"data.{t}", n) for t, n in stack.plain.data_blocks.items()),
        ]:
            module_name = resource_type.replace("data.aws_", "data_aws_").removeprefix("aws_")
            module = importlib.import_module(f"cdktn_provider_aws.{module_name}")
            class_name = "".join(part.capitalize() for part in module_name.split("_"))
            # a resource class the provider's other names clash with takes an "A" (S3BucketVersioningA)
            binding = getattr(module, class_name, None) or getattr(module, f"{class_name}A")
            for name, block in named.items():
                body = blueprint[f"{stack_name}:{resource_type}.{name}"]  # the block, its tokens resolved
                assert set(body) == set(block), f"{stack_name}: {resource_type}.{name} has more than its block"
                *parents, construct_id = block["//"]["metadata"]["path"].split("/")[1:]
                scope: Construct = reference_stack
                for component in parents:
                    scope = scope.node.try_find_child(component) or Construct(scope, component)  # type: ignore[assignment]
                binding(scope, construct_id, **binding_arguments(resource_type, body, providers))
                synthesized[f"{stack_name}:{resource_type}.{name}"] = body
                for address in body.get("depends_on", []):
                    assert f"{stack_name}:{address}" in blueprint, f"{stack_name}: {resource_type}.{name} depends on {address}"
                    depends_on[f"{stack_name}:{resource_type}.{name}"] = body["depends_on"]
    reference.synth()
    shared = set(synthesized) & set(of_bindings)
    assert not shared, f"plain blocks at a binding's address: {sorted(shared)[:5]}"
    assert set(blueprint) == set(of_bindings) | set(synthesized)
    rendered = {address: body for address, body in addresses(outdir / "bindings").items() if address in synthesized}
    for address, dependencies in depends_on.items():
        rendered[address] = rendered[address] | {"depends_on": dependencies}
    return synthesized, rendered


def test_plain_blocks_synthesize_as_the_bindings_would(policy: GovernancePolicy, tmp_path: Path) -> None:
    """Every resource of the shipped policy's stacks is a plain block, in the stack's JSON as written (no binding
    merged into it), and the binding of its type, given the same arguments at the same path, renders the same block."""
    synthesized, rendered = plain_blocks_and_bindings(policy, tmp_path)
    assert set(synthesized) == set(addresses(tmp_path / "blueprint"))  # every resource, every other Region's provider
    assert len([address for address in synthesized if ":provider." in address]) == len(policy.regions.forwarded)
    assert {address.split(":")[0] for address in synthesized} == {
        "foundation",
        "identity",
        "audit-trail",
        "model-registry",
        "monitoring",
        "enforcement",
    }
    assert rendered == synthesized


def test_alert_emails_and_no_trail_as_the_bindings_render_them(tmp_path: Path) -> None:
    """The blocks only some policies make: the alert topic's email subscriptions; and a policy without the
    trail, whose audit-trail stack holds only its lookups."""
    data = load_policy().model_dump(mode="json")
    data["notifications"]["emails"] = ["ml-platform@example.com", "security@example.com"]
    data["create_cloudtrail"] = False
    synthesized, rendered = plain_blocks_and_bindings(GovernancePolicy.model_validate(data), tmp_path)
    assert len([a for a in synthesized if a.startswith("foundation:aws_sns_topic_subscription.")]) == 2
    assert {a.split(".")[0] for a in synthesized if a.startswith("audit-trail:")} == {
        "audit-trail:data",  # its account and partition lookups only
        "audit-trail:provider",  # and its provider
    }
    assert rendered == synthesized


def test_what_must_exist_first_is_declared(policy: GovernancePolicy, tmp_path: Path) -> None:
    """The order Terraform cannot infer from references, each edge as written (the equivalence test takes
    depends_on as written): a function after its log group (else Lambda creates one, unencrypted, on its first
    run), its role's policy and the idempotency table; a bucket's lifecycle and Object Lock after its versioning,
    its policy after its public access block; the lineage and audit buckets after the access-log bucket."""
    from infra.app import synth
    from lambdas.table import HANDLERS

    edges = set()
    for path in (synth(policy, tmp_path) / "stacks").glob("*/cdk.tf.json"):
        stack_json = json.loads(path.read_text())
        blocks = [
            (f"{prefix}{block_type}.{name}", body)
            for section, prefix in (("resource", ""), ("data", "data."))
            for block_type, named in stack_json.get(section, {}).items()
            for name, body in named.items()
        ]
        construct = {address: body["//"]["metadata"]["path"] for address, body in blocks}
        edges |= {(construct[a], construct[d]) for a, body in blocks for d in body.get("depends_on", ())}
    expected = {
        (f"enforcement/{spec.name}/function", f"enforcement/{dependency}")
        for spec in HANDLERS
        for dependency in (f"{spec.name}/logs", f"{spec.name}/role-policy", "idempotency")
    }
    buckets = ("access-logs", "lineage", "audit")
    expected |= {(f"foundation/{b}/lifecycle", f"foundation/{b}/versioning") for b in buckets}
    expected |= {(f"foundation/{b}/policy", f"foundation/{b}/public-access-block") for b in buckets}
    expected |= {("foundation/audit/object-lock", "foundation/audit/versioning")}
    expected |= {(f"foundation/{b}/bucket", "foundation/access-logs/bucket") for b in ("lineage", "audit")}
    assert edges == expected


def test_the_multi_account_stacks_plain_blocks_too(tmp_path: Path) -> None:
    """Every resource of the multi-account example's stacks (the organization's SCPs, the hub's registry, artifact
    store and cross-account grants, the workload accounts' forwarding, enforcement roles and deployer) is a plain
    block, as the bindings render it; so are the other Regions' provider configurations."""
    policy = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    synthesized, rendered = plain_blocks_and_bindings(policy, tmp_path)
    assert set(synthesized) == set(addresses(tmp_path / "blueprint"))
    assert {plan.name for plan in layout(policy)} == {address.split(":")[0] for address in synthesized}
    kinds = {address.split(".")[0] for address in synthesized}
    assert {
        "organization:aws_organizations_policy_attachment",
        "hub-registry:aws_kms_key",
        "hub-registry:aws_s3_bucket_policy",
        "hub-cross-account:aws_cloudwatch_event_bus_policy",
        "spoke-prod-workload:aws_lambda_function",
        "spoke-prod-workload:provider",  # each assuming the deployment role in its account
        "hub-enforcement:aws_cloudwatch_event_rule",
    } <= kinds
    assert rendered == synthesized


def test_a_resource_added_twice_is_refused() -> None:
    resources = PlainResources(stack=None, stack_id="identity")  # type: ignore[arg-type]
    resources.add("aws_iam_role", ("execution-a",), {"name": "a"})
    with pytest.raises(ValueError, match=r"identity: aws_iam_role\.execution-a is added twice"):
        resources.add("aws_iam_role", ("execution-a",), {"name": "b"})


def test_an_output_added_twice_or_misnamed_is_refused() -> None:
    outputs = PlainResources(stack=None, stack_id="foundation", merged_after_synth=True)  # type: ignore[arg-type]
    outputs.add_output("audit-bucket", "acme-ml-audit")
    with pytest.raises(ValueError, match=r"foundation: output audit-bucket is added twice"):
        outputs.add_output("audit-bucket", "other")
    with pytest.raises(ValueError, match=r"'audit bucket' is not an output name"):
        outputs.add_output("audit bucket", "acme-ml-audit")


@pytest.mark.parametrize("value", ["a number token", "a list token", "a token as a map key", "a kernel object", "2**60"])
def test_a_value_a_plain_block_cannot_hold_is_refused_where_it_is_added(value: str) -> None:
    from cdktn import Fn, Token

    resources = PlainResources(stack=None, stack_id="identity")  # type: ignore[arg-type]
    arguments: dict[str, Any] = {
        "a number token": {"delay_seconds": Fn.length_of(["a"])},
        "a list token": {"tags_all": Fn.split(",", "a,b")},
        "a token as a map key": {"tags": {Fn.upper("k"): "v"}},
        "a kernel object": {"policy": Token.as_any("{}")},
        "2**60": {"max_message_size": 2**60},
    }[value]
    with pytest.raises(ValueError, match=r"identity: aws_sqs_queue\.refused holds "):
        resources.add("aws_sqs_queue", ("refused",), {"name": "refused", **arguments})


def test_a_path_component_holding_a_slash_is_refused() -> None:
    """constructs turns "/" in an id into "--"; a plain resource names no such path rather than guess the address."""
    with pytest.raises(ValueError, match="'a/b'"):
        logical_id(("a/b",))


def two_stacks(outdir: Path, *, governance_app: bool = True) -> tuple[Any, Any, Any]:
    """An app with two governance stacks of the shipped policy, ``first`` and ``second``: a GovernanceApp, or one
    whose stacks hand their plain blocks to the kernel."""
    from infra.app import stack_classes

    stack_classes()
    from cdktn import App

    from infra.stacks.base import BackendSettings, GovernanceApp, GovernanceStack

    policy = load_policy()
    app = GovernanceApp(outdir=str(outdir)) if governance_app else App(outdir=str(outdir))
    first = GovernanceStack(app, "first", policy=policy, backend=BackendSettings())
    second = GovernanceStack(app, "second", policy=policy, backend=BackendSettings())
    return app, first, second


def test_a_governance_app_writes_a_blocks_values_and_tokens_as_the_kernel_does(tmp_path: Path) -> None:
    """Tokens of the block's own stack resolved (in a policy document too, inside an expression of the string's own,
    a number token written into a string), characters JSON escapes or does not, numbers as JavaScript writes them,
    None left out of maps and lists: the same bytes as the kernel writes with the block handed to it."""
    from cdktn_provider_aws.sqs_queue import SqsQueue

    for governance_app in (True, False):
        app, first, _ = two_stacks(tmp_path / str(governance_app), governance_app=governance_app)
        first.provider_binding()  # for the queue's binding
        queue = SqsQueue(first, "queue", name="queue")
        with first.plain_resources() as plain:
            document = json.dumps({"Statement": [{"Resource": queue.arn, "Account": first.names.account}]})
            plain.add("aws_sqs_queue_policy", ("queue-policy",), {"queue_url": queue.url, "policy": document})
            literals = {"name": 'café – "ü" \\ \t\n <&> \u2028 \x01', "delay_seconds": 2.0, "max_message_size": 1.5}
            plain.add("aws_sqs_queue", ("literals",), {**literals, "tags": {"z": "1", "a": "", "ß": "2", "n": None}})
            within = {
                "name": f"${{upper({queue.name})}}",  # a token inside an expression of the string's own
                "policy": json.dumps({"Delay": queue.delay_seconds, "Queue": f"{queue.name}-{queue.arn}"}),  # a number token
                "redrive_allow_policy": [None, queue.url],
                "sqs_managed_sse_enabled": f"q {queue.delay_seconds}",  # a number token, no string token
            }
            plain.add("aws_sqs_queue", ("expressions",), within)
        app.synth()
    written_as_by_the_kernel(tmp_path / "True", tmp_path / "False")
    block = json.loads((tmp_path / "True" / "stacks" / "first" / "cdk.tf.json").read_text())["resource"]
    assert block["aws_sqs_queue_policy"]["queue-policy"]["queue_url"] == "${aws_sqs_queue.queue.url}"
    assert json.loads(block["aws_sqs_queue_policy"]["queue-policy"]["policy"])["Statement"] == [
        {"Resource": "${aws_sqs_queue.queue.arn}", "Account": "${data.aws_caller_identity.current.account_id}"}
    ]
    assert block["aws_sqs_queue"]["expressions"]["name"] == "${upper(aws_sqs_queue.queue.name)}"


@pytest.mark.parametrize(
    "fault",
    [
        "another stack's token",
        "another stack's token in a function",
        "a reference written by hand to a block the stack lacks",
        "another stack's token after a map in a function",
        "another stack's token in a JSON document",
        "an indexed reference to a block the stack lacks",
        "a depends_on on a block the stack lacks",
        "a token of no string",
        "a binding's address",
    ],
)
def test_a_block_a_governance_app_cannot_write_leaves_no_stack_without_its_blocks(tmp_path: Path, fault: str) -> None:
    """Another stack's token (cdktn wires no reference for a plain block; bare or in a function), a string token that
    stands for no string, a block at a binding's address: refused, and the JSON of every stack with plain blocks removed, so that Terraform applies none without
    them; a stack without plain blocks keeps its JSON."""
    from cdktn import Fn, TerraformStack, Token
    from cdktn_provider_aws.provider import AwsProvider
    from cdktn_provider_aws.sqs_queue import SqsQueue

    app, first, second = two_stacks(tmp_path)
    first.provider_binding()  # for the queue's binding
    queue = SqsQueue(first, "queue", name="queue")
    with first.plain_resources() as plain:
        plain.add("aws_sqs_queue", ("spare",), {"name": "spare"})
    third = TerraformStack(app, "third")  # every governance stack has plain blocks (its lookups at least)
    AwsProvider(third, "aws", region="eu-west-1")
    SqsQueue(third, "kept", name="kept")
    with second.plain_resources() as plain:
        if fault == "another stack's token":
            plain.add("aws_sqs_queue_policy", ("policy",), {"queue_url": queue.url, "policy": "{}"})
            expected = r"second: a block refers to aws_sqs_queue\.queue, which the stack does not hold"
        elif fault == "another stack's token in a function":
            plain.add("aws_sqs_queue", ("named",), {"name": Fn.upper(queue.name)})
            expected = r"second: a block refers to aws_sqs_queue\.queue, which the stack does not hold"
        elif fault == "a reference written by hand to a block the stack lacks":
            plain.add(
                "aws_sqs_queue", ("keyed",), {"name": "k", "kms_master_key_id": "${data.aws_kms_alias.key-no.target_key_arn}"}
            )
            expected = r"second: a block refers to data\.aws_kms_alias\.key-no, which the stack does not hold"
        elif fault == "another stack's token after a map in a function":
            plain.add("aws_sqs_queue", ("merged",), {"name": "m", "tags": Fn.merge([{"team": "ml"}, {"peer": queue.name}])})
            expected = r"second: a block refers to aws_sqs_queue\.queue, which the stack does not hold"
        elif fault == "another stack's token in a JSON document":
            document = Fn.jsonencode({"Statement": [{"Condition": {"Bool": {"a": "true"}}, "Resource": queue.arn}]})
            plain.add("aws_sqs_queue_policy", ("policy",), {"queue_url": "u", "policy": document})
            expected = r"second: a block refers to aws_sqs_queue\.queue, which the stack does not hold"
        elif fault == "an indexed reference to a block the stack lacks":
            plain.add("aws_sqs_queue", ("indexed",), {"name": "i", "kms_master_key_id": "${aws_kms_key.nowhere[0].arn}"})
            expected = r"second: a block refers to aws_kms_key\.nowhere, which the stack does not hold"
        elif fault == "a depends_on on a block the stack lacks":
            plain.add("aws_sqs_queue", ("late",), {"name": "late", "depends_on": ["aws_dynamodb_table.nowhere"]})
            expected = r"second: a block refers to aws_dynamodb_table\.nowhere, which the stack does not hold"
        elif fault == "a token of no string":
            plain.add("aws_sqs_queue", ("counted",), {"name": "counted", "tags": {"n": Token.as_string(5)}})
            expected = r"second: a string token in a plain block stands for 5, not a string"
        else:
            second.provider_binding()
            SqsQueue(second, "taken", name="taken")
            plain.add("aws_sqs_queue", ("taken",), {"name": "taken"})
            expected = r"second: aws_sqs_queue\.taken is both a binding and a plain block"
    with pytest.raises(ValueError, match=expected):
        app.synth()
    stacks = tmp_path / "stacks"
    assert not (stacks / "first" / "cdk.tf.json").exists()
    assert not (stacks / "second" / "cdk.tf.json").exists()
    assert "aws_sqs_queue" in json.loads((stacks / "third" / "cdk.tf.json").read_text())["resource"]


def test_text_that_reads_like_an_address_outside_an_interpolation_is_not_a_reference(tmp_path: Path) -> None:
    """Only a ``${...}`` refers to a block: a tag value or a description may read "aws_team.ml.prod" (tag values allow
    letters, digits and "_.:/=+-@"), or hold an escaped "$${aws_x.y.z}"."""
    app, first, _ = two_stacks(tmp_path)
    with first.plain_resources() as plain:
        plain.add("aws_sqs_queue", ("tagged",), {"name": "tagged", "tags": {"team": "aws_team.ml.prod", "note": "$${aws_x.y.z}"}})
        plain.add("aws_sqs_queue", ("literal",), {"name": '${replace("aws_x.y.z", ".", "-")}'})  # a literal in an expression
    app.synth()
    queue = json.loads((tmp_path / "stacks" / "first" / "cdk.tf.json").read_text())["resource"]["aws_sqs_queue"]["tagged"]
    assert queue["tags"] == {"team": "aws_team.ml.prod", "note": "$${aws_x.y.z}"}


def test_a_synth_cdktn_fails_leaves_no_stack_without_its_blocks(tmp_path: Path) -> None:
    """cdktn writes the stacks one by one and may fail after some (an error annotation, a failed validation)."""
    from cdktn import Annotations

    app, first, second = two_stacks(tmp_path)
    with first.plain_resources() as plain:
        plain.add("aws_sqs_queue", ("spare",), {"name": "spare"})
    Annotations.of(second).add_error("a stack cdktn refuses")
    with pytest.raises(RuntimeError, match="a stack cdktn refuses"):
        app.synth()
    assert not (tmp_path / "stacks" / "first" / "cdk.tf.json").exists()


def test_a_stack_that_cannot_be_written_leaves_no_partial_file_and_no_stack_without_its_blocks(tmp_path: Path) -> None:
    app, first, second = two_stacks(tmp_path)
    for stack in (first, second):
        with stack.plain_resources() as plain:
            plain.add("aws_sqs_queue", ("spare",), {"name": "spare"})
    replace = Path.replace

    def disk_full_for_the_second(self: Path, target: Any) -> Path:
        if Path(target).parent.name == "second":
            raise OSError(28, "No space left on device")
        return replace(self, target)

    with mock.patch.object(Path, "replace", disk_full_for_the_second), pytest.raises(RuntimeError, match="No space left"):
        app.synth()
    stacks = tmp_path / "stacks"
    assert "aws_sqs_queue" in json.loads((stacks / "first" / "cdk.tf.json").read_text())["resource"]
    assert not (stacks / "second" / "cdk.tf.json").exists()
    assert not list(stacks.rglob("*.partial"))


def test_an_asset_that_cannot_be_placed_leaves_no_stack_naming_it(tmp_path: Path) -> None:
    """A GovernanceApp places each asset beside its stack's JSON before writing any JSON: an archive gone from
    build/assets fails the synth, and no stack is left naming an asset that is not there."""
    from infra.constructs.staged_asset import lambda_archive
    from infra.lambda_packaging import stage_code

    app, _, second = two_stacks(tmp_path)
    code = lambda_archive(second, "handler-code", stage_code(load_policy()))
    with second.plain_resources() as plain:
        plain.add("aws_lambda_function", ("f",), {"function_name": "f", "role": "r", "filename": code.path})
    with (
        mock.patch("infra.plain_resources.os.link", side_effect=OSError(18, "cross-device")),
        mock.patch("infra.plain_resources.shutil.copyfile", side_effect=FileNotFoundError(2, "No such file", "archive.zip")),
        pytest.raises(RuntimeError, match=r"cannot place the assets of .*second"),
    ):
        app.synth()
    assert not (tmp_path / "stacks" / "second" / "cdk.tf.json").exists()
    assert not (tmp_path / "stacks" / "first" / "cdk.tf.json").exists()  # not written yet: every stack's blocks first

    app, _, second = two_stacks(tmp_path / "linked")
    code = lambda_archive(second, "handler-code", stage_code(load_policy()))
    app.synth()
    placed = tmp_path / "linked" / "stacks" / "second" / code.path
    assert placed.is_file() and code.source_code_hash == f'${{filebase64sha256("{code.path}")}}'


@pytest.mark.parametrize("binding", ["none", "before the account", "after the account"])
def test_the_default_provider_is_plain_unless_a_binding_needs_it_and_is_pointed_at_the_account_either_way(
    tmp_path: Path, binding: str
) -> None:
    """A governance stack writes its default AWS provider as plain JSON (no provider binding loaded); a stack whose
    bindings need one (Model Monitor's) gets the binding instead, written first as before; either way, and whichever
    comes first, the account's deployment role and account id reach every configuration (``assume_account``)."""
    from infra.constructs.account_provider import assume_account

    policy = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    app, first, _ = two_stacks(tmp_path)
    if binding == "before the account":
        first.provider_binding()
    with first.plain_resources() as plain:
        plain.add_provider("aws", "us-east-1", {"region": "us-east-1"})
    assume_account(first, policy, "444444444444")
    if binding == "after the account":
        first.provider_binding()
    app.synth()
    configurations = json.loads((tmp_path / "stacks" / "first" / "cdk.tf.json").read_text())["provider"]["aws"]
    assert [c.get("alias") for c in configurations] == [None, "us-east-1"]
    assert configurations[0]["default_tags"][0]["tags"]["governance-stack"] == "first"
    assert configurations[0]["region"] == "eu-west-1"
    for configuration in configurations:
        assert configuration["allowed_account_ids"] == ["444444444444"]
        assert configuration["assume_role"][0]["role_arn"].endswith(":444444444444:role/governance-deployer")


def test_a_synth_over_an_earlier_one_leaves_only_the_current_archive_of_each_asset(tmp_path: Path) -> None:
    """As cdktn does, placing an asset removes its earlier versions: a synth into the same directory after the
    handlers' package changed (here: the policy it carries) leaves one archive per asset, the one the JSON names."""
    from infra.app import synth

    policy = load_policy()
    data = policy.model_dump(mode="json")
    data["notifications"]["emails"] = ["ml-platform@example.com"]
    other = GovernancePolicy.model_validate(data)
    synth(policy, tmp_path)
    first = {p.relative_to(tmp_path) for p in tmp_path.glob("stacks/enforcement/assets/*/*/archive.zip")}
    synth(other, tmp_path)
    placed = {p.relative_to(tmp_path) for p in tmp_path.glob("stacks/enforcement/assets/*/*/archive.zip")}
    named = json.loads((tmp_path / "stacks" / "enforcement" / "cdk.tf.json").read_text())["resource"]
    filenames = {
        Path("stacks/enforcement") / body["filename"]
        for kind in ("aws_lambda_function", "aws_lambda_layer_version")
        for body in named[kind].values()
    }
    assert placed == filenames and len(placed) == 3
    assert placed != first  # the handler package's archive changed with the policy it carries
