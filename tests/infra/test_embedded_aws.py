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


def test_each_logged_request_names_its_sdk_call_and_attempt(tmp_path: object) -> None:
    """A create sent again by an SDK retry after the server answered it shows in the server's log as a second attempt
    of the same call, with both answers (how an apply's EntityAlreadyExists is traced to its first attempt). A
    request line the server refuses is still answered and logged."""
    import socket
    from pathlib import Path

    from botocore.exceptions import ClientError

    from infra.embedded_aws import calls_answered_more_than_once

    log = Path(str(tmp_path)) / "moto.log"
    with embedded_aws("eu-west-1", log_path=log) as aws:
        sqs = aws.client("sqs")
        sqs.create_queue(QueueName="logged")
        with pytest.raises(ClientError):
            sqs.get_queue_url(QueueName="not-there")
        host, port = aws.endpoint.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(b"NOT A REQUEST LINE\r\n\r\n")
            assert b"Error response" in raw.recv(1000)
    text = log.read_text()
    answered = [line for line in text.splitlines() if "sdk-invocation=" in line]
    assert [line.split('" ')[1].split()[0] for line in answered] == ["200", "400"]
    assert all("sdk-request=" in line and "attempt=1" in line for line in answered)
    assert len({line.split("sdk-invocation=")[1].split()[0] for line in answered}) == 2  # one id per call
    assert calls_answered_more_than_once(log) == []  # each call answered once
    assert "Traceback" not in text


def test_calls_answered_more_than_once_read_each_sdks_attempt_header(tmp_path: object) -> None:
    """botocore's retries carry a ttl before the attempt, the Go SDK's after it, legacy retries only the attempt; a
    call answered with success and then refused comes first, whatever the order in the log."""
    from pathlib import Path

    from infra.embedded_aws import calls_answered_more_than_once

    def line(status: int, invocation: str, request: str) -> str:
        return (
            f'127.0.0.1 - - [27/Nov/2026 05:52:53] "POST / HTTP/1.1" {status} - sdk-invocation={invocation} sdk-request={request}'
        )

    log = Path(str(tmp_path)) / "moto.log"
    throttled = [
        line(503, "b-throttled", "attempt=1;%20max=3"),
        line(200, "b-throttled", "ttl=20261127T063944Z;%20attempt=2;%20max=3"),
    ]
    created_twice = [
        line(200, "go-create", "attempt=1;%20max=25"),
        line(409, "go-create", "attempt=2;%20max=25;%20ttl=20261127T055253Z"),
    ]
    once = [line(200, "legacy-once", "attempt=1"), line(200, "go-once", "attempt=1;%20max=25")]
    log.write_text(
        "\n".join([*throttled, once[0], *created_twice, once[1], '127.0.0.1 - - [27/Nov/2026] "GET / HTTP/1.1" 200 -']) + "\n"
    )
    assert calls_answered_more_than_once(log) == [*created_twice, *throttled]
