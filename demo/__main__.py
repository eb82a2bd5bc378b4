"""``make demo``: the whole blueprint on this machine, from the policy file to an auditor's evidence report.

    python -m demo [--policy policies/governance.yaml] [--output reports/demo] [--outdir cdktf.out]

1. synthesize every stack from the policy;
2. scan them (checkov with the organization's checks, and the access invariants over the synthesized IAM),
   while Terraform applies them into an embedded AWS (moto on 127.0.0.1, in this process);
3. read the deployment back and check the policy's guarantees;
4. play the governance lifecycle on it (demo/scenarios.py): model versions from the governed pipeline,
   approvals, deployments, drift, and the mistakes and attacks the policy is for, each event
   delivered to the deployed handlers by the deployed rules;
5. check every handler's answer against its audit record and what AWS looks like afterwards;
6. write the evidence report an auditor would get, from the audit bucket.

Exit status 0 only if every stack applied, every guarantee held and every scenario went as expected.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from demo.scenarios import Outcome
    from infra.embedded_aws import EmbeddedAws
    from infra.progress import Check
    from policies.model import GovernancePolicy

REPO = Path(__file__).resolve().parents[1]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n\n")[0] if __doc__ else None)
    root.add_argument("--policy", type=Path, default=None, help="the governance policy file (default: policies/governance.yaml)")
    root.add_argument("--output", type=Path, default=Path("reports/demo"), help="where the reports and logs go")
    root.add_argument("--outdir", type=Path, default=Path("cdktf.out"), help="where the stacks are synthesized")
    return root


def _scan(outdir: Path, reports: Path, policy: GovernancePolicy) -> tuple[list[Check], Any]:
    """checkov and the access invariants (run while Terraform applies)."""
    from review.scan import access_review, scan, scan_checklist

    result = scan(outdir, reports, policy=policy)
    access = access_review(outdir, reports, policy)
    checks = [*scan_checklist(result, None), access]
    return checks, json.loads((reports / "results_json.json").read_text())


def _deploy(outdir: Path, workdir: Path, aws: EmbeddedAws, policy: GovernancePolicy) -> list[Check]:
    from infra.stack_order import DEPLOY_WAVES
    from infra.terraform_cli import apply_check, deploy_local, read_back

    results = deploy_local(outdir, DEPLOY_WAVES, workdir, aws.endpoint, progress=True)
    checks = [apply_check(results, [name for wave in DEPLOY_WAVES for name in wave])]
    if not checks[0].ok:
        return checks
    return checks + read_back(aws, policy)


def _verify(outcomes: list[Outcome], records: dict[str, dict[str, Any]], names: Any) -> list[Check]:
    """Each scenario: the expected decisions were taken, each answer has its audit record, AWS is as expected."""
    from infra.progress import Check

    checks = []
    for outcome in outcomes:
        problems = []
        answers = [(f, a) for f, a in outcome.results if isinstance(a, dict)]
        problems += [f"{f}: {a}" for f, a in outcome.results if not isinstance(a, dict)]
        for function, answer in answers:
            record = records.get(str(answer.get("audit_record")))
            if record is None:
                problems.append(f"{function}: no audit record {answer.get('audit_record')}")
            elif record["decision"] != answer["decision"]:
                problems.append(f"{function}: answered {answer['decision']}, recorded {record['decision']}")
        for expected in outcome.expected:
            function = names.handler_function(expected.handler)
            found = [records.get(str(a.get("audit_record")), {}) for f, a in answers if f == function]
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


def _summary_table(outcomes: list[Outcome], records: dict[str, dict[str, Any]], org: str) -> str:
    """Scenario by scenario, every decision as recorded in the audit bucket."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Decisions, as recorded in the audit bucket", show_lines=False, expand=False)
    for column in ("#", "scenario", "handler", "decision", "rule", "action"):
        table.add_column(column, overflow="fold")
    for number, outcome in enumerate(outcomes, 1):
        first = True
        for function, answer in outcome.results:
            record = records.get(str(answer.get("audit_record"))) if isinstance(answer, dict) else None
            decision = record["decision"] if record else "FAILED"
            rules = ", ".join(sorted({v["rule"] for v in record["violations"]})) if record else str(answer)[:60]
            action = record["action"]["result"] if record else ""
            style = {"allow": "green", "deny": "red", "undecidable": "yellow"}.get(decision, "bold red")
            table.add_row(
                str(number) if first else "",
                outcome.title if first else "",
                function.removeprefix(f"{org}-"),
                f"[{style}]{decision}[/]",
                rules,
                action[:90],
            )
            first = False
    buffer = io.StringIO()
    Console(file=buffer, width=200, force_terminal=sys.stdout.isatty(), color_system="auto").print(table)
    return buffer.getvalue()


