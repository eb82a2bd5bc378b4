"""The evidence report as one self-contained HTML page: inline CSS and SVG, no script, no external file.

Every value from the report is HTML-escaped: audit records carry user-controlled strings (resource
names, model package groups, messages quoting them).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from review.evidence.charts import bar_chart, timeline_chart

CHARTS = ("rules", "projects", "timeline")
FRAMEWORK_ORDER = ("eu-ai-act", "nist-ai-rmf", "iso-42001")
ALLOWED_LABEL = "(no violation: allowed)"

CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--accent:#0b5cad;
--allow:#2e7d32;--deny:#c62828;--undecidable:#ef6c00;--bar:#0b5cad}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--panel:#161b22;--line:#30363d;
--accent:#58a6ff;--allow:#3fb950;--deny:#f85149;--undecidable:#d29922;--bar:#58a6ff}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1180px;padding:24px 28px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.muted{color:var(--muted)}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}th,td{border:1px solid var(--line);padding:4px 6px;
vertical-align:top;text-align:left}th{background:var(--panel)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0}dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{background:var(--panel);border:1px solid var(--line);
border-radius:6px;padding:8px 14px;min-width:120px}.card b{display:block;font-size:22px}
.verdict{font-weight:600;padding:1px 6px;border-radius:4px;color:#fff}.v-allow{background:var(--allow)}
.v-deny{background:var(--deny)}.v-undecidable{background:var(--undecidable)}
.sev{font-weight:600;text-transform:uppercase;font-size:11px}.sev-critical{color:var(--deny)}.sev-high{color:var(--undecidable)}
.warn{border-left:4px solid var(--undecidable);background:var(--panel);padding:8px 12px}
figure{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{max-width:100%;height:auto}svg .label{fill:var(--fg);font-size:12px}svg .small{font-size:10px}
svg .value{fill:var(--muted);font-size:11px}svg .bar{fill:var(--bar)}svg .c-accent{fill:var(--allow)}
svg .c-allow{fill:var(--allow)}svg .c-deny{fill:var(--deny)}svg .c-undecidable{fill:var(--undecidable)}
svg .axis{stroke:var(--muted);stroke-width:1;fill:none}
ul.plain{margin:0;padding-left:16px}.small code{font-size:10.5px}
@page{size:A4;margin:14mm 12mm}
@media print{body{max-width:none;padding:0;font-size:10.5px}h2{break-after:avoid}tr,figure,.card{break-inside:avoid}
a{color:inherit;text-decoration:none}}
"""


def _e(value: Any) -> str:
    return "—" if value is None or value == "" else escape(str(value), quote=True)


def _code(value: Any) -> str:
    return "—" if value is None or value == "" else f"<code>{_e(value)}</code>"


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _verdict(value: str) -> str:
    return f'<span class="verdict v-{_e(value)}">{_e(value)}</span>'


