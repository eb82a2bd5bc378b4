"""Governed pipeline commands.

    python -m pipelines.cli definition --project credit-risk [--output FILE]   offline, no credentials
    python -m pipelines.cli run-local  --project credit-risk [--workdir DIR]   the steps on local data
    python -m pipelines.cli upsert     --project credit-risk [--holdout FILE] [--start]   on a real account

With accounts in the policy, the pipeline runs in an entry stage's account (``--account`` for ``definition``):
it registers into the hub's group and writes its model artifacts to the hub's bucket, encrypted with the
project's key there, whose ARN ``--artifact-key-arn`` gives (output ``artifact-key-<project>-arn`` of stack
``hub-registry``). ``definition`` builds against an in-memory S3 (moto): the SageMaker SDK uploads its training
drivers while building, and those uploads stay on this machine. ``upsert`` uploads the source
bundle to the project's code prefix in the lineage bucket (``--holdout``: and the holdout every model
is judged on; without it one must have been published), then creates or updates the pipeline
with the project's execution role and tags. It runs as the project's ``pipeline-publisher`` persona
(a session tagged ``ml-project=<project>``): the only caller the lineage bucket lets write that code
and the only one allowed to pass the execution role (docs/architecture.md).

The SDK needs a Region: the policy's home Region is used unless ``AWS_REGION`` or
``AWS_DEFAULT_REGION`` says otherwise (``definition`` always builds for the home Region). The SDK's
own logging is shown from WARNING up (``--verbose``: everything), without its notes that job
names are left out of the definition (SageMaker sets them at execution time). Missing
credentials, an unknown project or a bad policy end in one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any

from policies.errors import PolicyError
from policies.loader import load_policy
from policies.model import GovernancePolicy, Project
from policies.naming import LINEAGE_PIPELINE_CODE_PREFIXES, Names

PLACEHOLDER_ACCOUNT = "123456789012"
EXIT_USAGE = 2

# The SDK's notes that it leaves job and package names out of a definition: SageMaker sets them
# at execution time (sagemaker.core.workflow.utilities.trim_request_dict and ModelStep.arguments).
# That is the behaviour the governed pipeline wants, so the notes carry nothing for its users.
_EXPECTED_SDK_NOTES = ("Popping out ",)
_SDK_WARNINGS = (r"Running within a PipelineSession, there will be No Wait, No Logs, and No Job being started",)


class CommandError(Exception):
    """A problem the user can fix, reported as one line (with the fix) and exit code 2."""


class _DropExpectedNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_EXPECTED_SDK_NOTES)


def configure_output(*, verbose: bool = False) -> None:
    """Route the SDK's logging through one handler on stderr, before the SDK configures any.

    sagemaker and botocore log INFO and DEBUG records (credentials found, config files, image
    URIs); the SDK's ``logging.basicConfig`` calls are no-ops once the root logger has this handler.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handler.addFilter(_DropExpectedNotes())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler], force=True)
    if not verbose:
        for message in _SDK_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)


def default_region(policy: GovernancePolicy) -> str:
    """The Region the SDK and boto3 use: the environment's if set, else the policy's home Region."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        region = policy.regions.home
        os.environ["AWS_DEFAULT_REGION"] = region
    return region


def _project(policy: GovernancePolicy, name: str) -> Project:
    project = policy.project(name)
    if project is None:
        governed = ", ".join(p.name for p in policy.projects)
        raise CommandError(f"project {name!r} is not in the policy (governed: {governed}); pass one of them with --project")
    return project


def offline_definition(
    policy: GovernancePolicy, project: Project, account: str = PLACEHOLDER_ACCOUNT, artifact_key_arn: str | None = None
) -> dict[str, Any]:
    """The governed definition, built with no credentials and no network."""
    from unittest.mock import patch

    import boto3
    from moto import mock_aws

    from pipelines.bundle import source_bundle
    from pipelines.definition import build_pipeline, governed_definition

    names = Names(policy, account=account)
    target = pipeline_target(names, project, source_bundle().version, artifact_key_arn)
    credentials = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    offline = {
        **dict.fromkeys(credentials, "offline"),  # moto needs some credentials; none leave this process
        "AWS_DEFAULT_REGION": names.region,  # the SDK needs a Region; the definition is for the home Region
    }
    with patch.dict(os.environ, offline), mock_aws():
        boto3.client("s3", region_name=names.region).create_bucket(
            Bucket=names.lineage_bucket,
            CreateBucketConfiguration={"LocationConstraint": names.region},  # type: ignore[typeddict-item]
        )
        return governed_definition(build_pipeline(policy, target))


def pipeline_target(names: Names, project: Project, code_version: str, artifact_key_arn: str | None) -> Any:
    """The pipeline's ``PipelineTarget``, or a CommandError saying what to pass (``pipelines.definition.target_problem``)."""
    from pipelines.definition import PipelineTarget, TargetError

    try:
        return PipelineTarget(names=names, project=project, code_version=code_version, artifact_key_arn=artifact_key_arn)
    except TargetError as exc:
        raise CommandError(str(exc)) from None


