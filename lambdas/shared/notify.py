"""Violations and undecidable events go to the governance alerts topic."""

from __future__ import annotations

import json
from typing import Any

from lambdas.shared import aws


def publish(topic_arn: str, subject: str, message: dict[str, Any]) -> str:
    response = aws.client("sns").publish(
        TopicArn=topic_arn,
        Subject=subject[:100],
        Message=json.dumps(message, indent=2, sort_keys=True, default=str),
        MessageAttributes={
            "rule_set": {"DataType": "String", "StringValue": str(message.get("rule_set", "unknown"))},
            "decision": {"DataType": "String", "StringValue": str(message.get("decision", "unknown"))},
        },
    )
    return str(response["MessageId"])
