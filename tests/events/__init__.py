"""The documented event samples the tests use: the same ones the demo sends (demo/samples)."""

from demo.samples import (
    ACCOUNT,
    CALL_FIXTURES,
    TAMPER_REQUESTS,
    api_call_event,
    approval_event,
    load_event,
    object_created_event,
    tag_call_event,
    tamper_event,
)

# Tampering with a governance resource named another way than the samples name it: (kind, overrides, eventName)
RENAMED_TAMPERING: list[tuple[str, dict[str, str], str | None]] = [
    # a qualifier or an ARN names the same function (and $LATEST's settings are the unqualified ones)
    ("failed-events-dropped", {"functionName": "acme-approval-gate:$LATEST"}, None),
    (
        "failed-events-dropped",
        {"functionName": "arn:aws:lambda:eu-west-1:123456789012:function:acme-tamper-watch:$LATEST"},
        None,
    ),
    ("failed-events-dropped", {"functionName": "123456789012:function:acme-region-guard"}, None),
    ("function-code", {"functionName": "acme-approval-gate:1"}, None),
    # recorded with an API-version suffix, as Lambda records several of its calls
    ("failed-events-dropped", {}, "PutFunctionEventInvokeConfig20190925"),
    # a new metric filter on the trail's log group, whatever its name
    ("metric-filter-deleted", {"filterName": "ops-noise"}, "PutMetricFilter"),
]

__all__ = [
    "ACCOUNT",
    "CALL_FIXTURES",
    "RENAMED_TAMPERING",
    "TAMPER_REQUESTS",
    "api_call_event",
    "approval_event",
    "load_event",
    "object_created_event",
    "tag_call_event",
    "tamper_event",
]
