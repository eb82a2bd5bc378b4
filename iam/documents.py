"""The two shapes every IAM document here is made of."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

Document = dict[str, Any]


def document(*statements: Mapping[str, Any]) -> Document:
    return {"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str] | str,
    *,
    effect: str = "Allow",
    condition: Mapping[str, Any] | None = None,
    principal: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"Sid": sid, "Effect": effect}
    if principal is not None:
        out["Principal"] = dict(principal)
    out["Action"] = sorted(actions)
    out["Resource"] = resources if isinstance(resources, str) else list(resources)
    if condition:
        out["Condition"] = dict(condition)
    return out


def deny_insecure_transport(actions: str, resources: Sequence[str] | str) -> dict[str, Any]:
    """The TLS-only statement every resource policy carries."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": actions,
        "Resource": resources if isinstance(resources, str) else list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


_IAM_VARIABLE = re.compile(r"\$\{(?=[A-Za-z0-9-]+:[^}]*\})")


def render(doc: Document) -> str:
    """The document as a Terraform string attribute: IAM policy variables (``${aws:PrincipalTag/x}``) are
    escaped as ``$${...}`` so Terraform passes them through; its own interpolations (``${data.x.y}``) stay."""
    return _IAM_VARIABLE.sub("$${", json.dumps(doc))
