"""The embedded AWS itself (moto in server mode on 127.0.0.1): what the deploys, the demo and the read-back rely on.
It needs no terraform, so these run wherever the tests run."""

from __future__ import annotations

import pytest

from infra.embedded_aws import embedded_aws


def test_embedded_aws_state_is_per_run() -> None:
    with embedded_aws("eu-west-1") as first:
        first.client("sqs").create_queue(QueueName="only-in-first")
    with embedded_aws("eu-west-1") as second:
        assert second.client("sqs").list_queues().get("QueueUrls", []) == []


def test_the_embedded_aws_port_is_held_from_its_choice_until_the_server_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two embedded AWSs start at once in a test session (the single- and the multi-account applies). A port picked
    free, released, then bound by the server could be bound by the other one meanwhile: both would then answer on
    one server, and one apply would land in the other's AWS. The port is already taken when the server starts."""
    import errno
    import socket
    import subprocess

    real_popen = subprocess.Popen
    bind_errors: list[int] = []

    def popen_checking_the_port(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        if "infra.embedded_server" not in args:  # the session's background threads start processes too
            return real_popen(args, **kwargs)  # type: ignore[call-overload,no-any-return]
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", int(args[args.index("--port") + 1])))
            except OSError as exc:
                bind_errors.append(exc.errno or 0)
        return real_popen(args, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(subprocess, "Popen", popen_checking_the_port)
    with embedded_aws("eu-west-1") as aws:
        aws.client("sqs").create_queue(QueueName="served-on-the-held-port")
        assert aws.client("sqs").list_queues()["QueueUrls"][0].endswith("/served-on-the-held-port")
    assert bind_errors == [errno.EADDRINUSE]
