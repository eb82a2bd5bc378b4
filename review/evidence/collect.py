"""Read the audit records of a period from the audit bucket, and the scan and access summaries.

Records are selected by the date in their key (``decisions/<rule set>/<yyyy>/<mm>/<dd>/<event id>/
<digest>.json``, see ``lambdas/shared/audit.py``): the listing starts after ``since`` in each rule
set and stops past ``until``, so only the period's objects are read. An object that cannot be
read or is not an audit record is counted and named, never silently dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lambdas.shared.audit import AUDIT_PREFIX, AUDIT_SCHEMA
from lambdas.shared.aws import error_code

KEY_LAYOUT = re.compile(
    r"(?:^|/)"
    + re.escape(AUDIT_PREFIX)
    + r"/(?P<rule_set>[^/]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<event>[^/]+)/[^/]+\.json$"
)
MAX_RECORD_BYTES = 1_000_000
REQUIRED_FIELDS = ("rule_set", "decision", "what", "event")


@dataclass(frozen=True)
class Unreadable:
    key: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "reason": self.reason}


class AuditRecords(list[dict[str, Any]]):
    """The records read, in event-time order, with the objects that could not be used."""

    def __init__(self, records: list[dict[str, Any]], unreadable: list[Unreadable], listed: int) -> None:
        super().__init__(records)
        self.unreadable = unreadable
        self.listed = listed
        """Objects listed in the period (records read plus unreadable ones)."""


def key_date(key: str) -> date | None:
    found = KEY_LAYOUT.search(key)
    if found is None:
        return None
    try:
        return date(int(found["y"]), int(found["m"]), int(found["d"]))
    except ValueError:
        return None


def event_time(record: dict[str, Any]) -> datetime:
    """When the decided event happened (its EventBridge time), else when the record was written; UTC."""
    event = record.get("event")
    for raw in ((event or {}).get("time") if isinstance(event, dict) else None, record.get("recorded_at")):
        if isinstance(raw, str) and raw:
            try:
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def _pages(s3: Any, **kwargs: Any) -> Any:
    yield from s3.get_paginator("list_objects_v2").paginate(**kwargs)


def _rule_set_prefixes(s3: Any, bucket: str, prefix: str) -> list[str]:
    found: list[str] = []
    for page in _pages(s3, Bucket=bucket, Prefix=prefix, Delimiter="/"):
        found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return sorted(found)


def _keys(s3: Any, bucket: str, prefix: str, since: date | None, until: date | None) -> list[str]:
    """Keys of the period: per rule set, from ``since`` on (S3 lists in key order, dates are zero-padded) until past ``until``."""
    layout_root = prefix.rstrip("/").rsplit("/", 1)[-1] == AUDIT_PREFIX and prefix.endswith("/")
    if not layout_root or (since is None and until is None):
        return [item["Key"] for page in _pages(s3, Bucket=bucket, Prefix=prefix) for item in page.get("Contents", [])]
    keys: list[str] = []
    for rule_set in _rule_set_prefixes(s3, bucket, prefix):
        start = {"StartAfter": f"{rule_set}{since:%Y/%m/%d}"} if since else {}
        done = False
        for page in _pages(s3, Bucket=bucket, Prefix=rule_set, **start):
            for item in page.get("Contents", []):
                day = key_date(item["Key"])
                if until is not None and day is not None and day > until:
                    done = True
                    break
                keys.append(item["Key"])
            if done:
                break
    return keys


def _read(s3: Any, bucket: str, key: str) -> dict[str, Any] | str:
    """The record, or why it cannot be used."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_RECORD_BYTES}")
        body = response["Body"].read()
    except Exception as exc:  # noqa: BLE001 - any failure to read is reported per object
        return f"cannot be read: {error_code(exc) or type(exc).__name__}"
    try:
        record = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "not JSON"
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("schema") != AUDIT_SCHEMA:
        return f"schema is {record.get('schema')!r}, not {AUDIT_SCHEMA!r}"
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        return f"missing {', '.join(missing)}"
    return record


def read_audit_records(
    s3_client: Any,
    bucket: str,
    *,
    since: date | None,
    until: date | None,
    prefix: str = f"{AUDIT_PREFIX}/",
) -> AuditRecords:
    """Every audit record whose key date is within [since, until] (inclusive), sorted by event time.

    Each record gains ``audit_key`` (its S3 key). Objects that cannot be read, are not JSON or are
    not audit records are listed in the result's ``unreadable``.
    """
    if since is not None and until is not None and since > until:
        raise ValueError(f"since {since} is after until {until}")
    records: list[dict[str, Any]] = []
    unreadable: list[Unreadable] = []
    keys = _keys(s3_client, bucket, prefix, since, until)
    for key in keys:
        day = key_date(key)
        if day is None:
            unreadable.append(
                Unreadable(key, f"key does not follow {AUDIT_PREFIX}/<rule set>/<yyyy>/<mm>/<dd>/<event id>/<digest>.json")
            )
            continue
        if (since is not None and day < since) or (until is not None and day > until):
            continue
        found = _read(s3_client, bucket, key)
        if isinstance(found, str):
            unreadable.append(Unreadable(key, found))
        else:
            records.append({**found, "audit_key": key})
    records.sort(key=lambda r: (event_time(r), r["audit_key"]))
    return AuditRecords(records, unreadable, listed=len(records) + len(unreadable))


# ---- the other inputs of the report ------------------------------------------------------------------


def scan_summary(checkov_json: Any) -> dict[str, Any]:
    """passed / failed / accepted counts and check ids from checkov's JSON report (one framework or a list).

    Accepted findings are those ``policies.scan`` moved to skipped with their reason.
    """
    reports = checkov_json if isinstance(checkov_json, list) else [checkov_json]
    passed = failed = accepted = 0
    failed_ids: set[str] = set()
    accepted_ids: set[str] = set()
    for report in reports:
        if not isinstance(report, dict):
            raise ValueError("not a checkov JSON report: expected an object or a list of objects")
        results = report.get("results")
        if not isinstance(results, dict):
            if report.get("summary") is not None or report.get("passed") is not None:
                continue  # a framework with nothing to scan: checkov writes only a summary
            raise ValueError("not a checkov JSON report: no 'results'")
        passed += len(results.get("passed_checks") or [])
        failures = results.get("failed_checks") or []
        skipped = results.get("skipped_checks") or []
        failed += len(failures)
        accepted += len(skipped)
        failed_ids |= {str(f.get("check_id")) for f in failures if isinstance(f, dict)}
        accepted_ids |= {str(f.get("check_id")) for f in skipped if isinstance(f, dict)}
    return {
        "passed": passed,
        "failed": failed,
        "accepted": accepted,
        "failed_check_ids": sorted(failed_ids),
        "accepted_check_ids": sorted(accepted_ids),
    }


def read_scan_summary(path: str | Path) -> dict[str, Any]:
    return scan_summary(json.loads(Path(path).read_text(encoding="utf-8")))
