"""Build the evidence report from the audit bucket.

    python -m review.evidence report --bucket BUCKET [--since YYYY-MM-DD] [--until YYYY-MM-DD]
        [--region R] [--endpoint-url URL] [--policy policies/governance.yaml]
        [--scan-json reports/checkov/results_json.json] [--access-json FILE] [--output reports/evidence]

Writes ``evidence-report.json`` (schema: review/evidence/schema.json) and ``evidence-report.html``
in the output directory, both rendered first and then each replaced whole (a temporary file renamed), so
neither is ever half-written. A problem with the inputs (credentials, Region, endpoint, bucket, policy,
scan report, access summary, output directory) is one line on stderr and exit code 2.

Exit code 0 with a ``WARNING:`` line on stderr when the report is written but incomplete or empty: objects
that could not be used (named in ``source.unreadable``, not counted), record versions hidden by a delete
marker (``source.hidden``), nothing listed in the period, or Object Lock off or unreadable.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from policies.validated import DEFAULT_POLICY_PATH

JSON_NAME = "evidence-report.json"
HTML_NAME = "evidence-report.html"


class InputError(Exception):
    """An input the report needs is missing or unusable; the message is the one line to show."""


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m review.evidence", description="Evidence report of the governance decisions.")
    commands = root.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="build evidence-report.json and evidence-report.html from the audit bucket")
    report.add_argument("--bucket", required=True, help="the audit bucket the foundation stack created for the policy")
    report.add_argument("--since", type=_day, help="first day to include (UTC, by the date in the audit key)")
    report.add_argument("--until", type=_day, help="last day to include (UTC, inclusive)")
    report.add_argument("--region", help="AWS Region of the bucket (default: the SDK's)")
    report.add_argument("--endpoint-url", help="S3 endpoint (a local AWS emulator)")
    report.add_argument("--policy", type=Path, default=DEFAULT_POLICY_PATH, help="the governance policy file")
    report.add_argument("--scan-json", type=Path, help="checkov's results_json.json from `make scan`")
    report.add_argument("--access-json", type=Path, help="access matrix summary (principals, checks, invariants) as JSON")
    report.add_argument("--output", type=Path, default=Path("reports/evidence"), help="directory to write the report to")
    return root


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _load_policy(path: Path) -> tuple[Any, str]:
    from policies.errors import PolicyError
    from policies.loader import load_policy

    try:
        policy = load_policy(path)
    except PolicyError as exc:
        raise InputError(_one_line(str(exc))) from None
    return policy, hashlib.sha256(path.read_bytes()).hexdigest()


def _json_file(path: Path | None, what: str) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"the {what} {path} is not JSON: {exc}") from None


def _records(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The period's records and the bucket's name and Object Lock configuration."""
    import boto3
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        InvalidRegionError,
        NoCredentialsError,
    )

    from lambdas.shared.aws import error_code
    from review.evidence.collect import audit_bucket, read_audit_records

    try:
        session = boto3.session.Session(region_name=args.region)
        if session.get_credentials() is None:
            raise InputError(
                "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an IAM role"
            )
        s3 = session.client("s3", endpoint_url=args.endpoint_url)
    except InvalidRegionError:
        raise InputError(f"--region {args.region!r} is not an AWS Region name (such as eu-west-1)") from None
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise InputError(f"--endpoint-url {args.endpoint_url!r} is not usable: {_one_line(str(exc))}") from None
    except BotoCoreError as exc:
        raise InputError(f"cannot make an S3 client: {_one_line(str(exc))}") from None
    try:
        s3.head_bucket(Bucket=args.bucket)
        records = read_audit_records(s3, args.bucket, since=args.since, until=args.until)
        return records, audit_bucket(s3, args.bucket)
    except NoCredentialsError:
        raise InputError("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from None
    except EndpointConnectionError as exc:
        raise InputError(f"cannot reach S3: {exc}") from None
    except ClientError as exc:
        code = error_code(exc)
        if code in {"404", "NoSuchBucket", "NotFound"}:
            raise InputError(f"the audit bucket {args.bucket!r} does not exist (or is in another account)") from None
        if code in {"403", "AccessDenied", "Forbidden"}:
            raise InputError(f"access to the audit bucket {args.bucket!r} is denied for these credentials") from None
        raise InputError(f"cannot read the audit bucket {args.bucket!r}: {code}: {_one_line(str(exc))}") from None
    except BotoCoreError as exc:
        raise InputError(f"cannot read the audit bucket {args.bucket!r}: {_one_line(str(exc))}") from None


def _write_all(outputs: dict[Path, bytes]) -> None:
    """Each file to a temporary file in its directory, then every one replaced: none is left half-written, and a
    failure before the replacements leaves the previous report as it was."""
    written: list[tuple[Path, Path]] = []
    path = next(iter(outputs))
    umask = os.umask(0)
    os.umask(umask)
    try:
        for path, body in outputs.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory")
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            written.append((Path(name), path))
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            Path(name).chmod(0o666 & ~umask)  # mkstemp's 0600 -> what a plain write would have given
        for temporary, path in written:
            temporary.replace(path)  # os.replace: atomic within the directory
    except OSError as exc:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)
        raise InputError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def report(args: argparse.Namespace) -> tuple[Path, Path, dict[str, Any]]:
    from review.evidence.build import build_report, normalize_access
    from review.evidence.collect import scan_summary
    from review.evidence.html import render_html

    if args.since and args.until and args.since > args.until:
        raise InputError(f"--since {args.since} is after --until {args.until}")
    policy, policy_sha256 = _load_policy(args.policy)
    scan_json = _json_file(args.scan_json, "checkov report")
    try:
        scan = scan_summary(scan_json) if scan_json is not None else None
    except ValueError as exc:
        raise InputError(f"{args.scan_json}: {exc}") from None
    access = _json_file(args.access_json, "access matrix summary")
    try:
        normalize_access(access)
    except ValueError as exc:
        raise InputError(f"{args.access_json}: not an access matrix summary: {exc}") from None
    records, bucket = _records(args)
    data = build_report(
        records,
        policy=policy,
        policy_source_sha256=policy_sha256,
        scan_summary=scan,
        access_summary=access,
        since=args.since,
        until=args.until,
        bucket=bucket,
    )
    json_path, html_path = args.output / JSON_NAME, args.output / HTML_NAME
    # ensure_ascii: a lone surrogate a record carries stays a \uXXXX escape; the page shows it escaped the same way
    json_body = (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")
    html_body = render_html(data).encode("utf-8", errors="backslashreplace")
    _write_all({json_path: json_body, html_path: html_body})
    return json_path, html_path, data


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        json_path, html_path, data = report(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    totals = data["totals"]
    unreadable = len(data["source"]["unreadable"])
    print(
        f"{totals['records']} decisions ({', '.join(f'{n} {v}' for v, n in totals['by_verdict'].items())}), "
        f"{totals['violations']} violations, {unreadable} unreadable object(s)"
    )
    print(f"wrote {json_path} and {html_path}")
    from review.evidence.build import report_warnings

    for warning in report_warnings(data):
        print(f"WARNING: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
