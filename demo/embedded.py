"""The embedded AWS of the demo: moto in server mode on 127.0.0.1, in this process.

Terraform applies the synthesized stacks into it over HTTP; the handlers' real code runs here and
reaches it through ``AWS_ENDPOINT_URL``. Running moto in this process lets the demo apply the
documented fixes of moto's gaps (infra/embedded_extensions.py) and record the identities SageMaker
would record on a model version, which moto cannot.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from infra.embedded_aws import FAKE_CREDENTIALS, MOTO_ACCOUNT_ID, EmbeddedAws
from infra.embedded_extensions import install_missing_sagemaker_operations, leave_bucket_policies_to_the_access_review

ACCOUNT = MOTO_ACCOUNT_ID


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def embedded_aws(region: str) -> Iterator[EmbeddedAws]:
    """Start moto on a free loopback port in this process; point this process's AWS SDK at it; stop it on exit."""
    from moto.server import ThreadedMotoServer

    install_missing_sagemaker_operations()
    leave_bucket_policies_to_the_access_review()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    saved = {k: os.environ.get(k) for k in [*FAKE_CREDENTIALS, "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"]}
    os.environ.update({**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"})
    server.start()
    try:
        yield EmbeddedAws(endpoint=f"http://127.0.0.1:{port}", region=region)
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
