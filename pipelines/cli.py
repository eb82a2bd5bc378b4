"""Governed pipeline commands.

    python -m pipelines.cli definition --project credit-risk [--output FILE]   offline, no credentials
    python -m pipelines.cli run-local  --project credit-risk [--workdir DIR]   the steps on local data
    python -m pipelines.cli upsert     --project credit-risk [--start]         on a real account

``definition`` builds against an in-memory S3 (moto): the SageMaker SDK uploads its training
drivers while building, and those uploads stay on this machine. ``upsert`` uploads the source
bundle to the project's code prefix in the lineage bucket, then creates or updates the pipeline
with the project's execution role and tags.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from policies.errors import PolicyError
from policies.loader import load_policy
from policies.model import GovernancePolicy, Project
from policies.naming import Names

PLACEHOLDER_ACCOUNT = "123456789012"


def _project(policy: GovernancePolicy, name: str) -> Project:
    project = policy.project(name)
    if project is None:
        governed = ", ".join(p.name for p in policy.projects)
        raise SystemExit(f"project {name!r} is not in the policy (governed: {governed})")
    return project


def offline_definition(policy: GovernancePolicy, project: Project, account: str = PLACEHOLDER_ACCOUNT) -> dict[str, Any]:
    """The governed definition, built with no credentials and no network."""
    import boto3
    from moto import mock_aws

    from pipelines.bundle import source_bundle
    from pipelines.definition import PipelineTarget, build_pipeline, governed_definition

    names = Names(policy, account=account)
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    os.environ.update(dict.fromkeys(saved, "offline"))  # moto needs some credentials; none leave this process
    try:
        with mock_aws():
            boto3.client("s3", region_name=names.region).create_bucket(
                Bucket=names.lineage_bucket,
                CreateBucketConfiguration={"LocationConstraint": names.region},  # type: ignore[typeddict-item]
            )
            target = PipelineTarget(names=names, project=project, code_version=source_bundle().version)
            return governed_definition(build_pipeline(policy, target), policy, project)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def upsert(policy: GovernancePolicy, project: Project, *, start: bool) -> str:
    import boto3

    from pipelines.bundle import source_bundle
    from pipelines.definition import PipelineTarget, build_pipeline, governed_definition

    region = policy.regions.home
    account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    names = Names(policy, account=account)
    bundle = source_bundle()
    target = PipelineTarget(names=names, project=project, code_version=bundle.version)
    s3 = boto3.client("s3", region_name=region)
    prefix = target.code_prefix.removeprefix(f"s3://{names.lineage_bucket}/")
    for name, body in sorted(bundle.files.items()):
        s3.put_object(Bucket=names.lineage_bucket, Key=prefix + name, Body=body, ServerSideEncryption="aws:kms")
    definition = json.dumps(governed_definition(build_pipeline(policy, target), policy, project))
    sagemaker = boto3.client("sagemaker", region_name=region)
    tags = [{"Key": k, "Value": v} for k, v in policy.project_tags(project).items()]
    try:
        sagemaker.describe_pipeline(PipelineName=target.pipeline_name)
        arn = sagemaker.update_pipeline(
            PipelineName=target.pipeline_name, PipelineDefinition=definition, RoleArn=target.role_arn
        )["PipelineArn"]
    except sagemaker.exceptions.ResourceNotFound:
        arn = sagemaker.create_pipeline(
            PipelineName=target.pipeline_name,
            PipelineDefinition=definition,
            RoleArn=target.role_arn,
            Tags=tags,  # type: ignore[arg-type]
            ClientRequestToken=str(uuid.uuid4()),
        )["PipelineArn"]
    print(f"pipeline {target.pipeline_name}: {arn} (code {bundle.version} at {target.code_prefix})")
    if start:
        execution = sagemaker.start_pipeline_execution(PipelineName=target.pipeline_name, ClientRequestToken=str(uuid.uuid4()))[
            "PipelineExecutionArn"
        ]
        print(f"started {execution}")
    return str(arn)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    definition = commands.add_parser("definition", help="print or write the pipeline definition JSON (offline)")
    definition.add_argument("--project", required=True)
    definition.add_argument("--account", default=PLACEHOLDER_ACCOUNT, help="account id to put in ARNs and bucket names")
    definition.add_argument("--output", type=Path)
    local = commands.add_parser("run-local", help="run validate -> train -> evaluate on the bundled dataset")
    local.add_argument("--project", required=True)
    local.add_argument("--workdir", type=Path)
    up = commands.add_parser("upsert", help="create or update the pipeline on the account in your AWS credentials")
    up.add_argument("--project", required=True)
    up.add_argument("--start", action="store_true")
    args = parser.parse_args(argv)

    try:
        policy = load_policy()
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    project = _project(policy, args.project)
    if args.command == "definition":
        text = json.dumps(offline_definition(policy, project, args.account), indent=2, sort_keys=True)
        if args.output:
            args.output.write_text(text + "\n")
            print(f"wrote {args.output}")
        else:
            print(text)
        return 0
    if args.command == "run-local":
        from pipelines.local_run import run_locally
        from policies.rules.metrics import check_metrics, metrics_from_report

        workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"{project.name}-"))
        run = run_locally(workdir)
        if run.evaluation is None:
            print(f"data contract violated: {json.dumps(run.validation['failed_expectations'], indent=2)}")
            return 1
        metrics = metrics_from_report(run.evaluation)
        print(f"artifacts in {workdir}")
        checks = check_metrics(policy.approval_requirements(project), metrics)
        for check in checks:
            shown = check.value if check.value is not None else "missing"
            print(
                f"  {check.name:<10} {shown:<22} policy {check.threshold.describe():<10} {'ok' if check.ok else 'BELOW POLICY'}"
            )
        return 0 if all(check.ok for check in checks) else 1
    upsert(policy, project, start=args.start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
