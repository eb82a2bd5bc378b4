"""Read the audit records of a period from the audit bucket, and the scan and access summaries.

Records are selected by the date in their key (``decisions/<rule set>/<yyyy>/<mm>/<dd>/<event id>/<digest>.json``,
see ``lambdas/shared/audit.py``). With a period, only the year, month and day folders that meet it are listed
(``ListObjectVersions`` by folder), so a report costs what its period holds; without one, every version under
``decisions/``. An object that does not follow that layout (beside the date folders, or in a folder that is not a
date), cannot be read or is not a valid audit record is named with the reason, in any period, never silently
dropped. Versions hidden by a delete marker or replaced by a newer version are reported apart, with the hidden
record's verdict when readable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lambdas.shared.audit import AUDIT_PREFIX, AUDIT_SCHEMA
from lambdas.shared.aws import error_code
from policies.rules.outcome import Verdict

KEY_LAYOUT = re.compile(
    r"(?:^|/)"
    + re.escape(AUDIT_PREFIX)
    + r"/(?P<rule_set>[^/]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<event>[^/]+)/[^/]+\.json$"
)
LAYOUT = f"{AUDIT_PREFIX}/<rule set>/<yyyy>/<mm>/<dd>/<event id>/<digest>.json"
MAX_RECORD_BYTES = 1_000_000
REQUIRED_FIELDS = ("rule_set", "decision", "what", "event")
VERDICTS = tuple(v.value for v in Verdict)


@dataclass(frozen=True)
class Unreadable:
    key: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "reason": self.reason}


@dataclass(frozen=True)
class Hidden:
    """A version of an audit object that a GET of its key no longer returns."""

    key: str
    version_id: str
    hidden_by: str
    """'delete marker' or 'newer version'."""
    verdict: str | None
    reason: str | None = None
    """Why the hidden record's verdict is not given (cannot be read, not a record)."""

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__}


class AuditRecords(list[dict[str, Any]]):
    """The records read, in event-time order, with the objects that could not be used and the hidden versions."""

    def __init__(
        self,
        records: list[dict[str, Any]],
        unreadable: list[Unreadable],
        listed: int,
        hidden: list[Hidden] | None = None,
    ) -> None:
        super().__init__(records)
        self.unreadable = unreadable
        self.listed = listed
        """Objects listed in the period (records read plus unreadable ones)."""
        self.hidden = hidden or []


def key_date(key: str) -> date | None:
    found = KEY_LAYOUT.search(key)
    if found is None:
        return None
    try:
        return date(int(found["y"]), int(found["m"]), int(found["d"]))
    except ValueError:
        return None


def parse_time(raw: Any) -> datetime | None:
    """An ISO 8601 time in UTC (naive times are taken as UTC), or None."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def recorded_time(record: dict[str, Any]) -> datetime | None:
    return parse_time(record.get("recorded_at"))


def event_time(record: dict[str, Any]) -> datetime:
    """When the decided event happened (its EventBridge time), else when the record was written; UTC.
    Records without either are refused by ``record_problem``."""
    event = record.get("event")
    found = parse_time(event.get("time") if isinstance(event, dict) else None) or recorded_time(record)
    return found or datetime.min.replace(tzinfo=UTC)


def record_order(record: dict[str, Any]) -> tuple[datetime, datetime, str]:
    """Event time, then when it was recorded, then the key: the order of the report."""
    return event_time(record), recorded_time(record) or event_time(record), str(record.get("audit_key") or "")


def record_problem(record: Any) -> str | None:
    """Why a parsed object is not a usable audit record, or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("schema") != AUDIT_SCHEMA:
        return f"schema is {record.get('schema')!r}, not {AUDIT_SCHEMA!r}"
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        return f"missing {', '.join(missing)}"
    if record.get("decision") not in VERDICTS:
        return f"decision is {record.get('decision')!r}, not one of {', '.join(VERDICTS)}"
    if event_time(record) == datetime.min.replace(tzinfo=UTC):
        return "no time: neither event.time nor recorded_at is an ISO 8601 time"
    return None


def _read(s3: Any, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any] | str:
    """The record, or why it cannot be used."""
    version = {"VersionId": version_id} if version_id else {}
    try:
        response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_RECORD_BYTES - 1}", **version)
        body = response["Body"].read()
    except Exception as exc:  # noqa: BLE001 - any failure to read is reported per object
        return f"cannot be read: {error_code(exc) or type(exc).__name__}"
    size = str(response.get("ContentRange") or "").rpartition("/")[2]
    if size.isdigit() and int(size) > MAX_RECORD_BYTES:
        return f"too large: {int(size):,} bytes, over the {MAX_RECORD_BYTES:,}-byte limit of a record"
    try:
        record = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "not JSON"
    return record_problem(record) or record


