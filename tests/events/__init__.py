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

__all__ = [
    "ACCOUNT",
    "CALL_FIXTURES",
    "TAMPER_REQUESTS",
    "api_call_event",
    "approval_event",
    "load_event",
    "object_created_event",
    "tag_call_event",
    "tamper_event",
]
