"""Assemble the evidence report: the period's audit records, counted, grouped per model version and
per remediated resource, with each rule's controls from the controls pack.

The result is plain JSON data; ``review/evidence/schema.json`` is its published schema and
``review/evidence/html.py`` renders it. Every number in it is computed from the records given.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from lambdas.shared.audit import AUDIT_PREFIX
from policies.model import GovernancePolicy
from policies.rules.controls import SEVERITY_ORDER, ControlPack, control_pack
from policies.rules.outcome import RuleSet, Verdict
from review.evidence.collect import Unreadable, event_time, record_order, record_problem
from review.evidence.extract import (
    action_of,
    arn_kind_and_region,
    event_fields,
    evidence_of,
    iso,
    json_safe,
    lineage_of,
    model_evidence,
    model_package,
    project_of,
    remediation_outcome,
    resource_name,
    text,
    violations_of,
)

REPORT_SCHEMA = "ml-governance-evidence/1"
VERDICTS = [v.value for v in Verdict]
RESOURCE_RULE_SETS = (
    RuleSet.DATA_CLASSIFICATION.value,
    RuleSet.REGION_RESTRICTION.value,
    RuleSet.DEPLOYMENT.value,
    RuleSet.DATA_DRIFT.value,
)


def _superseded(ordered: Sequence[dict[str, Any]]) -> dict[int, str | None]:
    """Per record (by id): the key of the next record of the same event (rule set, event id, subject), if any.
    A retry that decides differently writes a record of its own (lambdas/shared/audit.py): both stay true."""
    later: dict[int, str | None] = {}
    last: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in ordered:  # in record_order: event time, recorded_at, key
        event_id = text(_nested(record, "event", "id"))
        if event_id is None:
            continue
        same = (str(record.get("rule_set")), event_id, str(record.get("what")))
        if same in last:
            later[id(last[same])] = text(record.get("audit_key")) or "(a record without a key)"
        last[same] = record
    return later


def _nested(record: dict[str, Any], *path: str) -> Any:
    found: Any = record
    for name in path:
        found = found.get(name) if isinstance(found, dict) else None
    return found


def _totals(records: Sequence[dict[str, Any]], policy: GovernancePolicy, superseded: dict[int, str | None]) -> dict[str, Any]:
    by_verdict = Counter({v: 0 for v in VERDICTS})
    by_rule_set = Counter({r.value: 0 for r in RuleSet})
    violations_by_rule: Counter[str] = Counter()
    decisions_by_rule: Counter[str] = Counter()
    by_project: Counter[str] = Counter()
    by_day: dict[str, Counter[str]] = defaultdict(Counter)
    versions: Counter[str] = Counter()
    for record in records:
        verdict = str(record.get("decision"))
        by_verdict[verdict] += 1
        by_rule_set[str(record.get("rule_set"))] += 1
        violations = violations_of(record)
        violations_by_rule.update(v["rule"] for v in violations)
        decisions_by_rule.update({v["rule"] for v in violations})
        if violations:
            by_project[project_of(record, policy)] += len(violations)
        by_day[event_time(record).date().isoformat()][verdict] += 1
        versions[str(record.get("policy_version"))] += 1
    days = [
        {"date": day, **{v: counts[v] for v in VERDICTS}, "total": sum(counts.values())} for day, counts in sorted(by_day.items())
    ]
    return {
        "records": len(records),
        "superseding_records": len(superseded),  # each supersedes the one record before it
        "by_verdict": dict(by_verdict),
        "by_rule_set": dict(sorted(by_rule_set.items())),
        "by_rule": dict(sorted(violations_by_rule.items())),
        "decisions_by_rule": dict(sorted(decisions_by_rule.items())),
        "violations": sum(violations_by_rule.values()),
        "violations_by_project": dict(sorted(by_project.items())),
        "by_day": days,
        "policy_versions": dict(sorted(versions.items())),
    }


def _model_versions(
    records: Sequence[dict[str, Any]], policy: GovernancePolicy, superseded: dict[int, str | None]
) -> list[dict[str, Any]]:
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    packages: dict[str, tuple[str, int | None]] = {}
    for record in records:
        if record.get("rule_set") != RuleSet.APPROVAL_GATE.value:
            continue
        evidence = evidence_of(record)
        packages.setdefault(str(record.get("what")), model_package(record))
        history[str(record.get("what"))].append(
            {
                **event_fields(record, superseded.get(id(record))),
                "registered_by": text(evidence.get("created_by")),
                "approved_by": text(evidence.get("approved_by")) or text(record.get("who")),
                "decision": str(record.get("decision")),
                "violations": violations_of(record),
                "action": action_of(record),
                "evidence": model_evidence(evidence),
                "lineage": lineage_of(evidence),
            }
        )
    versions = []
    for subject, decisions in history.items():
        group, number = packages[subject]
        # decisions come in record_order; the latest is the one recorded last (a retry of the same event included)
        latest = max(decisions, key=lambda d: (d["recorded_at"] or d["event_time"], d["event_time"], d["audit_key"] or ""))
        versions.append(
            {
                "subject": subject,
                "model_package_group": group,
                "version": number,
                "governed": policy.project(group) is not None,
                "decisions": decisions,
                "latest_decision": latest["decision"],
                "latest_action_result": latest["action"]["result"],
            }
        )
    return sorted(versions, key=lambda v: (v["model_package_group"], v["version"] or 0, v["subject"]))


def _remediations(
    records: Sequence[dict[str, Any]], policy: GovernancePolicy, superseded: dict[int, str | None]
) -> list[dict[str, Any]]:
    found = []
    for record in records:
        if record.get("rule_set") not in RESOURCE_RULE_SETS or record.get("decision") == Verdict.ALLOW.value:
            continue
        evidence, action = evidence_of(record), action_of(record)
        remediation = _nested(record, "action", "remediation")
        subject = str(record.get("what") or "")
        arn_kind, arn_region = arn_kind_and_region(subject)
        found.append(
            {
                **event_fields(record, superseded.get(id(record))),
                "rule_set": str(record.get("rule_set")),
                "subject": subject,
                "name": resource_name(subject),
                "kind": text(evidence.get("kind")) or arn_kind,
                "region": text(evidence.get("region")) or arn_region,
                "project": project_of(record, policy),
                "who": text(record.get("who")),
                "decision": str(record.get("decision")),
                "violations": violations_of(record),
                "action": action,
                "remediation": {str(k): str(v) for k, v in remediation.items()} if isinstance(remediation, dict) else {},
                "outcome": remediation_outcome(action),
            }
        )
    return found


def _tamper_detections(records: Sequence[dict[str, Any]], superseded: dict[int, str | None]) -> list[dict[str, Any]]:
    """Every tamper-detection record that is not an allow: the call, who made it, and whether it was done or denied."""
    found = []
    for record in records:
        if record.get("rule_set") != RuleSet.TAMPER_DETECTION.value or record.get("decision") == Verdict.ALLOW.value:
            continue
        evidence = evidence_of(record)
        found.append(
            {
                **event_fields(record, superseded.get(id(record))),
                "target": str(record.get("what") or ""),
                "call": "/".join(p for p in (text(evidence.get("event_source")), text(evidence.get("event_name"))) if p) or None,
                "region": text(evidence.get("region")),
                "actor": text(evidence.get("actor")) or text(record.get("who")),
                "denied_with": text(evidence.get("error_code")),
                "decision": str(record.get("decision")),
                "violations": violations_of(record),
                "action": action_of(record),
            }
        )
    return found


def _controls(
    pack: ControlPack, totals: dict[str, Any], rule_sets: set[str], scan: dict[str, Any] | None
) -> list[dict[str, Any]]:
    scan_failed: Counter[str] = Counter()
    for check in (scan or {}).get("failed_check_ids", []):
        mapped = pack.for_check(check)
        if mapped is not None:
            scan_failed[mapped.id] += 1
    evaluated = {rule.id for rule in pack.rules.values() if rule_sets & set(rule.enforced_by)}
    if scan is not None:
        evaluated |= {rule.id for rule in pack.rules.values() if rule.checkov}
    appearing = evaluated | set(totals["by_rule"]) | set(scan_failed)
    entries = []
    for rule_id in appearing:
        counts = {
            "decisions": totals["decisions_by_rule"].get(rule_id, 0),
            "violations": totals["by_rule"].get(rule_id, 0),
            "scan_failures": scan_failed.get(rule_id, 0),
        }
        entry = pack.rules.get(rule_id)
        if entry is None:
            entries.append({"rule": rule_id, "mapped": False, "title": rule_id, "severity": "unmapped", **counts})
            continue
        entries.append(
            {
                "rule": rule_id,
                "mapped": True,
                "title": entry.title,
                "severity": entry.severity,
                "explanation": entry.explanation,
                "notes": entry.notes,
                "enforced_by": list(entry.enforced_by),
                "checkov": list(entry.checkov),
                **counts,
                "frameworks": {fw: [ref.model_dump() for ref in refs] for fw, refs in entry.controls.items() if refs},
            }
        )
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return sorted(entries, key=lambda e: (rank.get(e["severity"], len(rank)), -e["violations"], e["rule"]))


def _count_of(value: Any, field: str) -> int:
    if isinstance(value, list | dict):
        return len(value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return int(value or 0)
    raise ValueError(f"{field!r} is {value!r}: expected a count or a list")


def normalize_access(summary: Any) -> dict[str, Any] | None:
    """principals / checks / invariant results of an access matrix, in one shape, from ``review.access.matrix``'s
    summary() or to_json() (roles, cells, allowed, invariant_violations) or a plain principals/checks/invariants dict.
    ValueError names what is malformed."""
    if summary is None:
        return None
    if not isinstance(summary, dict):
        raise ValueError("expected an object with principals, checks and invariants")
    principals = summary.get("principals", summary.get("roles", []))
    names = [str(p) for p in principals] if isinstance(principals, list) else []
    raw = summary.get("invariants") or []
    if not isinstance(raw, dict | list):
        raise ValueError(f"'invariants' is {raw!r}: expected an object (name -> result) or a list of objects")
    items: list[tuple[Any, Any]] = list(raw.items()) if isinstance(raw, dict) else [(None, i) for i in raw]
    invariants = []
    for name, value in items:
        if name is None and not isinstance(value, dict):
            raise ValueError(f"invariant {value!r} has no result: expected an object with a name and holds")
        body = value if isinstance(value, dict) else {"holds": value}
        holds = next((body[k] for k in ("holds", "passed", "ok", "result") if k in body), None)
        invariants.append(
            {
                "name": str(name if name is not None else body.get("name", "unnamed")),
                "holds": holds is True or str(holds).lower() in {"pass", "passed", "ok", "true", "holds"},
                "detail": str(body.get("detail") or body.get("message") or ""),
            }
        )
    violations = summary.get("invariant_violations") or []
    if not isinstance(violations, list):
        raise ValueError(f"'invariant_violations' is {violations!r}: expected a list")
    for violation in violations:
        name, _, detail = str(violation).partition(": ")
        invariants.append({"name": name, "holds": False, "detail": detail})
    allowed = summary.get("allowed")
    return {
        "principals": names,
        "principal_count": len(names) if names else _count_of(principals, "principals"),
        "checks": _count_of(summary.get("checks", summary.get("cells", 0)), "checks"),
        "allowed": _count_of(allowed, "allowed") if allowed is not None else None,
        "invariants": invariants,
        "invariants_failed": sum(not i["holds"] for i in invariants),
    }


def build_report(
    records: Sequence[dict[str, Any]],
    *,
    policy: GovernancePolicy,
    policy_source_sha256: str,
    scan_summary: dict[str, Any] | None = None,
    access_summary: dict[str, Any] | None = None,
    generated_at: datetime | None = None,
    since: date | None = None,
    until: date | None = None,
    pack: ControlPack | None = None,
    bucket: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report data for ``records`` (as ``read_audit_records`` returns them, or any list of audit records).

    ``bucket``: the audit bucket's name and Object Lock configuration (``collect.object_lock``), when known.
    Records that are not valid audit records are listed as unreadable, never counted. ValueError when the access
    summary is malformed."""
    pack = pack or control_pack()
    unreadable = [u.as_dict() for u in getattr(records, "unreadable", [])]
    valid = []
    for record in records:
        problem = record_problem(record)
        if problem is None:
            valid.append(record)
        else:
            key = record.get("audit_key") if isinstance(record, dict) else None
            unreadable.append(Unreadable(str(key or "(no key)"), problem).as_dict())
    ordered = sorted(valid, key=record_order)
    superseded = _superseded(ordered)
    totals = _totals(ordered, policy, superseded)
    scan = None
    if scan_summary is not None:
        failed_rules = {r.id for c in scan_summary.get("failed_check_ids", []) if (r := pack.for_check(c)) is not None}
        scan = {**scan_summary, "failed_rules": sorted(failed_rules)}
    remediations = _remediations(ordered, policy, superseded)
    report = {
        "schema": REPORT_SCHEMA,
        "generated_at": iso(generated_at or datetime.now(UTC)),
        "organization": policy.organization.name,
        "bucket": bucket,
        "policy": {
            "version": policy.version,
            "fingerprint": policy.fingerprint,
            "source_sha256": policy_source_sha256,
            "projects": [
                {"name": p.name, "owner_team": p.owner_team, "classification": p.classification} for p in policy.projects
            ],
            "enforcement": policy.enforcement.model_dump(mode="json"),
            "records_under_other_versions": sum(n for v, n in totals["policy_versions"].items() if v != policy.version),
        },
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "first_event": iso(event_time(ordered[0])) if ordered else None,
            "last_event": iso(max(event_time(r) for r in ordered)) if ordered else None,
        },
        "source": {
            "listed": len(ordered) + len(unreadable),
            "records": len(ordered),
            "unreadable": unreadable,
            "hidden": [h.as_dict() for h in getattr(records, "hidden", [])],
        },
        "totals": totals,
        "model_versions": _model_versions(ordered, policy, superseded),
        "remediations": remediations,
        "remediations_by_outcome": dict(sorted(Counter(r["outcome"] for r in remediations).items())),
        "tamper_detections": _tamper_detections(ordered, superseded),
        "scan": scan,
        "access": normalize_access(access_summary),
        "controls": _controls(pack, totals, {str(r.get("rule_set")) for r in ordered}, scan),
        "frameworks": {fid: fw.model_dump() for fid, fw in pack.frameworks.items()},
    }
    return dict(json_safe(report))


def report_warnings(data: dict[str, Any]) -> list[str]:
    """What an auditor must not miss: objects not counted, versions hidden, or nothing at all in the period."""
    source, found = data["source"], []
    if source["listed"] == 0:
        period = f"{data['period']['since'] or 'the start'} to {data['period']['until'] or 'today'}"
        found.append(f"no audit object was listed under {AUDIT_PREFIX}/ for {period}: check the bucket and the period")
    if source["unreadable"]:
        found.append(f"{len(source['unreadable'])} audit object(s) could not be used and are not counted (source.unreadable)")
    if source["hidden"]:
        found.append(
            f"{len(source['hidden'])} audit record version(s) are hidden by a delete marker or a newer version (source.hidden)"
        )
    if data["bucket"] and data["bucket"]["object_lock"]["enabled"] is not True:
        lock = data["bucket"]["object_lock"]
        found.append(f"Object Lock of the audit bucket {lock['error'] or 'is not enabled'}")
    return found
