"""An embedded AWS for offline deploys: moto in server mode on 127.0.0.1, in its own process
(``infra/embedded_server.py``: moto with the fixes of ``infra/embedded_extensions.py``)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
MOTO_ACCOUNT_ID = "123456789012"
REPO = Path(__file__).resolve().parents[1]
# What would send an SDK's call elsewhere than the embedded AWS's endpoint, or fail it: a service's own endpoint
# variable, an instruction to ignore endpoint settings, a profile (its config can name endpoints; a profile that
# does not exist fails every client). The embedded world runs without them and without shared config files.
ENDPOINT_OVERRIDES = ("AWS_ENDPOINT_URL_", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
NO_SHARED_FILES = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def sdk_environment(base: Mapping[str, str], settings: Mapping[str, str]) -> dict[str, str]:
    """``base`` without the user's AWS endpoint overrides, profile and shared files, with ``settings``."""
    return {k: v for k, v in base.items() if not k.startswith(ENDPOINT_OVERRIDES)} | NO_SHARED_FILES | dict(settings)


@dataclass(frozen=True)
class EmbeddedAws:
    endpoint: str
    region: str

    def client(self, service: str, region: str | None = None, *, credentials: Mapping[str, str] | None = None) -> Any:
        """A client of the embedded AWS that reads none of the user's AWS settings (profile, config files)."""
        import botocore.session
        from botocore.config import Config

        # Read from no environment variable and no file: no profile (a missing one would fail every client), no config.
        core = botocore.session.Session(
            session_vars={
                "profile": (None, None, None, None),
                "config_file": (None, None, os.devnull, None),
                "credentials_file": (None, None, os.devnull, None),
            }
        )
        core.register_component("data_loader", _service_models())
        keys = credentials or {
            "AccessKeyId": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
        return core.create_client(
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys.get("SessionToken"),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    def record_user_context(self, package_arn: str, *, created_by: Any, last_modified_by: Any) -> None:
        """Set the identities SageMaker records on a model version (``infra/embedded_server.py``)."""
        from infra.embedded_server import USER_CONTEXT_PATH

        parts = package_arn.split(":")
        body = {"account": parts[4], "region": parts[3], "package_arn": package_arn}
        body |= {"created_by": created_by, "last_modified_by": last_modified_by}
        request = urllib.request.Request(  # noqa: S310 (the embedded AWS on 127.0.0.1)
            f"{self.endpoint}{USER_CONTEXT_PATH}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()


@cache
def _service_models() -> Any:
    """The data loader every embedded client's session uses, so each service's model is parsed once per process
    (a fresh loader per client took the demo's lifecycle from 11 s to 30 s). Sessions stay one per client: one
    session shared by every client made `make test` about 100 CPU-seconds slower (measured; the cause not found)."""
    import botocore.session

    return botocore.session.create_loader()


@contextmanager
def embedded_aws(region: str, *, log_path: str | os.PathLike[str] | None = None) -> Iterator[EmbeddedAws]:
    """Start moto_server on a free loopback port; stop it on exit.

    The port is bound here and the server serves on the socket it inherits: nothing else can take the port
    between its choice and the server's start, so the server that answers is this one."""
    listening = socket.create_server(("127.0.0.1", 0))
    port = int(listening.getsockname()[1])
    log: IO[bytes] | int = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    env = sdk_environment(
        os.environ,
        {
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": region,
            "MOTO_ALLOW_NONEXISTENT_REGION": "false",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        },
    )
    with listening:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.embedded_server", "--host", "127.0.0.1", "--port", str(port)]
            + ["--fd", str(listening.fileno())],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=(listening.fileno(),),
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the embedded AWS exited with code {process.returncode} before it served requests")
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1).read()  # noqa: S310 (fixed http://127.0.0.1 URL)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the embedded AWS did not answer on {endpoint} within 30 s") from None
                time.sleep(0.1)
        yield EmbeddedAws(endpoint=endpoint, region=region)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if not isinstance(log, int):
            log.close()


_LOGGED_CALL = re.compile(r'" (\d{3}) \S+ sdk-invocation=(\S+) sdk-request=(\S*)')
_ATTEMPT = re.compile(r"(?:^|;)\s*attempt=(\d+)")


def calls_answered_more_than_once(log_path: str | os.PathLike[str]) -> list[str]:
    """The server log's lines (``infra/embedded_server.py``) of every SDK call the embedded AWS answered more than once,
    in the log's order; first the calls answered with success and then refused (a create the server did and
    answered, got again from the SDK's retry, fails an apply as "already exists"), then the other retried ones."""
    path = Path(log_path)
    if not path.exists():
        return []
    calls: dict[str, list[tuple[int, int, str]]] = {}
    for line in path.read_text(errors="replace").splitlines():
        if (logged := _LOGGED_CALL.search(line)) is None:
            continue
        status, invocation, request = logged.groups()
        attempt = _ATTEMPT.search(unquote(request))
        calls.setdefault(invocation, []).append((int(status), int(attempt.group(1)) if attempt else 1, line))
    retried = [answers for answers in calls.values() if len(answers) > 1 or any(a > 1 for _, a, _ in answers)]

    def redone(answers: list[tuple[int, int, str]]) -> bool:
        statuses = [status for status, _, _ in answers]
        return any(200 <= s < 300 for s in statuses[:-1]) and 400 <= statuses[-1] < 500

    ordered = [a for a in retried if redone(a)] + [a for a in retried if not redone(a)]
    return [line for answers in ordered for _, _, line in answers]


def retried_calls_report(log_path: str | os.PathLike[str], limit: int = 20) -> list[str]:
    """``calls_answered_more_than_once``, as the lines a failed deploy prints after its stacks' errors."""
    return [f"embedded AWS, a call answered more than once: {line}" for line in calls_answered_more_than_once(log_path)][:limit]
