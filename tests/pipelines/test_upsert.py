"""Publishing the governed pipeline (``pipelines.cli upsert``) in the embedded AWS: what runs as the execution role is
exactly what was published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipelines.bundle import source_bundle
from pipelines.cli import CommandError, upsert
from pipelines.local_run import write_sample_holdout
from policies.model import GovernancePolicy
from policies.naming import Names

REGION = "eu-west-1"


@pytest.fixture
def lineage(policy: GovernancePolicy, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        names = Names(policy, account="123456789012")
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=names.lineage_bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield s3, names.lineage_bucket


def published_before() -> Any:
    """The pipeline as an earlier publication left it (moto answers DescribePipeline for a missing pipeline with
    ValidationException, where AWS documents ResourceNotFound: these tests publish again)."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_pipeline(
        PipelineName="credit-risk-governed",
        PipelineDefinition='{"Version": "2020-12-01", "Steps": []}',
        RoleArn="arn:aws:iam::123456789012:role/acme-credit-risk-sagemaker-execution",
    )
    return sagemaker


def keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}


def test_a_publication_leaves_only_what_it_contains_under_the_pipelines_code(
    policy: GovernancePolicy, lineage: Any, tmp_path: Path
) -> None:
    """A file beside the bundle runs as the execution role (a planted pipelines/steps/joblib.py is imported before
    the real joblib); one written before only the publisher could write there, or an older version's, is removed."""
    s3, bucket = lineage
    version = source_bundle().version
    planted = {
        f"projects/credit-risk/code/{version}/pipelines/steps/joblib.py": b"print('not the published code')",
        "projects/credit-risk/code/0123456789ab/pipelines/steps/evaluate.py": b"an older version",
        "projects/credit-risk/sdk/old/sm_drivers/sm_train.sh": b"echo an older driver",
    }
    kept = {
        "projects/credit-risk/incoming/candidate.csv": b"a,b\n",
        "projects/churn-forecast/code/v1/pipelines/steps/evaluate.py": b"another project's pipeline",
    }
    for key, body in {**planted, **kept}.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    published_before()

    holdout = write_sample_holdout(tmp_path)
    arn = upsert(policy, policy.project("credit-risk"), start=False, holdout=holdout)  # type: ignore[arg-type]

    code = keys(s3, bucket, "projects/credit-risk/code/")
    assert code == {f"projects/credit-risk/code/{version}/{name}" for name in source_bundle().files}
    assert not planted.keys() & keys(s3, bucket, "projects/")
    assert kept.keys() <= keys(s3, bucket, "projects/")
    assert keys(s3, bucket, "projects/credit-risk/sdk/"), "the SDK's uploads for this publication"
    assert arn.endswith(":pipeline/credit-risk-governed")
    published = s3.get_object(Bucket=bucket, Key="projects/credit-risk/holdout/holdout.csv")["Body"].read()
    assert published == holdout.read_bytes()


def test_no_publication_without_a_holdout_to_judge_models_on(policy: GovernancePolicy, lineage: Any) -> None:
    """Every run would fail at Evaluate: the publication is refused first, and changes nothing."""
    s3, bucket = lineage
    code = "projects/credit-risk/code/0123456789ab/pipelines/steps/evaluate.py"
    s3.put_object(Bucket=bucket, Key=code, Body=b"the published code")
    published_before()
    with pytest.raises(CommandError, match=r"holdout/holdout.csv, which is not there: publish it with --holdout FILE"):
        upsert(policy, policy.project("credit-risk"), start=False)  # type: ignore[arg-type]
    assert keys(s3, bucket, "projects/") == {code}


def test_a_publication_that_fails_leaves_the_published_pipeline_whole(
    policy: GovernancePolicy, lineage: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old code is removed only once the new code is up and the pipeline updated (a review found a failed
    publication leaving the live pipeline with no code)."""
    import pipelines.definition

    s3, bucket = lineage
    old = "projects/credit-risk/code/0123456789ab/pipelines/steps/evaluate.py"
    s3.put_object(Bucket=bucket, Key=old, Body=b"the published code")
    published_before()

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the SDK could not build the definition")

    monkeypatch.setattr(pipelines.definition, "build_pipeline", broken)
    with pytest.raises(RuntimeError, match="could not build"):
        upsert(policy, policy.project("credit-risk"), start=False, holdout=write_sample_holdout(tmp_path))  # type: ignore[arg-type]
    assert old in keys(s3, bucket, "projects/credit-risk/code/")


def test_no_publication_while_a_run_is_in_flight_unless_forced(policy: GovernancePolicy, lineage: Any, tmp_path: Path) -> None:
    """A publication removes the code the previous definition runs: a run in flight would fail half-way."""
    s3, bucket = lineage
    old = "projects/credit-risk/code/0123456789ab/pipelines/steps/evaluate.py"
    s3.put_object(Bucket=bucket, Key=old, Body=b"the published code")
    run = published_before().start_pipeline_execution(PipelineName="credit-risk-governed")["PipelineExecutionArn"]
    from moto.sagemaker.models import sagemaker_backends  # moto finishes a run at once: this one is still executing

    pipeline = sagemaker_backends["123456789012"][REGION].pipelines["credit-risk-governed"]
    pipeline.pipeline_executions[run].pipeline_execution_status = "Executing"
    holdout = write_sample_holdout(tmp_path)

    with pytest.raises(CommandError, match=rf"has 1 run\(s\) in flight \({run}\).*pass --force"):
        upsert(policy, policy.project("credit-risk"), start=False, holdout=holdout)  # type: ignore[arg-type]
    assert keys(s3, bucket, "projects/credit-risk/") == {old}, "refused before anything is written"

    upsert(policy, policy.project("credit-risk"), start=False, holdout=holdout, force=True)  # type: ignore[arg-type]
    assert old not in keys(s3, bucket, "projects/credit-risk/")
