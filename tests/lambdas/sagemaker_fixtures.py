"""SageMaker resources created in moto the way users create them, for the handler tests."""

from __future__ import annotations

import boto3

from tests.lambdas.world import ACCOUNT, REGION

ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-credit-risk-sagemaker-execution"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tags_of(arn: str, region: str = REGION) -> dict[str, str]:
    tags = boto3.client("sagemaker", region_name=region).list_tags(ResourceArn=arn)["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def create_model(name: str, tags: dict[str, str], region: str = REGION) -> str:
    arn: str = boto3.client("sagemaker", region_name=region).create_model(
        ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE}, Tags=_tags(tags)
    )["ModelArn"]
    return arn


def create_training_job(name: str, tags: dict[str, str], region: str = REGION, *, role: str = ROLE) -> str:
    arn: str = boto3.client("sagemaker", region_name=region).create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=role,
        OutputDataConfig={"S3OutputPath": f"s3://acme-ml-lineage-{ACCOUNT}-eu-west-1/projects/credit-risk/models"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=_tags(tags),
    )["TrainingJobArn"]
    return arn


def create_processing_job(name: str, region: str = REGION) -> None:
    boto3.client("sagemaker", region_name=region).create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 10}},
        AppSpecification={"ImageUri": IMAGE},
        RoleArn=ROLE,
    )


def create_transform_job(name: str, region: str = REGION) -> None:
    create_model(f"{name}-model", {}, region=region)
    boto3.client("sagemaker", region_name=region).create_transform_job(
        TransformJobName=name,
        ModelName=f"{name}-model",
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/in"}}},
        TransformOutput={"S3OutputPath": "s3://bucket/out"},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    )


def create_endpoint(name: str, region: str = REGION) -> str:
    sagemaker = boto3.client("sagemaker", region_name=region)
    create_model(f"{name}-model", {"ml-project": "credit-risk"}, region=region)
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    arn: str = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")["EndpointArn"]
    return arn


def job_status(kind: str, name: str, region: str = REGION) -> str:
    sagemaker = boto3.client("sagemaker", region_name=region)
    if kind == "training-job":
        return str(sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"])
    if kind == "processing-job":
        return str(sagemaker.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"])
    return str(sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"])


def endpoints(region: str) -> list[str]:
    return [e["EndpointName"] for e in boto3.client("sagemaker", region_name=region).list_endpoints()["Endpoints"]]