def caller_account(region: str) -> str:
    """The account of the credentials in use, or a CommandError that says how to provide them."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return str(boto3.client("sts", region_name=region).get_caller_identity()["Account"])
    except NoCredentialsError:
        raise CommandError(
            "no AWS credentials: upsert creates the pipeline in your account; set AWS_PROFILE (after `aws sso login`) "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the account the stacks are deployed in "
            "(`definition` and `run-local` need none)"
        ) from None
    except (ClientError, BotoCoreError) as exc:
        raise CommandError(f"the AWS credentials in use were refused ({exc}); refresh them (e.g. `aws sso login`)") from None


def pipeline_code_objects(s3: Any, bucket: str, project: str) -> dict[str, tuple[Any, str]]:
    """Every object under the project's ``code/`` and ``sdk/``: key -> (LastModified, ETag)."""
    found: dict[str, tuple[Any, str]] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for code in LINEAGE_PIPELINE_CODE_PREFIXES:
        for page in paginator.paginate(Bucket=bucket, Prefix=f"{Names.lineage_project_prefix(project)}/{code}/"):
            found.update({item["Key"]: (item["LastModified"], item.get("ETag", "")) for item in page.get("Contents", [])})
    return found


def remove_unpublished_code(s3: Any, bucket: str, project: str, before: dict[str, tuple[Any, str]], bundle: set[str]) -> int:
    """Delete what was under the project's ``code/`` and ``sdk/`` before this publication and it did not write again.

    Jobs mount the whole bundle prefix, so a file the bundle does not contain (left by an older version, or written
    before only the pipeline publisher could write there) would run as the execution role beside the bundle; and an
    older pipeline version started by its id finds its code gone. Called once the new code is up and the pipeline
    updated (a publication that fails earlier leaves the old one whole); a run of the previous definition still in
    flight would lose its code (``upsert`` refuses to publish then, unless forced). ``before``: ``pipeline_code_objects`` when the publication began;
    ``bundle``: the keys it wrote. Returns how many objects were deleted.
    """
    now = pipeline_code_objects(s3, bucket, project)
    stale = [{"Key": key} for key, seen in now.items() if key not in bundle and before.get(key) == seen]
    for first in range(0, len(stale), 1000):  # DeleteObjects takes up to 1,000 keys
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[first : first + 1000], "Quiet": True})
        if errors := result.get("Errors"):
            error = errors[0]
            raise CommandError(
                f"could not delete s3://{bucket}/{error.get('Key')} ({error.get('Code')}): publish as the project's "
                "pipeline-publisher, which alone may change the pipeline's code"
            )
    return len(stale)


def publish_holdout(s3: Any, bucket: str, project: str, holdout: Path | None) -> None:
    """Upload ``holdout`` as the project's holdout, or make sure one was published: without it every run fails."""
    key = Names.lineage_holdout(project)
    if holdout is not None:
        try:
            body = holdout.read_bytes()
        except OSError as exc:
            raise CommandError(f"--holdout {holdout}: {exc.strerror or exc}") from None
        s3.put_object(Bucket=bucket, Key=key, Body=body)  # the bucket encrypts it with the data key by default
        print(f"published the holdout s3://{bucket}/{key} ({len(body)} bytes)")
        return
    # Listed, not HEAD: the publisher may list only under its project, and S3 answers a HEAD of a missing key it
    # may not list with 403, not 404.
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    if not any(item["Key"] == key for item in listed):
        raise CommandError(
            f"the pipeline evaluates every model on s3://{bucket}/{key}, which is not there: publish it with "
            "--holdout FILE (labelled data the project's data scientists never see, with the training data's columns)"
        )


IN_FLIGHT = ("Executing", "Stopping")


