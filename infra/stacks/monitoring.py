"""Monitoring: Model Monitor data-quality schedules for every endpoint a project declares, with alarms."""

from __future__ import annotations

from constructs import Construct

from infra.constructs.monitored_endpoint import MonitoredEndpointConstruct
from infra.sagemaker_images import model_monitor_image
from infra.stacks.base import BackendSettings, GovernanceStack
from policies.errors import PolicyError, PolicyIssue
from policies.model import GovernancePolicy


class MonitoringStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        names = self.names
        monitored = [(project, endpoint) for project in policy.projects for endpoint in project.endpoints]
        image = model_monitor_image(policy.regions.home)
        if monitored and image is None:
            raise PolicyError(
                [
                    PolicyIssue(
                        ("regions", "home"),
                        f"SageMaker Model Monitor has no analyzer image in {policy.regions.home}; monitor endpoints from a Region that has one",
                    )
                ]
            )
        keys = self.key_arns() if monitored else {}
        self.endpoints = [
            MonitoredEndpointConstruct(
                self,
                f"endpoint-{endpoint.name}",
                names=names,
                project=project,
                endpoint=endpoint,
                image_uri=image or "",
                data_key_arn=keys.get("data", ""),
                alerts_topic_arn=names.alerts_topic_arn,
                tags=policy.project_tags(project),
            )
            for project, endpoint in monitored
        ]
