"""The lifecycle on a deployed blueprint and what it showed, for ``python -m demo`` and the tests.

``play_on`` plays the scenarios (demo/scenarios.py) through the deployed rules, ``verify`` checks each
answer against its audit record and the state AWS is left in, ``summary_table`` prints every decision
as recorded, ``evidence_report`` writes what an auditor gets from the audit bucket.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from demo.delivery import Bus
    from demo.scenarios import Outcome
    from infra.embedded_aws import EmbeddedAws
    from infra.progress import Check
    from policies.model import GovernancePolicy
    from policies.naming import Names


def audit_keys(answer: dict[str, Any]) -> list[str]:
    """The audit records a handler's answer names: one decision, or one per resource it judged (the deployment guard)."""
    return [str(answer["audit_record"])] if "audit_record" in answer else [str(k) for k in answer.get("audit_records", [])]


@dataclass
class Played:
    outcomes: list[Outcome]
    records: dict[str, dict[str, Any]]
    """Every audit record in the bucket, by key."""
    bus: Bus
    names: Names

    @property
    def answered(self) -> int:
        """Decisions the handlers answered with (one audit record each)."""
        return sum(len(audit_keys(a)) for o in self.outcomes for _, a in o.results if isinstance(a, dict))

    @property
    def dead_lettered(self) -> int:
        return sum(len(d.dead_lettered) for d in self.bus.deliveries)

    def checks(self) -> list[Check]:
        from infra.progress import Check

        totals = Check(
            "audit trail",
            self.answered == len(self.records) and self.dead_lettered == 0,
            f"{self.answered} decisions, {len(self.records)} audit records in {self.names.audit_bucket}, "
            f"{self.dead_lettered} dead-lettered",
            [] if self.answered == len(self.records) else [f"{self.answered} decisions but {len(self.records)} records"],
        )
        return [*verify(self.outcomes, self.records, self.names), totals]


def audit_records(aws: EmbeddedAws, names: Names) -> dict[str, dict[str, Any]]:
    from review.evidence.collect import read_audit_records

    return {r["audit_key"]: r for r in read_audit_records(aws.client("s3"), names.audit_bucket, since=None, until=None)}


def play_on(aws: EmbeddedAws, policy: GovernancePolicy, workdir: Path, *, log: TextIO | None = None) -> Played:
    """The scenarios on the blueprint deployed into ``aws`` (the SDK of this process must point at it)."""
    from demo.delivery import Bus
    from demo.lifecycle import Lifecycle
    from demo.scenarios import play
    from infra.lambda_packaging import stage_code
    from policies.naming import Names

    names = Names(policy, account=aws.client("sts").get_caller_identity()["Account"])
    bus = Bus(
        aws,
        rule_prefix=f"{names.org}-",
        forwarding_prefix=names.forwarding_rule_prefix,
        regions=policy.regions.watched,
        policy_file=stage_code(policy) / "policy.json",
        log=log,
    )
    outcomes = play(Lifecycle(aws, policy, bus, workdir))
    return Played(outcomes, audit_records(aws, names), bus, names)


def decisions(outcome: Outcome) -> list[tuple[str, str, str]]:
    """(function, audit key, decision answered) for every decision of a scenario, in order."""
    found = []
    for function, answer in outcome.results:
        if not isinstance(answer, dict):
            continue
        answered = answer.get("decisions") or [answer.get("decision")]
        found += [(function, key, str(decision)) for key, decision in zip(audit_keys(answer), answered, strict=False)]
    return found


def verify(outcomes: list[Outcome], records: dict[str, dict[str, Any]], names: Any) -> list[Check]:
    """Each scenario: the expected decisions were taken, each answer has its audit record, AWS is as expected."""
    from infra.progress import Check

    checks = []
    for outcome in outcomes:
        problems = [f"{f}: {a}" for f, a in outcome.results if not isinstance(a, dict)]
        taken = decisions(outcome)
        for function, key, answered in taken:
            record = records.get(key)
            if record is None:
                problems.append(f"{function}: no audit record {key}")
            elif record["decision"] != answered:
                problems.append(f"{function}: answered {answered}, recorded {record['decision']}")
        for expected in outcome.expected:
            function = names.handler_function(expected.handler)
            found = [records.get(key, {}) for f, key, _ in taken if f == function]
            if not any(
                r.get("decision") == expected.decision
                and (expected.rule is None or expected.rule in {v["rule"] for v in r.get("violations", [])})
                for r in found
            ):
                got = ", ".join(f"{r.get('decision')} {[v['rule'] for v in r.get('violations', [])]}" for r in found) or "nothing"
                problems.append(
                    f"expected {expected.handler} to {expected.decision} ({expected.rule or 'no violation'}), got {got}"
                )
        problems += [f"not so: {what}" for what, holds in outcome.state if not holds]
        what = "; ".join(what for what, _ in outcome.state)
        checks.append(Check(outcome.title, not problems, what, problems))
    return checks


