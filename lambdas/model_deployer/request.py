"""The model deployer's request: what a person asks to deploy, validated before anything is read or created.

Read by plain checks into a frozen dataclass on the first request (no pydantic on a cold start): every
field's type exactly (no text for a number, no bool for a count), the patterns the policy's terms
give, and no field the request does not define.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from lambdas.shared.events import MODEL_PACKAGE_ARN, read_or_refuse
from lambdas.shared.field_reader import Reader
from policies.terms import ENDPOINT_NAME, INSTANCE_TYPE, SLUG

MAX_INSTANCES = 10
MAX_STAGE_NAME = 16


@dataclass(frozen=True)
class DeployRequest:
    model_package_arn: str
    endpoint_name: str
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    stage: str | None = None
    """With many accounts: the stage to deploy into, when the deployer's account runs more than one."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def request_id(self) -> str:
        """The same request asked twice is one decision (one record): the id is the request's content hash."""
        content = {k: v for k, v in self.as_dict().items() if v is not None}
        canonical = json.dumps(content, separators=(",", ":"), ensure_ascii=False)  # the bytes ids were made from
        return "deploy-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def deployment_id(self, endpoint_before: str) -> str:
        """The id of a deployment carried out: the request and what the endpoint was before it (its last change, or
        absent). The same request again on an unchanged endpoint is the same decision; on an endpoint changed since
        (a rollback to an earlier version, say) it is a deployment of its own, with its own record."""
        return "deploy-" + hashlib.sha256(f"{self.request_id}|{endpoint_before}".encode()).hexdigest()[:32]


def parse_request(event: Any) -> DeployRequest:
    return read_or_refuse(_read, event, "not a deployment request")


def _read(event: Any) -> DeployRequest:
    reader = Reader()
    data = reader.mapping(event, "")
    known = [f.name for f in fields(DeployRequest)]
    for unknown in [k for k in data if k not in known]:
        reader.fail(str(unknown), "Extra inputs are not permitted")
    values = {
        "model_package_arn": reader.text(data, "model_package_arn", "", pattern=MODEL_PACKAGE_ARN),
        "endpoint_name": reader.text(data, "endpoint_name", "", pattern=ENDPOINT_NAME),
    }
    if "instance_type" in data:
        values["instance_type"] = reader.text(data, "instance_type", "", pattern=INSTANCE_TYPE)
    if "instance_count" in data:
        values["instance_count"] = reader.integer(data, "instance_count", "", minimum=1, maximum=MAX_INSTANCES)
    if data.get("stage") is not None:
        values["stage"] = reader.text(data, "stage", "", pattern=SLUG, max_length=MAX_STAGE_NAME)
    reader.done()
    return DeployRequest(**values)
