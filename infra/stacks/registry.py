"""Model registry: one SageMaker model package group per governed project."""

from __future__ import annotations

from cdktn_provider_aws.sagemaker_model_package_group import SagemakerModelPackageGroup
from cdktn_provider_aws.sagemaker_model_package_group_policy import SagemakerModelPackageGroupPolicy
from constructs import Construct

from iam.documents import render
from iam.resource_policies import model_package_group_policy
from infra.stacks.base import BackendSettings, GovernanceStack
from policies.model import GovernancePolicy


class ModelRegistryStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        names = self.names
        self.groups: dict[str, SagemakerModelPackageGroup] = {}
        for project in policy.projects:
            group = SagemakerModelPackageGroup(
                self,
                f"group-{project.name}",
                model_package_group_name=names.model_package_group(project),
                model_package_group_description=(
                    f"Model versions of {project.name}, owned by {project.owner_team}, data classified {project.classification}"
                ),
                tags=policy.project_tags(project),
            )
            SagemakerModelPackageGroupPolicy(
                self,
                f"group-{project.name}-policy",
                model_package_group_name=group.model_package_group_name,
                resource_policy=render(model_package_group_policy(names, project)),
            )
            self.groups[project.name] = group
