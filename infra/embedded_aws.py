"""An embedded AWS for offline deploys: moto in server mode on 127.0.0.1, in its own process
(``infra/embedded_server.py``: moto with the fixes of ``infra/embedded_extensions.py``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
MOTO_ACCOUNT_ID = "123456789012"
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class EmbeddedAws:
    endpoint: str
    region: str

    def client(self, service: str, region: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def embedded_aws(region: str, *, log_path: str | os.PathLike[str] | None = None) -> Iterator[EmbeddedAws]:
    """Start moto_server on a free loopback port; stop it on exit."""
    port = _free_port()
    log: IO[bytes] | int = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region, "MOTO_ALLOW_NONEXISTENT_REGION": "false"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.embedded_server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
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
