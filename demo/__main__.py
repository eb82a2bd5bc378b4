"""``make demo``: the whole blueprint on this machine, from the policy file to an auditor's evidence report.

    python -m demo [--policy policies/governance.yaml] [--output reports/demo] [--outdir cdktf.out]

1. synthesize every stack from the policy;
2. scan them (checkov with the organization's checks, and the access invariants over the synthesized IAM),
   while Terraform applies them into an embedded AWS (moto on 127.0.0.1, in its own process, as deploy-local);
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
import io
import json
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.embedded_aws import EmbeddedAws
    from infra.progress import Check
    from policies.model import GovernancePolicy

REPO = Path(__file__).resolve().parents[1]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n\n")[0] if __doc__ else None)
    root.add_argument("--policy", type=Path, default=None, help="the governance policy file (default: policies/governance.yaml)")
    root.add_argument("--output", type=Path, default=Path("reports/demo"), help="where the reports and logs go")
    root.add_argument("--outdir", type=Path, default=Path("cdktf.out"), help="where the stacks are synthesized")
    root.add_argument(
        "--keep", action="store_true", help="keep the embedded AWS running afterwards, to look around (Ctrl-C stops it)"
    )
    return root


def _scan(outdir: Path, reports: Path, policy: GovernancePolicy) -> tuple[list[Check], Any]:
    """checkov and the access invariants (run while Terraform applies)."""
    from review.scan import SUPPRESSIONS, access_review, scan, scan_checklist

    result = scan(outdir, reports, policy=policy)
    access = access_review(outdir, reports, policy)
    checks = [*scan_checklist(result, SUPPRESSIONS), access]
    return checks, json.loads((reports / "results_json.json").read_text())


def _deploy(outdir: Path, workdir: Path, aws: EmbeddedAws, policy: GovernancePolicy) -> list[Check]:
    from infra.stack_order import DEPLOY_WAVES
    from infra.terraform_cli import apply_check, deploy_local, read_back

    results = deploy_local(outdir, DEPLOY_WAVES, workdir, aws.endpoint, progress=True)
    checks = [apply_check(results, [name for wave in DEPLOY_WAVES for name in wave])]
    if not checks[0].ok:
        return checks
    return checks + read_back(aws, policy)


def run(policy_path: Path, output: Path, outdir: Path, *, keep: bool = False) -> int:
    from demo.embedded import embedded_aws
    from demo.runner import evidence_report, play_on, project_table, summary_table
    from infra.progress import checklist, phase
    from policies.loader import load_policy
    from review.evidence.build import report_warnings

    started = time.monotonic()
    policy = load_policy(policy_path)
    output.mkdir(parents=True, exist_ok=True)
    with phase(
        f"synthesize every stack from {policy_path.relative_to(REPO) if policy_path.is_relative_to(REPO) else policy_path}"
    ):
        from infra.app import synth

        synth(policy, outdir)
    with (
        ThreadPoolExecutor(max_workers=1) as background,
        embedded_aws(policy.regions.home, log_path=output / "embedded-aws.log") as aws,
    ):
        scanned: Future[tuple[list[Check], Any]] = background.submit(_scan, outdir, output / "checkov", policy)
        deployed = _deploy(outdir, output / "terraform", aws, policy)
        with phase("security scan (checkov and the access invariants, run during the apply)") as step:
            scan_checks, scan_json = scanned.result()
            step.note(f"{sum(c.ok is False for c in scan_checks)} failed")
        if not all(c.ok is not False for c in deployed):
            checklist(deployed + scan_checks, title="Deployed into the embedded AWS")
            print("demo: FAILED: the blueprint did not deploy; the scenarios were not played", file=sys.stderr)
            return 1
        with (output / "handlers.log").open("w") as log, phase("play the governance lifecycle on the deployed handlers") as step:
            played = play_on(aws, policy, output / "pipeline-runs", log=log)
            step.note(f"{len(played.outcomes)} scenarios, {played.answered} decisions")
        sys.stdout.write(summary_table(played.outcomes, played.records, played.names.org))
        failed_scan = sum(c.ok is False for c in scan_checks)
        sys.stdout.write(project_table(played.records, policy, f"{failed_scan} failed" if failed_scan else "passed"))
        with phase("write the evidence report from the audit bucket"):
            html, report = evidence_report(aws, policy, policy_path, output, scan_json)
        ok = checklist(deployed + scan_checks + played.checks(), title="What the demo showed")
        by_verdict = ", ".join(f"{n} {v}" for v, n in report["totals"]["by_verdict"].items() if n)
        print(f"evidence report: {html} ({report['totals']['records']} decisions: {by_verdict})")
        for warning in report_warnings(report):  # what the auditor's command would warn about (review.evidence)
            print(f"WARNING: {warning}")
        print(f"handler logs: {output / 'handlers.log'}; checkov and access reports: {output / 'checkov'}")
        print(f"demo: {'every scenario went as the policy says' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
        if keep:
            _keep_running(aws)
    return 0 if ok else 1


def _keep_running(aws: EmbeddedAws) -> None:
    print(
        f"the embedded AWS stays up at {aws.endpoint} (account 123456789012, Region {aws.region}); for example:\n"
        f"  AWS_ENDPOINT_URL={aws.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
        f"aws sagemaker list-model-packages --model-package-group-name credit-risk --region {aws.region}\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    from demo.scenarios import CannotPlay
    from infra.terraform_cli import TerraformError
    from infra.tooling import ToolMissing
    from policies.errors import PolicyError
    from policies.validated import policy_path
    from review.scan import ScanError

    path = (args.policy or policy_path()).resolve()
    try:
        return run(path, args.output.resolve(), args.outdir.resolve(), keep=args.keep)
    except (PolicyError, TerraformError, ToolMissing, ScanError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    except CannotPlay as exc:  # a policy the scenarios cannot be played on (no endpoint, say)
        print(f"demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
