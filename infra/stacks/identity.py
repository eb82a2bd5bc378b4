"""Identity: the permissions boundary, the persona roles and one SageMaker execution role per project."""

from __future__ import annotations

import json

from cdktn import TerraformOutput
from cdktn_provider_aws.iam_policy import IamPolicy
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from iam.boundary import permissions_boundary
from iam.personas import persona_policy
from iam.roles import execution_role_policy
from iam.trust import trust_account_with_mfa, trust_service
from infra.stacks.base import BackendSettings, GovernanceStack
from policies.model import GovernancePolicy
from policies.naming import BOUNDARY_CONSTRUCT_ID, PERSONAS


class IdentityStack(GovernanceStack):
    def __init__(self, scope: Construct, stack_name: str, *, policy: GovernancePolicy, backend: BackendSettings) -> None:
        super().__init__(scope, stack_name, policy=policy, backend=backend)
        names = self.names
        keys = self.key_arns()

        self.boundary = IamPolicy(
            self,
            BOUNDARY_CONSTRUCT_ID,
            name=names.boundary_policy,
            description="Ceiling for every governed principal: allowed Regions, boundary can't be dropped, approvals only by approvers",
            policy=json.dumps(permissions_boundary(names)),
        )

        self.roles: dict[str, IamRole] = {}
        for persona in PERSONAS:
            role = IamRole(
                self,
                f"persona-{persona}",
                name=names.persona_role(persona),
                description=f"{persona.replace('-', ' ').capitalize()} persona of the ML platform",
                assume_role_policy=json.dumps(trust_account_with_mfa(names)),
                permissions_boundary=self.boundary.arn,
                max_session_duration=3600,
            )
            IamRolePolicy(
                self,
                f"persona-{persona}-policy",
                name=f"{persona}-permissions",
                role=role.name,
                policy=json.dumps(persona_policy(names, persona, keys)),
            )
            self.roles[persona] = role

        for project in policy.projects:
            role = IamRole(
                self,
                f"execution-{project.name}",
                name=names.execution_role(project),
                description=f"SageMaker execution role of project {project.name}",
                assume_role_policy=json.dumps(trust_service("sagemaker.amazonaws.com", names.account)),
                permissions_boundary=self.boundary.arn,
                tags=policy.project_tags(project),
            )
            IamRolePolicy(
                self,
                f"execution-{project.name}-policy",
                name="pipeline-permissions",
                role=role.name,
                policy=json.dumps(execution_role_policy(names, project, keys)),
            )
            self.roles[f"execution:{project.name}"] = role

        TerraformOutput(self, "permissions-boundary-arn", value=self.boundary.arn)
