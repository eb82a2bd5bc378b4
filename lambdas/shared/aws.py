"""boto3 clients, created on first use (so moto, in tests, is active before any client exists)."""

from __future__ import annotations

from typing import Any

_clients: dict[tuple[str, str | None], Any] = {}


def client(service: str, region: str | None = None) -> Any:
    key = (service, region)
    if key not in _clients:
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
        _clients[key] = boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]
    return _clients[key]


def reset() -> None:
    _clients.clear()


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


S3_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
SAGEMAKER_NOT_FOUND = frozenset({"ResourceNotFound", "ValidationException"})
