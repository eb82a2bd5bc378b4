"""A SageMaker endpoint under Model Monitor data-quality monitoring (engine ``model-monitor``), with alarms on
violations and failed runs. Endpoints with the ``drift-job`` engine get a drift schedule instead
(``infra/constructs/drift_schedule.py``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.sagemaker_data_quality_job_definition import (
    SagemakerDataQualityJobDefinition,
    SagemakerDataQualityJobDefinitionDataQualityAppSpecification,
    SagemakerDataQualityJobDefinitionDataQualityBaselineConfig,
    SagemakerDataQualityJobDefinitionDataQualityBaselineConfigConstraintsResource,
    SagemakerDataQualityJobDefinitionDataQualityBaselineConfigStatisticsResource,
    SagemakerDataQualityJobDefinitionDataQualityJobInput,
    SagemakerDataQualityJobDefinitionDataQualityJobInputEndpointInput,
    SagemakerDataQualityJobDefinitionDataQualityJobOutputConfig,
    SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputs,
    SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3Output,
    SagemakerDataQualityJobDefinitionJobResources,
    SagemakerDataQualityJobDefinitionJobResourcesClusterConfig,
    SagemakerDataQualityJobDefinitionNetworkConfig,
    SagemakerDataQualityJobDefinitionStoppingCondition,
)
from cdktn_provider_aws.sagemaker_monitoring_schedule import (
    SagemakerMonitoringSchedule,
    SagemakerMonitoringScheduleMonitoringScheduleConfig,
    SagemakerMonitoringScheduleMonitoringScheduleConfigScheduleConfig,
)
from constructs import Construct

from infra.constructs.alarms import first_occurrence_alarm
from policies.naming import MONITORING_OUTCOMES, MONITORING_VIOLATIONS, Names
from policies.terms import MonitoringEngine

if TYPE_CHECKING:
    from policies.model import MonitoredEndpoint, Project

PROCESSING_JOB_STATE_CHANGE = "SageMaker Processing Job State Change"


def monitoring_outcome_pattern(schedule_arn: str, outcome: str) -> dict[str, object]:
    """EventBridge pattern for a monitoring run of ``schedule_arn`` that ended with violations or failed.

    Model Monitor runs are processing jobs that carry the schedule's ARN; a run with
    violations completes with an ExitMessage starting "CompletedWithViolations".
    """
    detail: dict[str, object] = {"MonitoringScheduleArn": [schedule_arn]}
    if outcome == MONITORING_VIOLATIONS:
        detail["ProcessingJobStatus"] = ["Completed"]
        detail["ExitMessage"] = [{"prefix": "CompletedWithViolations"}]
    else:
        detail["ProcessingJobStatus"] = ["Failed"]
    return {"source": ["aws.sagemaker"], "detail-type": [PROCESSING_JOB_STATE_CHANGE], "detail": detail}


class MonitoredEndpointConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        project: Project,
        endpoint: MonitoredEndpoint,
        image_uri: str,
        data_key_arn: str,
        alerts_topic_arn: str,
        tags: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        if endpoint.engine is not MonitoringEngine.MODEL_MONITOR:
            raise ValueError(f"endpoint {endpoint.name} is monitored by the {endpoint.engine.value} engine, not Model Monitor")
        output_uri = f"s3://{names.lineage_bucket}/{names.lineage_monitoring_prefix(project.name, endpoint.name)}/data-quality"
        baseline = None
        if endpoint.baseline_uri:
            prefix = endpoint.baseline_uri.rstrip("/")
            baseline = SagemakerDataQualityJobDefinitionDataQualityBaselineConfig(
                constraints_resource=SagemakerDataQualityJobDefinitionDataQualityBaselineConfigConstraintsResource(
                    s3_uri=f"{prefix}/constraints.json"
                ),
                statistics_resource=SagemakerDataQualityJobDefinitionDataQualityBaselineConfigStatisticsResource(
                    s3_uri=f"{prefix}/statistics.json"
                ),
            )
        self.job_definition = SagemakerDataQualityJobDefinition(
            self,
            "data-quality",
            name=names.data_quality_job_definition(endpoint),
            role_arn=names.role_arn(names.execution_role(project)),
            data_quality_app_specification=SagemakerDataQualityJobDefinitionDataQualityAppSpecification(
                image_uri=image_uri, environment={"publish_cloudwatch_metrics": "Enabled"}
            ),
            data_quality_baseline_config=baseline,
            data_quality_job_input=SagemakerDataQualityJobDefinitionDataQualityJobInput(
                endpoint_input=SagemakerDataQualityJobDefinitionDataQualityJobInputEndpointInput(
                    endpoint_name=endpoint.name, local_path="/opt/ml/processing/input/endpoint"
                )
            ),
            data_quality_job_output_config=SagemakerDataQualityJobDefinitionDataQualityJobOutputConfig(
                kms_key_id=data_key_arn,
                monitoring_outputs=SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputs(
                    s3_output=SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3Output(
                        s3_uri=output_uri, local_path="/opt/ml/processing/output", s3_upload_mode="EndOfJob"
                    )
                ),
            ),
            job_resources=SagemakerDataQualityJobDefinitionJobResources(
                cluster_config=SagemakerDataQualityJobDefinitionJobResourcesClusterConfig(
                    instance_count=1, instance_type=endpoint.instance_type, volume_size_in_gb=20, volume_kms_key_id=data_key_arn
                )
            ),
            network_config=SagemakerDataQualityJobDefinitionNetworkConfig(
                enable_inter_container_traffic_encryption=True, enable_network_isolation=True
            ),
            stopping_condition=SagemakerDataQualityJobDefinitionStoppingCondition(
                max_runtime_in_seconds=endpoint.max_runtime_seconds
            ),
            tags=tags,
        )
        schedule_name = names.monitoring_schedule(endpoint)
        self.schedule = SagemakerMonitoringSchedule(
            self,
            "schedule",
            name=schedule_name,
            monitoring_schedule_config=SagemakerMonitoringScheduleMonitoringScheduleConfig(
                monitoring_job_definition_name=self.job_definition.name,
                monitoring_type="DataQuality",
                schedule_config=SagemakerMonitoringScheduleMonitoringScheduleConfigScheduleConfig(
                    schedule_expression=endpoint.schedule
                ),
            ),
            tags=tags,
        )
        schedule_arn = f"arn:{names.partition}:sagemaker:{names.region}:{names.account}:monitoring-schedule/{schedule_name}"
        for outcome, what in zip(MONITORING_OUTCOMES, ("found data-quality violations", "failed to run"), strict=True):
            rule = CloudwatchEventRule(
                self,
                f"{outcome}-rule",
                name=f"{schedule_name}-{outcome}"[:64],
                description=f"Model Monitor of endpoint {endpoint.name} {what}",
                event_pattern=json.dumps(monitoring_outcome_pattern(schedule_arn, outcome)),
                tags=tags,
            )
            CloudwatchMetricAlarm(
                self,
                f"{outcome}-alarm",
                **first_occurrence_alarm(
                    name=names.monitoring_alarm(endpoint.name, outcome),
                    description=f"Model Monitor of endpoint {endpoint.name} (project {project.name}) {what}",
                    namespace="AWS/Events",
                    metric="MatchedEvents",
                    dimensions={"RuleName": rule.name},
                    alarm_actions=[alerts_topic_arn],
                    tags=tags,
                ),
            )