def runs_in_flight(sagemaker: Any, pipeline: str) -> list[str] | None:
    """The pipeline's runs in flight; None when there is no pipeline yet (the first publication)."""
    try:
        sagemaker.describe_pipeline(PipelineName=pipeline)
    except sagemaker.exceptions.ResourceNotFound:
        return None
    return [
        item["PipelineExecutionArn"]
        for page in sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline)
        for item in page.get("PipelineExecutionSummaries", [])
        if item.get("PipelineExecutionStatus") in IN_FLIGHT
    ]


def upsert(
    policy: GovernancePolicy,
    project: Project,
    *,
    start: bool,
    holdout: Path | None = None,
    force: bool = False,
    artifact_key_arn: str | None = None,
) -> str:
    import boto3

    from pipelines.bundle import source_bundle
    from pipelines.definition import build_pipeline, governed_definition

    region = policy.regions.home
    account = caller_account(region)
    names = Names(policy, account=account)
    bundle = source_bundle()
    target = pipeline_target(names, project, bundle.version, artifact_key_arn)
    s3 = boto3.client("s3", region_name=region)
    sagemaker = boto3.client("sagemaker", region_name=region)
    running = runs_in_flight(sagemaker, target.pipeline_name)
    if running and not force:  # a publication removes the code the previous definition runs
        raise CommandError(
            f"pipeline {target.pipeline_name} has {len(running)} run(s) in flight "
            f"({running[0]}{', ...' if len(running) > 1 else ''}): publishing removes the code they run; "
            "wait for them to finish, or pass --force to publish anyway"
        )
    publish_holdout(s3, names.lineage_bucket, project.name, holdout)  # first: a refused publication changes nothing
    prefix = target.code_prefix.removeprefix(f"s3://{names.lineage_bucket}/")
    before = pipeline_code_objects(s3, names.lineage_bucket, project.name)
    for name, body in sorted(bundle.files.items()):
        s3.put_object(Bucket=names.lineage_bucket, Key=prefix + name, Body=body)  # encrypted with the data key by default
    definition = json.dumps(governed_definition(build_pipeline(policy, target)))
    tags = [{"Key": k, "Value": v} for k, v in policy.project_tags(project).items()]
    if running is not None:  # it exists
        arn = sagemaker.update_pipeline(
            PipelineName=target.pipeline_name, PipelineDefinition=definition, RoleArn=target.role_arn
        )["PipelineArn"]
    else:
        arn = sagemaker.create_pipeline(
            PipelineName=target.pipeline_name,
            PipelineDefinition=definition,
            RoleArn=target.role_arn,
            Tags=tags,  # type: ignore[arg-type]
            ClientRequestToken=str(uuid.uuid4()),
        )["PipelineArn"]
    print(f"pipeline {target.pipeline_name}: {arn} (code {bundle.version} at {target.code_prefix})")
    written = {prefix + name for name in bundle.files}
    if removed := remove_unpublished_code(s3, names.lineage_bucket, project.name, before, written):
        print(f"removed {removed} object(s) under the pipeline's code and SDK prefixes that this publication did not write")
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
    up.add_argument("--holdout", type=Path, help="publish this CSV as the holdout every model is judged on")
    up.add_argument("--force", action="store_true", help="publish even while runs are in flight (they lose their code)")
    for command in (definition, up):
        command.add_argument(
            "--artifact-key-arn",
            help="with accounts in the policy: the project's artifact key in the hub (output artifact-key-<project>-arn "
            "of stack hub-registry), which its model artifacts are encrypted with in the hub's bucket",
        )
    for command in (definition, local, up):
        command.add_argument("-v", "--verbose", action="store_true", help="show the SageMaker SDK's and botocore's logging")
    args = parser.parse_args(argv)
    configure_output(verbose=args.verbose)

    try:
        policy = load_policy()
        project = _project(policy, args.project)
        default_region(policy)
        return _run(args, policy, project)
    except (PolicyError, CommandError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace, policy: GovernancePolicy, project: Project) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _command(args, policy, project)
    except (ClientError, BotoCoreError) as exc:
        raise CommandError(f"{args.command} failed on AWS: {exc}") from None


def _command(args: argparse.Namespace, policy: GovernancePolicy, project: Project) -> int:
    if args.command == "definition":
        text = json.dumps(offline_definition(policy, project, args.account, args.artifact_key_arn), indent=2, sort_keys=True)
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
    upsert(policy, project, start=args.start, holdout=args.holdout, force=args.force, artifact_key_arn=args.artifact_key_arn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
