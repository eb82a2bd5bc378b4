"""The IAM documents of an account as synthesized: read from ``cdktf.out/stacks/*/cdk.tf.json``, never from Python.

Terraform interpolations (``${aws_iam_role.x.arn}``, ``${data.aws_caller_identity.current.account_id}``)
are resolved to the ARNs they will have in one account; KMS keys, whose ids AWS picks, get a
stable stand-in ARN per key (``key/<alias name>``). An interpolation this module does not know
is an error, never left in place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from review.access.evaluator import LabelledPolicy, Principal

INTERPOLATION = re.compile(r"\$\{(?P<expr>[^}]+)\}")
ACCOUNT = "123456789012"


class UnresolvedReference(ValueError):
    """A Terraform expression in a policy that cannot be turned into a value."""


@dataclass(frozen=True)
class Role:
    stack: str
    address: str
    name: str
    arn: str
    trust: LabelledPolicy
    identity_policies: tuple[LabelledPolicy, ...]
    boundary: LabelledPolicy | None
    boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    """The role's own tags: IAM uses them as principal tags (session tags of the same key win)."""

    def principal(
        self, *, session: str | None = None, tags: Mapping[str, str] | None = None, scps: tuple[Any, ...] = ()
    ) -> Principal:
        arn = (
            self.arn
            if session is None
            else self.arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + f"/{session}"
        )
        return Principal(
            arn=arn,
            identity_policies=self.identity_policies,
            boundary=self.boundary,
            scp_levels=scps,
            tags={**self.tags, **(tags or {})},
        )


@dataclass
class SynthesizedAccount:
    """Everything IAM decides with, for one account: roles and the resource policies by resource ARN."""

    account: str
    partition: str
    region: str
    roles: dict[str, Role] = field(default_factory=dict)
    resource_policies: dict[str, LabelledPolicy] = field(default_factory=dict)
    key_arns: dict[str, str] = field(default_factory=dict)
    """Alias name (``alias/acme-ml-data``) -> the stand-in key ARN."""

    def role(self, name: str) -> Role:
        try:
            return self.roles[name]
        except KeyError:
            raise KeyError(f"no role {name!r} in the synthesized stacks; roles: {', '.join(sorted(self.roles))}") from None

    def key_arn(self, alias: str) -> str:
        return self.key_arns[alias]

    def policy_for(self, resource: str) -> LabelledPolicy | None:
        """The resource policy that applies to ``resource``: bucket for an object, group for a model package."""
        if resource in self.resource_policies:
            return self.resource_policies[resource]
        if resource.startswith(f"arn:{self.partition}:s3:::"):
            return self.resource_policies.get(resource.split("/", 1)[0])
        match = re.match(r"^(arn:[^:]+:sagemaker:[^:]+:\d{12}):model-package/([^/]+)/\d+$", resource)
        if match:
            return self.resource_policies.get(f"{match[1]}:model-package-group/{match[2]}")
        return None


