"""The model deployer's request: what a person asks to deploy, validated before anything is read or created.

Imported on the first request (pydantic is not loaded when the handler loads).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.shared.events import MODEL_PACKAGE_ARN, MalformedEvent
from policies.terms import ENDPOINT_NAME, INSTANCE_TYPE, SLUG


class DeployRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    model_package_arn: str = Field(pattern=MODEL_PACKAGE_ARN)
    endpoint_name: str = Field(pattern=ENDPOINT_NAME)
    instance_type: str = Field(default="ml.m5.large", pattern=INSTANCE_TYPE)
    instance_count: int = Field(default=1, ge=1, le=10)
    stage: str | None = Field(default=None, pattern=SLUG, max_length=16)
    """With many accounts: the stage to deploy into, when the deployer's account runs more than one."""

    @property
    def request_id(self) -> str:
        """The same request asked twice is one decision (one record): the id is the request's content hash."""
        return "deploy-" + hashlib.sha256(self.model_dump_json(exclude_none=True).encode()).hexdigest()[:32]


def parse_request(event: Any) -> DeployRequest:
    try:
        return DeployRequest.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise MalformedEvent(f"not a deployment request: {problems}") from None