def _table(head: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{_e(empty)}</p>'
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _violations(items: list[dict[str, str]]) -> str:
    if not items:
        return '<span class="muted">none</span>'
    return '<ul class="plain">' + "".join(f"<li><b>{_e(v['rule'])}</b>: {_e(v['message'])}</li>" for v in items) + "</ul>"


def _artifact(name: str, artifact: dict[str, Any]) -> str:
    extra = "".join(
        f"<br>{label} {_code(artifact.get(key))}"
        for key, label in (("version_id", "version"), ("sha256", "sha256"))
        if artifact.get(key)
    )
    return f"{name}: {_code(artifact.get('uri'))}{extra}"


def _metric(value: Any) -> str:
    """A metric as recorded: null, true/false and strings as such (non-finite numbers are the strings NaN, Infinity)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return escape(str(value), quote=True)


def _object_lock(bucket: dict[str, Any] | None) -> str:
    if bucket is None:
        return "not read (records given directly)"
    lock = bucket["object_lock"]
    if lock["error"]:
        return f"<b>could not be read</b>: {_e(lock['error'])}"
    if not lock["enabled"]:
        return "<b>not enabled</b>"
    if not lock["mode"]:
        return "enabled, no default retention"
    period = ", ".join(_count(lock[u], u[:-1]) for u in ("years", "days") if lock[u])
    return f"enabled, default retention {_e(lock['mode'])} {_e(period)}"


def _evidence(decision: dict[str, Any]) -> str:
    evidence, lineage = decision["evidence"], decision["lineage"]
    metrics = ", ".join(f"{_e(k)} = {_metric(v)}" for k, v in sorted(evidence["metrics"].items())) or "—"
    parts = [f"metrics: {metrics}", _artifact("evaluation report", evidence["evaluation_report"])]
    parts.append(_artifact("training data", evidence["training_data"]))
    parts += [_artifact("model artifact", artifact) for artifact in evidence.get("model_artifacts", [])]
    for key, label in (
        ("training_data_sha256", "training data sha256"),
        ("validation_report", "validation report"),
        ("code_version", "code version"),
        ("pipeline_execution_arn", "pipeline run"),
    ):
        if lineage.get(key) and not (key == "training_data_sha256" and evidence["training_data"].get("sha256")):
            parts.append(f"{label}: {_code(lineage[key])}")
    parts += [f"{_e(k)}: {_code(v)}" for k, v in sorted(evidence["other"].items())]
    return "<br>".join(parts)


def _header(report: dict[str, Any]) -> str:
    period, policy, source = report["period"], report["policy"], report["source"]
    selected = f"{period['since'] or 'start of the trail'} to {period['until'] or 'today'}"
    meta = [
        ("Period selected", _e(selected)),
        ("Events in the report", f"{_e(period['first_event'])} to {_e(period['last_event'])}"),
        ("Generated", _e(report["generated_at"])),
        ("Audit bucket", _code((report["bucket"] or {}).get("name"))),
        ("Object Lock", _object_lock(report["bucket"])),
        ("Policy version", _code(policy["version"])),
        ("SHA-256 of the policy file given (--policy)", _code(policy["source_sha256"])),
        ("Enforcement", _e(", ".join(f"{k.replace('_', '-')}: {v}" for k, v in policy["enforcement"].items()))),
        (
            "Audit objects",
            f"{source['listed']} listed, {source['records']} records, {len(source['unreadable'])} unreadable, "
            f"{len(source['hidden'])} hidden version(s)",
        ),
    ]
    other = policy["records_under_other_versions"]
    if other:
        meta.append(("Other policy versions", f"{other} records were decided under another policy version"))
    rows = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in meta)
    return f'<header><h1>ML governance evidence report — {_e(report["organization"])}</h1><dl class="meta">{rows}</dl></header>'


def _summary(report: dict[str, Any]) -> str:
    totals = report["totals"]
    cards = [
        ("Decisions", totals["records"]),
        ("Allowed", totals["by_verdict"].get("allow", 0)),
        ("Denied", totals["by_verdict"].get("deny", 0)),
        ("Undecidable", totals["by_verdict"].get("undecidable", 0)),
        ("Violations", totals["violations"]),
        ("Model versions", len(report["model_versions"])),
        ("Remediations", len(report["remediations"])),
        ("Tamper detections", len(report["tamper_detections"])),
        ("Superseding records", totals["superseding_records"]),
    ]
    html = '<section><h2>Summary</h2><div class="cards">'
    html += "".join(f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards) + "</div>"
    unreadable = report["source"]["unreadable"]
    if unreadable:
        items = "".join(f"<li>{_code(u['key'])}: {_e(u['reason'])}</li>" for u in unreadable)
        html += f'<div class="warn"><b>{len(unreadable)} audit object(s) could not be used</b> and are not counted:<ul>{items}</ul></div>'
    if totals["superseding_records"]:
        html += (
            f'<p class="warn">{_count(totals["superseding_records"], "record")} supersede an earlier record of the same event '
            "(a retry that decided again); every record is counted, the earlier ones are marked <b>superseded</b> below.</p>"
        )
    hidden = report["source"]["hidden"]
    if hidden:
        rows = [
            [
                _code(h["key"]),
                _code(h["version_id"]),
                _e(h["hidden_by"]),
                _verdict(h["verdict"]) if h["verdict"] else _e(h["reason"]),
            ]
            for h in hidden
        ]
        html += (
            '<div class="warn"><h3>Records hidden by a delete marker</h3><p>These versions still exist in the bucket but a '
            "GET of their key no longer returns them; they are not counted above.</p>"
            f"{_table(['Key', 'Version id', 'Hidden by', 'Hidden record'], rows, '')}</div>"
        )
    return html + "</section>"


def _charts(report: dict[str, Any]) -> str:
    totals = report["totals"]
    rules = sorted(totals["decisions_by_rule"].items(), key=lambda kv: (-kv[1], kv[0]))
    allowed = totals["by_verdict"].get("allow", 0)
    rule_items = rules + ([(ALLOWED_LABEL, allowed)] if allowed else [])
    projects = sorted(totals["violations_by_project"].items(), key=lambda kv: (-kv[1], kv[0]))
    figures = [
        (
            "Decisions per rule",
            bar_chart(
                "rules",
                "Decisions per rule",
                rule_items,
                unit="decisions",
                empty="no decisions in the period",
                highlight=ALLOWED_LABEL,
            ),
        ),
        (
            "Violations per project",
            bar_chart("projects", "Violations per project", projects, unit="violations", empty="no violations in the period"),
        ),
        (
            "Decisions per day",
            timeline_chart("timeline", "Decisions per day by verdict", totals["by_day"], empty="no decisions in the period"),
        ),
    ]
    body = "".join(f"<figure><figcaption>{_e(caption)}</figcaption>{svg}</figure>" for caption, svg in figures)
    return f"<section><h2>Decisions</h2>{body}</section>"


def _model_versions(report: dict[str, Any]) -> str:
    html = "<section><h2>Model versions: approval gate decisions</h2>"
    if not report["model_versions"]:
        return html + '<p class="muted">No model version was decided in the period.</p></section>'
    index = [
        [
            _e(v["model_package_group"]),
            _e(v["version"]),
            _e(len(v["decisions"])),
            _verdict(v["latest_decision"]),
            _e(v["latest_action_result"]),
        ]
        for v in report["model_versions"]
    ]
    html += _table(["Model package group", "Version", "Decisions", "Latest decision", "Latest action result"], index, "")
    for version in report["model_versions"]:
        governed = "" if version["governed"] else ' <span class="muted">(not a governed project)</span>'
        html += f"<h3>{_e(version['model_package_group'])} version {_e(version['version'])}{governed}</h3><p>{_code(version['subject'])}</p>"
        rows = [
            [
                f'{_e(d["event_time"])}<br><span class="muted small">{_code(d["audit_key"])}</span>{_superseded(d)}',
                _verdict(d["decision"]),
                f"registered: {_code(d['registered_by'])}<br>approved: {_code(d['approved_by'])}",
                _violations(d["violations"]),
                f"{_e(d['action']['kind'])}<br>{_e(d['action']['result'])}",
                _evidence(d),
            ]
            for d in version["decisions"]
        ]
        head = ["Event time and audit record", "Decision", "Who", "Violations", "Action and result", "Evidence"]
        html += _table(head, rows, "no decisions")
    return html + "</section>"


def _superseded(entry: dict[str, Any]) -> str:
    if not entry["superseded_by"]:
        return ""
    return f'<br><b>superseded</b> <span class="muted small">by a later record of the same event: {_code(entry["superseded_by"])}</span>'


def _remediations(report: dict[str, Any]) -> str:
    rows = [
        [
            _e(r["event_time"]) + _superseded(r),
            _e(r["rule_set"]),
            f"{_e(r['kind'])} {_code(r['name'])}<br>{_e(r['region'])}",
            _e(r["project"]),
            _code(r["who"]),
            _violations(r["violations"]),
            f"<b>{_e(r['outcome'])}</b><br>{_e(r['action']['result'])}",
        ]
        for r in report["remediations"]
    ]
    head = ["Event time", "Rule set", "Resource", "Project", "Created by", "Violations", "Outcome"]
    return f"<section><h2>Remediations of SageMaker resources</h2>{_table(head, rows, 'No resource needed remediation in the period.')}</section>"


def _tamper_detections(report: dict[str, Any]) -> str:
    rows = [
        [
            _e(t["event_time"]) + _superseded(t),
            _code(t["actor"]),
            f"{_code(t['call'])}<br>{_e(t['region'])}",
            _code(t["target"]),
            f"<b>attempt denied</b> ({_e(t['denied_with'])})" if t["denied_with"] else "<b>done</b>",
            _violations(t["violations"]),
        ]
        for t in report["tamper_detections"]
    ]
    head = ["Event time", "Who", "Call", "Target", "Outcome", "Violations"]
    table = _table(head, rows, "No call changing governance was detected in the period.")
    intro = '<p class="muted">Recorded and alerted for review; nothing is undone automatically.</p>'
    return f"<section><h2>Tamper detection</h2>{intro}{table}</section>"


def _reviews(report: dict[str, Any]) -> str:
    scan, access = report["scan"], report["access"]
    html = "<section><h2>Infrastructure scan and access review</h2><h3>checkov scan</h3>"
    if scan is None:
        html += '<p class="muted">No scan report was given (--scan-json).</p>'
    else:
        html += f"<p>{scan['passed']} passed, {scan['failed']} failed, {scan['accepted']} accepted with a reviewed reason.</p>"
        html += f"<p>Failed checks: {_e(', '.join(scan['failed_check_ids']) or 'none')}; rules: {_e(', '.join(scan['failed_rules']) or 'none')}</p>"
    html += "<h3>Access matrix</h3>"
    if access is None:
        return html + '<p class="muted">No access matrix was given.</p></section>'
    allowed = "" if access["allowed"] is None else f" ({access['allowed']} allowed)"
    html += f"<p>{access['principal_count']} principals, {access['checks']} checks{allowed}, {access['invariants_failed']} invariant(s) failing.</p>"
    rows = [[_e(i["name"]), "holds" if i["holds"] else "<b>fails</b>", _e(i["detail"])] for i in access["invariants"]]
    return html + _table(["Invariant", "Result", "Detail"], rows, "no invariants") + "</section>"


def _controls(report: dict[str, Any]) -> str:
    frameworks = report["frameworks"]
    order = [f for f in FRAMEWORK_ORDER if f in frameworks] + [f for f in frameworks if f not in FRAMEWORK_ORDER]
    rows = []
    for c in report["controls"]:
        cited = [
            "<br>".join(f"<b>{_e(ref['clause'])}</b> — {_e(ref['subject'])}" for ref in c.get("frameworks", {}).get(fw, []))
            or "—"
            for fw in order
        ]
        about = f"<b>{_e(c['title'])}</b> <code>{_e(c['rule'])}</code><br>{_e(c.get('explanation'))}"
        if c.get("notes"):
            about += f'<br><span class="muted">{_e(c["notes"])}</span>'
        counts = "<br>".join(
            _count(c[key], word)
            for key, word in (("decisions", "decision"), ("violations", "violation"), ("scan_failures", "scan failure"))
        )
        rows.append([about, f'<span class="sev sev-{_e(c["severity"])}">{_e(c["severity"])}</span>', counts, *cited])
    head = ["Rule", "Severity", "In the period", *(frameworks[f]["title"] for f in order)]
    refs = "".join(f"<li>{_e(frameworks[f]['title'])}: {_e(frameworks[f]['url'])}</li>" for f in order)
    table = _table(head, rows, "No rule was evaluated in the period.")
    return f'<section><h2>Controls mapping</h2>{table}<p class="muted">Sources:</p><ul>{refs}</ul></section>'


def render_html(report: dict[str, Any]) -> str:
    """One self-contained page for ``report`` (the output of ``build_report``)."""
    title = f"ML governance evidence report — {report['organization']}"
    body = "".join(
        [
            _header(report),
            _summary(report),
            _charts(report),
            _model_versions(report),
            _remediations(report),
            _tamper_detections(report),
            _reviews(report),
            _controls(report),
        ]
    )
    footer = f'<footer class="muted"><p>Report format {_e(report["schema"])}; built from the audit records by <code>python -m review.evidence report</code>.</p></footer>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark"><link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>{body}{footer}</body></html>\n"
    )