def _stacks(outdir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    stacks = outdir / "stacks"
    if not stacks.is_dir():
        raise FileNotFoundError(f"{stacks} does not exist: run `make synth` first")
    for path in sorted(stacks.glob("*/cdk.tf.json")):
        yield path.parent.name, json.loads(path.read_text())


def _document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class _Resolver:
    """Values of Terraform references inside one stack."""

    def __init__(self, config: Mapping[str, Any], account: SynthesizedAccount) -> None:
        self.resources: Mapping[str, Mapping[str, Any]] = config.get("resource", {})
        self.data: Mapping[str, Mapping[str, Any]] = config.get("data", {})
        self.account = account
        self.alias_of_key = {
            ref[1]: str(body["name"])
            for body in self.resources.get("aws_kms_alias", {}).values()
            if (ref := _reference(body.get("target_key_id"))) and ref[0] == "aws_kms_key"
        }
        default: Mapping[str, Any] = next((p for p in config.get("provider", {}).get("aws", []) if "alias" not in p), {})
        self.region = str(default.get("region", account.region))

    def body(self, rtype: str, name: str) -> Mapping[str, Any]:
        try:
            body: Mapping[str, Any] = self.resources[rtype][name]
            return body
        except KeyError:
            raise UnresolvedReference(f"{rtype}.{name} is not a resource of this stack") from None

    def text(self, value: str) -> str:
        """Terraform's own ``${...}`` resolved; ``$${...}`` (an escaped IAM policy variable) becomes ``${...}``."""
        pieces = value.split("$${")
        resolved = [INTERPOLATION.sub(lambda m: self.expression(m["expr"]), piece) for piece in pieces]
        return "${".join(resolved)

    def expression(self, expr: str) -> str:
        a = self.account
        parts = expr.split(".")
        if expr == "data.aws_partition.partition.partition":
            return a.partition
        if expr == "data.aws_caller_identity.current.account_id":
            return a.account
        if parts[0] == "data" and parts[1] == "aws_kms_alias" and parts[-1] == "target_key_arn":
            try:
                alias = self.text(str(self.data[parts[1]][parts[2]]["name"]))
            except KeyError:
                raise UnresolvedReference(f"${{{expr}}}: no such data source in this stack") from None
            return a.key_arns.setdefault(alias, _key_arn(a, self.region, alias))
        if len(parts) != 3:
            raise UnresolvedReference(f"${{{expr}}}")
        rtype, name, attribute = parts
        body = self.body(rtype, name)
        if rtype == "aws_kms_key" and attribute in ("arn", "key_id"):
            found = self.alias_of_key.get(name)
            if found is None:
                raise UnresolvedReference(f"${{{expr}}}: the key has no alias")
            alias = found
            arn = a.key_arns.setdefault(alias, _key_arn(a, self.region, alias))
            return arn if attribute == "arn" else arn.rsplit("/", 1)[-1]
        named = {
            ("aws_iam_role", "arn"): lambda: f"arn:{a.partition}:iam::{a.account}:role/{self.text(body['name'])}",
            ("aws_iam_role", "name"): lambda: self.text(body["name"]),
            ("aws_iam_policy", "arn"): lambda: f"arn:{a.partition}:iam::{a.account}:policy/{self.text(body['name'])}",
            ("aws_sqs_queue", "arn"): lambda: f"arn:{a.partition}:sqs:{self.region}:{a.account}:{self.text(body['name'])}",
            ("aws_sns_topic", "arn"): lambda: f"arn:{a.partition}:sns:{self.region}:{a.account}:{self.text(body['name'])}",
            ("aws_s3_bucket", "id"): lambda: self.text(body["bucket"]),
            ("aws_s3_bucket", "bucket"): lambda: self.text(body["bucket"]),
            ("aws_s3_bucket", "arn"): lambda: f"arn:{a.partition}:s3:::{self.text(body['bucket'])}",
            ("aws_cloudwatch_event_rule", "arn"): lambda: (
                f"arn:{a.partition}:events:{self.region}:{a.account}:rule/{self.text(body['name'])}"
            ),
            ("aws_cloudwatch_event_bus", "arn"): lambda: (
                f"arn:{a.partition}:events:{self.region}:{a.account}:event-bus/{self.text(body['name'])}"
            ),
            ("aws_lambda_function", "arn"): lambda: (
                f"arn:{a.partition}:lambda:{self.region}:{a.account}:function:{self.text(body['function_name'])}"
            ),
            ("aws_sagemaker_model_package_group", "model_package_group_name"): lambda: self.text(
                body["model_package_group_name"]
            ),
        }
        value = named.get((rtype, attribute))
        if value is None:
            raise UnresolvedReference(f"${{{expr}}}: no rule to resolve {rtype}.{attribute}")
        return value()

    def document(self, value: Any, label: str) -> LabelledPolicy:
        def walk(node: Any) -> Any:
            if isinstance(node, str):
                return self.text(node)
            if isinstance(node, list):
                return [walk(v) for v in node]
            if isinstance(node, dict):
                return {k: walk(v) for k, v in node.items()}
            return node

        try:
            return LabelledPolicy(label, walk(_document(value)))
        except UnresolvedReference as exc:
            raise UnresolvedReference(f"{label}: {exc}") from None


def _key_arn(account: SynthesizedAccount, region: str, alias: str) -> str:
    return f"arn:{account.partition}:kms:{region}:{account.account}:key/{alias.removeprefix('alias/')}"


def _reference(value: Any) -> tuple[str, str] | None:
    match = INTERPOLATION.fullmatch(str(value))
    if not match:
        return None
    parts = match["expr"].split(".")
    return (parts[0], parts[1]) if len(parts) == 3 else None


def read_account(
    outdir: Path, *, account: str = ACCOUNT, partition: str = "aws", stacks: Collection[str] | None = None
) -> SynthesizedAccount:
    """Roles and resource policies of every stack under ``outdir`` (or only of ``stacks``: the stacks deployed in one
    account of a multi-account layout), resolved for ``account``."""
    found = list(_stacks(outdir))
    if stacks is not None:
        missing = sorted(set(stacks) - {name for name, _ in found})
        if missing:
            raise FileNotFoundError(f"{outdir}/stacks has no synthesized stack(s) {', '.join(missing)}")
    selected = [(name, config) for name, config in found if stacks is None or name in stacks]
    home = next(
        (p["region"] for _, c in selected for p in c.get("provider", {}).get("aws", []) if "alias" not in p),
        "us-east-1",
    )
    result = SynthesizedAccount(account=account, partition=partition, region=home)
    resolved = [(stack, config, _Resolver(config, result)) for stack, config in selected]
    managed: dict[str, LabelledPolicy] = {}
    for stack, config, resolver in resolved:  # managed policies (the boundary) may be attached from another stack
        for name, body in config.get("resource", {}).get("aws_iam_policy", {}).items():
            arn = resolver.expression(f"aws_iam_policy.{name}.arn")
            managed[arn] = resolver.document(body["policy"], f"{stack}:aws_iam_policy.{name}")
    inline = {stack: _inline_policies(stack, config.get("resource", {}), resolver) for stack, config, resolver in resolved}
    for stack, config, resolver in resolved:
        resources = config.get("resource", {})
        _collect_resource_policies(stack, resources, resolver, result)
        # a stack may add an inline policy to a role of another stack of the account (by the role's name)
        elsewhere: dict[str, list[LabelledPolicy]] = {}
        for other, policies in inline.items():
            if other != stack:
                for role, documents in policies.items():
                    elsewhere.setdefault(role, []).extend(documents)
        _collect_roles(stack, resources, resolver, result, managed, elsewhere=elsewhere)
    return result


def _inline_policies(stack: str, resources: Mapping[str, Any], r: _Resolver) -> dict[str, list[LabelledPolicy]]:
    inline: dict[str, list[LabelledPolicy]] = {}
    for name, body in resources.get("aws_iam_role_policy", {}).items():
        role = r.text(str(body["role"]))
        inline.setdefault(role, []).append(r.document(body["policy"], f"{stack}:aws_iam_role_policy.{name}"))
    return inline


def _collect_resource_policies(stack: str, resources: Mapping[str, Any], r: _Resolver, out: SynthesizedAccount) -> None:
    a = out
    for name, body in resources.get("aws_s3_bucket_policy", {}).items():
        bucket = r.text(str(body["bucket"]))
        out.resource_policies[f"arn:{a.partition}:s3:::{bucket}"] = r.document(
            body["policy"], f"{stack}:aws_s3_bucket_policy.{name}"
        )
    for name, body in resources.get("aws_kms_key", {}).items():
        arn = r.expression(f"aws_kms_key.{name}.arn")
        out.resource_policies[arn] = r.document(body["policy"], f"{stack}:aws_kms_key.{name}")
    for name, body in resources.get("aws_sns_topic_policy", {}).items():
        out.resource_policies[r.text(str(body["arn"]))] = r.document(body["policy"], f"{stack}:aws_sns_topic_policy.{name}")
    queue_arns = {
        f"${{aws_sqs_queue.{qname}.url}}": r.expression(f"aws_sqs_queue.{qname}.arn")
        for qname in resources.get("aws_sqs_queue", {})
    }
    for name, body in resources.get("aws_sqs_queue_policy", {}).items():
        queue = queue_arns.get(str(body["queue_url"]))
        if queue is None:
            raise UnresolvedReference(f"{stack}:aws_sqs_queue_policy.{name}: queue {body['queue_url']} is not in the stack")
        arn = queue
        out.resource_policies[arn] = r.document(body["policy"], f"{stack}:aws_sqs_queue_policy.{name}")
    for name, body in resources.get("aws_sagemaker_model_package_group_policy", {}).items():
        group = r.text(str(body["model_package_group_name"]))
        arn = f"arn:{a.partition}:sagemaker:{r.region}:{a.account}:model-package-group/{group}"
        out.resource_policies[arn] = r.document(
            body["resource_policy"], f"{stack}:aws_sagemaker_model_package_group_policy.{name}"
        )
    for name, body in resources.get("aws_cloudwatch_event_bus_policy", {}).items():
        bus = r.text(str(body.get("event_bus_name", "default")))
        arn = f"arn:{a.partition}:events:{r.region}:{a.account}:event-bus/{bus}"
        out.resource_policies[arn] = r.document(body["policy"], f"{stack}:aws_cloudwatch_event_bus_policy.{name}")


def _collect_roles(
    stack: str,
    resources: Mapping[str, Any],
    r: _Resolver,
    out: SynthesizedAccount,
    managed: Mapping[str, LabelledPolicy],
    *,
    elsewhere: Mapping[str, list[LabelledPolicy]] | None = None,
) -> None:
    inline = _inline_policies(stack, resources, r)
    for role, found in (elsewhere or {}).items():
        inline.setdefault(role, []).extend(found)
    attached: dict[str, list[str]] = {}
    for body in resources.get("aws_iam_role_policy_attachment", {}).values():
        attached.setdefault(r.text(str(body["role"])), []).append(r.text(str(body["policy_arn"])))
    for name, body in resources.get("aws_iam_role", {}).items():
        role_name = r.text(str(body["name"]))
        identity = [*inline.get(role_name, [])]
        for policy_arn in attached.get(role_name, []):
            if policy_arn not in managed:
                raise UnresolvedReference(f"{stack}:aws_iam_role.{name}: attached policy {policy_arn} is not synthesized")
            identity.append(managed[policy_arn])
        boundary, boundary_arn = None, None
        if body.get("permissions_boundary"):
            boundary_arn = r.text(str(body["permissions_boundary"]))
            if boundary_arn not in managed:
                raise UnresolvedReference(f"{stack}:aws_iam_role.{name}: boundary {boundary_arn} is not synthesized in any stack")
            boundary = managed[boundary_arn]
        out.roles[role_name] = Role(
            stack=stack,
            address=f"aws_iam_role.{name}",
            name=role_name,
            arn=r.expression(f"aws_iam_role.{name}.arn"),
            trust=r.document(body["assume_role_policy"], f"{stack}:aws_iam_role.{name}/trust"),
            identity_policies=tuple(identity),
            boundary=boundary,
            boundary_arn=boundary_arn,
            tags={str(k): r.text(str(v)) for k, v in (body.get("tags") or {}).items()},
        )