def summary_table(outcomes: list[Outcome], records: dict[str, dict[str, Any]], org: str) -> str:
    """Scenario by scenario, every decision as recorded in the audit bucket."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Decisions, as recorded in the audit bucket", show_lines=False, expand=False)
    for column in ("#", "scenario", "handler", "decision", "rule", "action"):
        table.add_column(column, overflow="fold")
    for number, outcome in enumerate(outcomes, 1):
        rows = [(f, records.get(key)) for f, key, _ in decisions(outcome)]
        rows += [(f, None) for f, a in outcome.results if not isinstance(a, dict)]
        for index, (function, record) in enumerate(rows):
            decision = record["decision"] if record else "FAILED"
            rules = ", ".join(sorted({v["rule"] for v in record["violations"]})) if record else ""
            style = {"allow": "green", "deny": "red", "undecidable": "yellow"}.get(decision, "bold red")
            table.add_row(
                "" if index else str(number),
                "" if index else outcome.title,
                function.removeprefix(f"{org}-"),
                f"[{style}]{decision}[/]",
                rules,
                record["action"]["result"][:90] if record else "",
            )
    buffer = io.StringIO()
    Console(file=buffer, width=200, force_terminal=sys.stdout.isatty(), color_system="auto").print(table)
    return buffer.getvalue()


def project_summary(records: dict[str, dict[str, Any]], policy: GovernancePolicy) -> dict[str, dict[str, Any]]:
    """Per project, from the audit records: versions the gate judged, approved and rejected (with the rules), resources
    remediated (by outcome), and records written."""
    from collections import Counter

    from review.evidence.extract import UNATTRIBUTED, project_of, remediation_outcome

    rows: dict[str, dict[str, Any]] = {
        p.name: {"versions": 0, "approved": 0, "rejected": Counter(), "remediated": Counter(), "records": 0}
        for p in policy.projects
    }
    for record in records.values():
        project = project_of(record, policy)
        row = rows.setdefault(
            project or UNATTRIBUTED, {"versions": 0, "approved": 0, "rejected": Counter(), "remediated": Counter(), "records": 0}
        )
        row["records"] += 1
        if record["rule_set"] == "approval-gate":
            row["versions"] += 1
            if record["decision"] == "allow":
                row["approved"] += 1
            else:
                row["rejected"].update({v["rule"] for v in record["violations"]})
        elif record["decision"] != "allow":
            outcome = remediation_outcome(record["action"])
            if outcome not in {"none", "other", "reported", "failed"}:
                row["remediated"][outcome] += 1
    return rows


def project_table(records: dict[str, dict[str, Any]], policy: GovernancePolicy, scan: str) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Per project, from the audit records (checkov: {scan})")
    for column in ("project", "versions judged", "approved", "rejected, by rule", "remediated", "audit records"):
        table.add_column(column, overflow="fold")
    for project, row in project_summary(records, policy).items():
        table.add_row(
            project,
            str(row["versions"]),
            str(row["approved"]),
            ", ".join(f"{rule} {n}" for rule, n in sorted(row["rejected"].items())) or "-",
            ", ".join(f"{outcome} {n}" for outcome, n in sorted(row["remediated"].items())) or "-",
            str(row["records"]),
        )
    buffer = io.StringIO()
    Console(file=buffer, width=200, force_terminal=sys.stdout.isatty(), color_system="auto").print(table)
    return buffer.getvalue()


def evidence_report(
    aws: EmbeddedAws, policy: GovernancePolicy, policy_path: Path, output: Path, scan_json: Any
) -> tuple[Path, dict[str, Any]]:
    from policies.naming import Names
    from review.evidence.build import build_report
    from review.evidence.collect import audit_bucket, read_audit_records, scan_summary
    from review.evidence.html import render_html

    names = Names(policy, account=aws.client("sts").get_caller_identity()["Account"])
    s3 = aws.client("s3")
    records = read_audit_records(s3, names.audit_bucket, since=None, until=None)
    access = json.loads((output / "checkov" / "access-invariants.json").read_text())
    data = build_report(
        records,
        policy=policy,
        policy_source_sha256=hashlib.sha256(policy_path.read_bytes()).hexdigest(),
        scan_summary=scan_summary(scan_json),
        access_summary=access,
        bucket=audit_bucket(s3, names.audit_bucket),
    )
    (output / "evidence-report.json").write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    html = output / "evidence-report.html"
    html.write_text(render_html(data), encoding="utf-8")
    return html, data
