"""The suite's background applies report what failed at the end of the session, where a CI log's tail shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

A_SESSION_WHOSE_APPLY_FAILS = """
import pytest

from infra.terraform_cli import StackResult
from tests.conftest import BackgroundDeployment


def failing_apply(aws, workdir):
    import urllib.request

    for attempt in (1, 2):  # one SDK call sent twice, as a retry after a lost answer would
        urllib.request.urlopen(urllib.request.Request(
            aws.endpoint + "/?Action=ListQueues&Version=2012-11-05",
            headers={"amz-sdk-invocation-id": "4f1c-retried", "amz-sdk-request": f"attempt={attempt}; max=6"},
        )).read()
    return [
        StackResult("foundation", True),
        StackResult("identity", False, "Error: creating IAM Role (acme-data-scientist): EntityAlreadyExists\\nsecond line"),
    ]


def test_waits_for_the_apply(tmp_path):
    background = BackgroundDeployment("deploy-local", "eu-west-1", tmp_path, failing_apply)
    try:
        _, results = background.wait()
        assert [r.ok for r in results] == [True, False]
        with pytest.raises(RuntimeError, match=r"deploy-local failed: identity: Error: creating IAM Role"):
            background.applied()
    finally:
        background.stop()
"""


def test_a_background_apply_that_failed_is_named_with_its_error_at_the_end_of_the_session(tmp_path: Path) -> None:
    (tmp_path / "test_session.py").write_text(A_SESSION_WHOSE_APPLY_FAILS)
    # The session as the suite's configuration makes it, not with the options of the run around this test
    # (PYTEST_ADDOPTS="--durations=60" printed more after the report and failed it).
    env = {name: value for name, value in os.environ.items() if name != "PYTEST_ADDOPTS"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    tail = run.stdout.strip().splitlines()[-6:]
    assert "deploy-local failed: identity: Error: creating IAM Role (acme-data-scientist): EntityAlreadyExists" in tail
    assert "second line" in tail
    # the embedded AWS answered one call twice: both answers are named, with the call and its attempts
    retried = [line for line in tail if line.startswith("deploy-local failed: embedded AWS, a call answered more than once:")]
    assert [line.split("sdk-invocation=4f1c-retried ")[1] for line in retried] == [
        "sdk-request=attempt=1;%20max=6",
        "sdk-request=attempt=2;%20max=6",
    ]
