"""The embedded AWS of the demo: the same server ``make deploy-local`` starts (``infra/embedded_server.py``: moto on
127.0.0.1 in its own process, with the fixes of ``infra/embedded_extensions.py``), and this process's AWS SDK
pointed at it, so the handlers' real code reaches it as it would reach AWS, and nothing else: the user's
profile, shared config files and per-service endpoints are set aside while it runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

from infra.embedded_aws import FAKE_CREDENTIALS, MOTO_ACCOUNT_ID, EmbeddedAws, sdk_environment
from infra.embedded_aws import embedded_aws as start_embedded_aws

ACCOUNT = MOTO_ACCOUNT_ID


@contextmanager
def embedded_aws(region: str, *, log_path: Path | None = None) -> Iterator[EmbeddedAws]:
    """Start the embedded AWS; point this process's AWS SDK at it; stop it and restore the environment on exit."""
    with (
        start_embedded_aws(region, log_path=log_path) as aws,
        patch.dict(
            os.environ,
            sdk_environment(os.environ, {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": aws.endpoint}),
            clear=True,
        ),
    ):
        yield aws
