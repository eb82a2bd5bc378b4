"""The embedded AWS's server process: moto in server mode with the fixes of ``infra/embedded_extensions.py``.

    python -m infra.embedded_server --port 5000 [--host 127.0.0.1] [--fd N]

``--fd`` serves on a socket the caller already bound to ``--port`` and listens on (``infra/embedded_aws.py``
does): a port picked free and bound later by the server could be taken in between, by another embedded AWS
started at the same moment among others, whose readiness the caller would then take for its own.

It serves exactly what ``python -m moto.server`` serves, plus one route of its own: ``POST
/_embedded/user-context`` with ``{"account", "region", "package_arn", "created_by",
"last_modified_by"}`` sets the identities SageMaker records on a model version (moto records one
fixed fake user), so the approval gate's separation of duties can be played against it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

USER_CONTEXT_PATH = "/_embedded/user-context"


def application() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from infra.embedded_extensions import (
        install_missing_sagemaker_operations,
        leave_bucket_policies_to_the_access_review,
        record_user_context,
    )

    install_missing_sagemaker_operations()
    leave_bucket_policies_to_the_access_review()
    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != USER_CONTEXT_PATH or environ.get("REQUEST_METHOD") != "POST":
            return moto_app(environ, start_response)  # type: ignore[no-any-return]
        try:
            body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            record_user_context(
                body["account"],
                body["region"],
                body["package_arn"],
                created_by=body.get("created_by"),
                last_modified_by=body.get("last_modified_by"),
            )
        except (KeyError, ValueError, StopIteration) as exc:
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.embedded_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fd", type=int, help="a socket bound to --port and listening, to serve on")
    args = parser.parse_args(argv)
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class RequestHandler(MotoRequestHandler):
        """Each logged request names the SDK call it belongs to and its attempt (the AWS SDKs' ``amz-sdk-invocation-id``
        and ``amz-sdk-request`` headers): a create answered and then sent again by an SDK retry shows as two attempts of
        one invocation, with what the server answered to each."""

        def parse_request(self) -> bool:
            self.__dict__.pop("headers", None)  # a refused request is not logged with the previous one's headers
            return bool(super().parse_request())

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            headers = getattr(self, "headers", None)  # none when the request line itself was refused
            invocation = headers.get("amz-sdk-invocation-id") if headers is not None else None
            if headers is None or invocation is None:
                super().log_request(code, size)
            else:
                attempt = quote(headers.get("amz-sdk-request") or "", safe="=;")
                super().log_request(code, f"{size} sdk-invocation={quote(invocation)} sdk-request={attempt}")

    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = make_server(args.host, args.port, application(), threaded=True, request_handler=RequestHandler, fd=args.fd)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