def _versions(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every version and delete marker under ``prefix``, newest first per key (as S3 lists them)."""
    return _level(s3, bucket, prefix, delimited=False)[1]


def _level(s3: Any, bucket: str, folder: str, *, delimited: bool = True) -> tuple[list[str], list[dict[str, Any]]]:
    """The sub-folders of ``folder`` and the versions and delete markers directly in it (``delimited=False``: no
    sub-folders, every version under it)."""
    folders: list[str] = []
    versions: list[dict[str, Any]] = []
    delimiter = {"Delimiter": "/"} if delimited else {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=folder, **delimiter):
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        versions += [{**v, "marker": False} for v in page.get("Versions", [])]
        versions += [{**m, "marker": True} for m in page.get("DeleteMarkers", [])]
    return folders, versions


def _dates(parts: tuple[int, ...]) -> tuple[date, date]:
    """The first and last day a year, month or day folder holds (ValueError: not a date)."""
    year, month, day = (*parts, 0, 0)[:3]
    if day:
        return date(year, month, day), date(year, month, day)
    if month:
        last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution) if month < 12 else date(year, 12, 31)
        return date(year, month, 1), last
    return date(year, 1, 1), date(year, 12, 31)


def _period_versions(
    s3: Any, bucket: str, folder: str, *, since: date | None, until: date | None, parts: tuple[int, ...] = ()
) -> Iterator[dict[str, Any]]:
    """The versions of the period under a rule set's folder, walking <yyyy>/<mm>/<dd>/ folders whose dates meet the
    period (so a report costs what its period holds, not the whole trail), and every version of anything off the
    layout there: a folder that is not a date, an object beside the date folders."""
    folders, here = _level(s3, bucket, folder)
    yield from here  # an object in a rule-set, year or month folder: off the layout
    for sub in folders:
        name = sub[len(folder) : -1]
        try:
            if not re.fullmatch(r"\d{4}" if not parts else r"\d{2}", name):
                raise ValueError(name)
            first, last = _dates((*parts, int(name)))
        except ValueError:
            yield from _versions(s3, bucket, sub)  # off the layout: named in any period
            continue
        if (since is not None and last < since) or (until is not None and first > until):
            continue
        if len(parts) == 2:
            yield from _versions(s3, bucket, sub)  # a day of the period
        else:
            yield from _period_versions(s3, bucket, sub, since=since, until=until, parts=(*parts, int(name)))


def _listed(s3: Any, bucket: str, prefix: str, since: date | None, until: date | None) -> Iterator[dict[str, Any]]:
    """Every version under ``prefix`` (no period), or the period's and everything off the layout."""
    if since is None and until is None:
        yield from _versions(s3, bucket, prefix)
        return
    rule_sets, strays = _level(s3, bucket, prefix)
    yield from strays
    for rule_set in rule_sets:
        yield from _period_versions(s3, bucket, rule_set, since=since, until=until)


def _hidden(s3: Any, bucket: str, key: str, version: dict[str, Any], hidden_by: str) -> Hidden:
    found = _read(s3, bucket, key, str(version.get("VersionId") or ""))
    if isinstance(found, str):
        return Hidden(key, str(version.get("VersionId")), hidden_by, None, found)
    return Hidden(key, str(version.get("VersionId")), hidden_by, str(found["decision"]))


def audit_bucket(s3: Any, bucket: str) -> dict[str, Any]:
    """The report's ``bucket``: its name and its Object Lock."""
    return {"name": bucket, "object_lock": object_lock(s3, bucket)}


def object_lock(s3: Any, bucket: str) -> dict[str, Any]:
    """Whether Object Lock is on and its default retention, or why that cannot be told."""
    lock: dict[str, Any] = {"enabled": None, "mode": None, "days": None, "years": None, "error": None}
    try:
        config = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
    except Exception as exc:  # noqa: BLE001 - reported in the header
        code = error_code(exc) or type(exc).__name__
        if code == "ObjectLockConfigurationNotFoundError":
            return lock | {"enabled": False}
        return lock | {"error": f"cannot be read: {code}"}
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    return lock | {
        "enabled": config.get("ObjectLockEnabled") == "Enabled",
        "mode": retention.get("Mode"),
        "days": retention.get("Days") or None,  # S3 gives one of the two
        "years": retention.get("Years") or None,
    }


def read_audit_records(
    s3_client: Any,
    bucket: str,
    *,
    since: date | None,
    until: date | None,
    prefix: str = f"{AUDIT_PREFIX}/",
) -> AuditRecords:
    """Every audit record whose key date is within [since, until] (inclusive), in ``record_order``.

    Each record gains ``audit_key`` (its S3 key). Objects that do not follow the key layout, cannot be
    read, are not JSON or are not valid audit records are listed in the result's ``unreadable``; versions
    hidden by a delete marker or a newer version in its ``hidden``.
    """
    if since is not None and until is not None and since > until:
        raise ValueError(f"since {since} is after until {until}")
    records: list[dict[str, Any]] = []
    unreadable: list[Unreadable] = []
    noncurrent: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    for version in _listed(s3_client, bucket, prefix, since, until):
        key = version["Key"]
        day = key_date(key)
        if day is not None and ((since is not None and day < since) or (until is not None and day > until)):
            continue
        if version.get("IsLatest"):
            latest[key] = version
            if version["marker"]:
                continue
            if day is None:
                unreadable.append(Unreadable(key, f"key does not follow {LAYOUT}"))
                continue
            found = _read(s3_client, bucket, key)
            if isinstance(found, str):
                unreadable.append(Unreadable(key, found))
            else:
                records.append({**found, "audit_key": key})
        elif not version["marker"]:
            noncurrent.append(version)
    hidden = [
        _hidden(s3_client, bucket, v["Key"], v, "delete marker" if latest.get(v["Key"], {}).get("marker") else "newer version")
        for v in noncurrent
    ]
    records.sort(key=record_order)
    return AuditRecords(records, unreadable, listed=len(records) + len(unreadable), hidden=hidden)


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
