"""Model registry: one SageMaker model package group per governed project."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.documents import render
from iam.resource_policies import model_package_group_policy
from infra.plain_resources import PlainResource, PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack

if TYPE_CHECKING:
    from policies.model import GovernancePolicy, Project


class ModelRegistryStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        names = self.names
        with self.plain_resources() as plain:  # per project: no binding object each (infra/plain_resources.py)
            for project in policy.projects:
                add_model_package_group(
                    plain,
                    project,
                    group_name=names.model_package_group(project),
                    description=group_description(project),
                    tags=policy.project_tags(project),
                    resource_policy=render(model_package_group_policy(names, project)),
                )


def group_description(project: Project) -> str:
    return f"Model versions of {project.name}, owned by {project.owner_team}, data classified {project.classification}"


def add_model_package_group(
    plain: PlainResources, project: Project, *, group_name: str, description: str, tags: dict[str, str], resource_policy: str
) -> PlainResource:
    """A project's model package group and its one resource policy."""
    group = plain.add(
        "aws_sagemaker_model_package_group",
        (f"group-{project.name}",),
        {"model_package_group_name": group_name, "model_package_group_description": description, "tags": tags},
    )
    plain.add(
        "aws_sagemaker_model_package_group_policy",
        (f"group-{project.name}-policy",),
        {"model_package_group_name": group.ref("model_package_group_name"), "resource_policy": resource_policy},
    )
    return group