def _evidence_report(
    aws: EmbeddedAws, policy: GovernancePolicy, policy_path: Path, output: Path, scan_json: Any
) -> tuple[Path, dict[str, Any]]:
    from policies.naming import Names
    from review.evidence.build import build_report
    from review.evidence.collect import read_audit_records, scan_summary
    from review.evidence.html import render_html

    names = Names(policy, account=aws.client("sts").get_caller_identity()["Account"])
    records = read_audit_records(aws.client("s3"), names.audit_bucket, since=None, until=None)
    access = json.loads((output / "checkov" / "access-invariants.json").read_text())
    data = build_report(
        records,
        policy=policy,
        policy_source_sha256=hashlib.sha256(policy_path.read_bytes()).hexdigest(),
        scan_summary=scan_summary(scan_json),
        access_summary=access,
    )
    (output / "evidence-report.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    html = output / "evidence-report.html"
    html.write_text(render_html(data), encoding="utf-8")
    return html, data


def run(policy_path: Path, output: Path, outdir: Path) -> int:
    from demo.delivery import Bus
    from demo.embedded import embedded_aws
    from demo.lifecycle import Lifecycle
    from demo.scenarios import play
    from infra.lambda_packaging import stage_code
    from infra.progress import Check, checklist, phase
    from policies.loader import load_policy
    from policies.naming import Names

    started = time.monotonic()
    policy = load_policy(policy_path)
    output.mkdir(parents=True, exist_ok=True)
    with phase(
        f"synthesize every stack from {policy_path.relative_to(REPO) if policy_path.is_relative_to(REPO) else policy_path}"
    ):
        from infra.app import synth

        synth(policy, outdir)
    with ThreadPoolExecutor(max_workers=1) as background, embedded_aws(policy.regions.home) as aws:
        scanned: Future[tuple[list[Check], Any]] = background.submit(_scan, outdir, output / "checkov", policy)
        deployed = _deploy(outdir, output / "terraform", aws, policy)
        with phase("security scan (checkov and the access invariants, run during the apply)") as step:
            scan_checks, scan_json = scanned.result()
            step.note(f"{sum(c.ok is False for c in scan_checks)} failed")
        if not all(c.ok is not False for c in deployed):
            checklist(deployed + scan_checks, title="Deployed into the embedded AWS")
            print("demo: FAILED: the blueprint did not deploy; the scenarios were not played", file=sys.stderr)
            return 1
        names = Names(policy, account=aws.client("sts").get_caller_identity()["Account"])
        with (output / "handlers.log").open("w") as log:
            bus = Bus(
                aws,
                rule_prefix=f"{names.org}-",
                forwarding_prefix=names.forwarding_rule_prefix,
                regions=policy.regions.watched,
                policy_file=stage_code(policy) / "policy.json",
                log=log,
            )
            lifecycle = Lifecycle(aws, policy, bus, output / "pipeline-runs")
            with phase("play the governance lifecycle on the deployed handlers") as step:
                outcomes = play(lifecycle)
                step.note(f"{len(outcomes)} scenarios, {sum(len(o.results) for o in outcomes)} decisions")
        from review.evidence.collect import read_audit_records

        records = {r["audit_key"]: r for r in read_audit_records(aws.client("s3"), names.audit_bucket, since=None, until=None)}
        sys.stdout.write(_summary_table(outcomes, records, names.org))
        answered = sum(1 for o in outcomes for _, a in o.results if isinstance(a, dict))
        dead = sum(len(d.dead_lettered) for d in bus.deliveries)
        totals = Check(
            "audit trail",
            answered == len(records) and dead == 0,
            f"{answered} decisions, {len(records)} audit records in {names.audit_bucket}, {dead} dead-lettered",
            [] if answered == len(records) else [f"{answered} decisions but {len(records)} records"],
        )
        with phase("write the evidence report from the audit bucket"):
            html, report = _evidence_report(aws, policy, policy_path, output, scan_json)
    checks = deployed + scan_checks + _verify(outcomes, records, names) + [totals]
    ok = checklist(checks, title="What the demo showed")
    by_verdict = ", ".join(f"{n} {v}" for v, n in report["totals"]["by_verdict"].items())
    print(f"evidence report: {html} ({report['totals']['records']} decisions: {by_verdict})")
    print(f"handler logs: {output / 'handlers.log'}; checkov and access reports: {output / 'checkov'}")
    print(f"demo: {'every scenario went as the policy says' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    from infra.terraform_cli import TerraformError
    from infra.tooling import ToolMissing
    from policies.errors import PolicyError
    from policies.loader import policy_path
    from review.scan import ScanError

    path = (args.policy or policy_path()).resolve()
    try:
        return run(path, args.output.resolve(), args.outdir.resolve())
    except (PolicyError, TerraformError, ToolMissing, ScanError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a policy the scenarios cannot be played on (no endpoint, say)
        print(f"demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
