"""Identity: the permissions boundaries, the persona roles and, per project, its SageMaker execution and experiment roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from iam.boundary import check_boundary_sizes, enforcement_boundary, partition_of, permissions_boundary
from iam.documents import render
from iam.personas import persona_policy
from iam.roles import execution_role_policy, experiment_role_policy
from iam.trust import trust_people, trust_service
from infra.plain_resources import PlainResources
from infra.stacks.base import BackendSettings, GovernanceStack
from lambdas.table import HANDLERS
from policies.naming import BOUNDARY_CONSTRUCT_ID, ENFORCEMENT_BOUNDARY_CONSTRUCT_ID, PERSONAS, PIPELINE_PUBLISHER, Names
from policies.terms import EXPERIMENTS_ROLE_KIND, PIPELINE_ROLE_KIND, ROLE_KIND_TAG_KEY

if TYPE_CHECKING:
    from policies.model import GovernancePolicy

# Personas whose sessions name their project (the ml-project session tag) and are confined to it.
PROJECT_SCOPED_PERSONAS = ("data-scientist", PIPELINE_PUBLISHER)


class IdentityStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        names = self.names
        keys = self.key_arns()
        handlers = [spec.name for spec in HANDLERS]
        enforcement_actions = [a for s in HANDLERS if not s.region_bound for g in s.grants for a in g.actions]
        deployed = Names(policy, account="123456789012", partition=partition_of(policy.regions.home))
        check_boundary_sizes(
            {
                names.boundary_policy: permissions_boundary(deployed, handlers),
                names.enforcement_boundary_policy: enforcement_boundary(deployed, handlers, enforcement_actions),
            }
        )

        with self.plain_resources() as plain:  # no binding object each: infra/plain_resources.py
            boundary_arn = self._boundaries_and_personas(plain, keys, handlers, enforcement_actions)
            self._project_roles(plain, keys, boundary_arn)
        self.plain.add_output("permissions-boundary-arn", value=boundary_arn)

    def _boundaries_and_personas(
        self, plain: PlainResources, keys: dict[str, str], handlers: list[str], enforcement_actions: list[str]
    ) -> str:
        """The two permissions boundaries and the persona roles; returns the governed principals' boundary's ARN."""
        names = self.names
        boundary_arn = plain.add(
            "aws_iam_policy",
            (BOUNDARY_CONSTRUCT_ID,),
            {
                "name": names.boundary_policy,
                "description": "Ceiling for every governed principal: allowed Regions, boundary can't be dropped, approvals only by approvers",
                "policy": render(permissions_boundary(names, handlers)),
            },
        ).ref("arn")
        plain.add(
            "aws_iam_policy",
            (ENFORCEMENT_BOUNDARY_CONSTRUCT_ID,),
            {
                "name": names.enforcement_boundary_policy,
                "description": "Ceiling for the enforcement handlers: the handler table's actions in every Region, the same guardrails, no approving",
                "policy": render(enforcement_boundary(names, handlers, enforcement_actions)),
            },
        )
        for persona in PERSONAS:
            role = plain.add(
                "aws_iam_role",
                (f"persona-{persona}",),
                {
                    "name": names.persona_role(persona),
                    "description": f"{persona.replace('-', ' ').capitalize()} persona of the ML platform",
                    "assume_role_policy": render(trust_people(names, project_scoped=persona in PROJECT_SCOPED_PERSONAS)),
                    "permissions_boundary": boundary_arn,
                    "max_session_duration": 3600,
                },
            )
            plain.add(
                "aws_iam_role_policy",
                (f"persona-{persona}-policy",),
                {
                    "name": f"{persona}-permissions",
                    "role": role.ref("name"),
                    "policy": render(persona_policy(names, persona, keys)),
                },
            )
        return boundary_arn

    def _project_roles(self, plain: PlainResources, keys: dict[str, str], boundary_arn: str) -> None:
        """Per project, its SageMaker execution and experiment roles."""
        names, policy = self.names, self.policy
        sagemaker_trust = render(trust_service("sagemaker.amazonaws.com", names.account))
        for project in policy.projects:
            # (kind tag, construct id, role name, description, inline policy name, inline policy) of each SageMaker role.
            project_roles = (
                (
                    PIPELINE_ROLE_KIND,
                    "execution",
                    names.execution_role(project),
                    f"SageMaker execution role of project {project.name}",
                    "pipeline-permissions",
                    execution_role_policy(names, project, keys),
                ),
                (
                    EXPERIMENTS_ROLE_KIND,
                    "experiments",
                    names.experiment_role(project),
                    f"SageMaker role of project {project.name}'s own jobs: no evidence, no registration",
                    "experiment-permissions",
                    experiment_role_policy(names, project, keys),
                ),
            )
            for role_kind, kind, role_name, description, policy_name, document in project_roles:
                project_role = plain.add(
                    "aws_iam_role",
                    (f"{kind}-{project.name}",),
                    {
                        "name": role_name,
                        "description": description,
                        "assume_role_policy": sagemaker_trust,
                        "permissions_boundary": boundary_arn,
                        "tags": {**policy.project_tags(project), ROLE_KIND_TAG_KEY: role_kind},
                    },
                )
                plain.add(
                    "aws_iam_role_policy",
                    (f"{kind}-{project.name}-policy",),
                    {"name": policy_name, "role": project_role.ref("name"), "policy": render(document)},
                )
