"""AWS clients, created on first use (so moto, in tests, is active before any client exists).

Clients come from a botocore session, not boto3's: boto3 adds nothing a handler calls, and creating an S3 client
through it imports its transfer manager (s3transfer, multiprocessing, concurrent.futures) on every cold start.

With many accounts (the policy's ``accounts`` section) the hub's handlers read and act on a workload
account's resources as that account's enforcement role named like their own, which trusts only them,
with the hub's external id (``iam.cross_account.workload_enforcement_trust``). ``client(..., account=)``
assumes it on first use and again shortly before the session expires; the stack sets the role and the
external id in the environment of the hub's handlers only (``lambdas.shared.settings.handler_environment``).
Without them, or for the function's own account, a client uses the function's own role.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

WORKLOAD_ROLE_ENV = "GOVERNANCE_WORKLOAD_ROLE_ARN"  # "arn:<partition>:iam::{account}:role/<org>-<handler>"
EXTERNAL_ID_ENV = "GOVERNANCE_WORKLOAD_EXTERNAL_ID"
HOME_ACCOUNT_ENV = "GOVERNANCE_ACCOUNT"
SESSION_SECONDS = 3600  # the enforcement roles' max_session_duration
RENEW_BEFORE = timedelta(minutes=5)

_clients: dict[tuple[str, str | None, str | None], Any] = {}  # (service, Region, role assumed or None)
_session: list[Any] = []  # the botocore session every client is created from
_loaders: dict[str | None, Any] = {}  # the sessions' data loaders, by data path (_data_loader)
_sessions: dict[str, tuple[datetime, dict[str, str]]] = {}


def _config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


def _data_loader(session: Any) -> Any:
    """botocore's data loader, but for two things, each a cold start's cost:

    - a service name is looked for in its own directory: botocore lists every service it has a model of (400+
      directories opened, 2,700 files looked for: 13 ms) to find one name among them. A name without a model of the
      kind asked for is refused with botocore's error (``UnknownServiceError``, on which botocore falls back to its
      legacy endpoints for a model without endpoint rules); the list itself names the data directories;
    - each JSON object is decoded into a dict: botocore decodes it into an OrderedDict through a Python hook, twice
      as long (an S3 client's files: 21 ms against 9), for an order dicts keep.

    One loader per data path (``AWS_DATA_PATH``), kept across sessions: the models are read-only files. Paths stay
    strings, as botocore's: pathlib would cost imports."""
    data_path = session.get_config_variable("data_path")
    if data_path not in _loaders:
        import gzip

        from botocore.exceptions import DataNotFoundError, UnknownServiceError
        from botocore.loaders import JSONFileLoader, Loader, create_loader, instance_cache

        class JSONFiles(JSONFileLoader):
            openers = ((".json", open), (".json.gz", gzip.open))  # botocore's extensions, in its order

            def exists(self, file_path: str) -> bool:
                return any(os.path.isfile(file_path + extension) for extension, _ in self.openers)  # noqa: PTH113

            def load_file(self, file_path: str) -> Any:
                for extension, opener in self.openers:
                    if os.path.isfile(file_path + extension):  # noqa: PTH113
                        with opener(file_path + extension, "rb") as file:
                            return json.loads(file.read())
                return None

        class ServiceDirectories(Loader):
            @instance_cache
            def list_available_services(self, type_name: str) -> list[str]:
                names: set[str] = set()
                for path in self.search_paths:
                    if os.path.isdir(path):  # noqa: PTH112
                        names.update(entry.name for entry in os.scandir(path) if entry.is_dir())
                return sorted(names)

            def list_api_versions(self, service_name: str, type_name: str) -> list[str]:
                try:
                    return list(super().list_api_versions(service_name, type_name))
                except DataNotFoundError:
                    known = ", ".join(self.list_available_services(type_name))
                    raise UnknownServiceError(service_name=service_name, known_service_names=known) from None

        search_paths = create_loader(data_path).search_paths
        _loaders[data_path] = ServiceDirectories(search_paths, file_loader=JSONFiles(), include_default_search_paths=False)
    return _loaders[data_path]


def workload_account(account: str | None) -> str | None:
    """``account`` when this function acts there through its namesake role; None: its own role."""
    if not account or not os.environ.get(WORKLOAD_ROLE_ENV) or account == os.environ.get(HOME_ACCOUNT_ENV):
        return None
    return account


def _assume(role: str, external_id: str | None) -> dict[str, str]:
    """Credentials of ``role``, one session per role, assumed again shortly before it expires."""
    expires, credentials = _sessions.get(role, (None, {}))
    if expires is not None and expires - datetime.now(UTC) > RENEW_BEFORE:
        return credentials
    for key in [k for k in _clients if k[2] == role]:
        del _clients[key]
    response = client("sts").assume_role(
        RoleArn=role,
        RoleSessionName=f"{role.rsplit('/', 1)[-1]}-{role.split(':')[4]}"[:64],
        DurationSeconds=SESSION_SECONDS,
        **({"ExternalId": external_id} if external_id else {}),
    )["Credentials"]
    expiry = response["Expiration"]
    expiry = expiry if isinstance(expiry, datetime) else datetime.fromisoformat(str(expiry))
    credentials = {
        "aws_access_key_id": response["AccessKeyId"],
        "aws_secret_access_key": response["SecretAccessKey"],
        "aws_session_token": response["SessionToken"],
    }
    _sessions[role] = (expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC), credentials)
    return credentials


def client(service: str, region: str | None = None, *, account: str | None = None, role: str | None = None) -> Any:
    """A client for ``service`` in ``region``, acting in ``account`` (default: the function's own) through the
    namesake role there; or as ``role`` (an ARN: a role of another account trusted without an external id, such as
    the hub's clearance reader)."""
    external_id = None
    if role is None and (acting_in := workload_account(account)):
        role, external_id = os.environ[WORKLOAD_ROLE_ENV].format(account=acting_in), os.environ.get(EXTERNAL_ID_ENV)
    credentials = _assume(role, external_id) if role else {}
    key = (service, region, role)
    if key not in _clients:
        if not _session:
            import botocore.session

            session = botocore.session.get_session()
            session.register_component("data_loader", _data_loader(session))
            _session.append(session)
        _clients[key] = _session[0].create_client(service, region_name=region, config=_config(), **credentials)
    return _clients[key]


def account_of(arn: str | None) -> str | None:
    """The account in an ARN (None for ARNs without one, such as S3 buckets')."""
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4] else None


def client_for(service: str, arn: str, region: str | None = None) -> Any:
    """A client for acting on the resource ``arn``: in its account, through the namesake role when it is another."""
    return client(service, region, account=account_of(arn))


def reset() -> None:
    _clients.clear()
    _sessions.clear()
    _session.clear()


def split_s3_uri(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://bucket/key`` URI; None for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        return None
    bucket, key = uri[5:].split("/", 1)
    return (bucket, key) if bucket and key else None


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


S3_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
SAGEMAKER_NOT_FOUND = frozenset({"ResourceNotFound", "ValidationException"})
