"""The security scan: checkov over every synthesized stack, with the organization's own checks.

    python -m policies.scan [--outdir cdktf.out] [--reports reports/checkov]      (make scan)

checkov runs pinned (CHECKOV_VERSION) in its own tool environment (``uv tool run``), offline
(``--skip-download``, no API key), with the custom checks in ``policies/checkov/``. The few
findings the blueprint accepts are listed, each for one check on one resource with its
reason, in ``policies/checkov/suppressions.yaml``; they become a checkov baseline, so they
do not count as failures, and ``suppressions.md`` in the reports lists them for reviewers.
A suppression that matches nothing is an error: the list cannot go stale.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CHECKOV_VERSION = "3.3.30"
CUSTOM_CHECKS = REPO / "policies" / "checkov"
SUPPRESSIONS = CUSTOM_CHECKS / "suppressions.yaml"
UNIQUE_SUFFIX = re.compile(r"_[0-9A-F]{8}$")


class ScanError(RuntimeError):
    pass


@dataclass(frozen=True)
class Suppression:
    check: str
    stack: str
    resource: str
    reason: str

    def matches(self, stack: str, resource: str) -> bool:
        return stack == self.stack and UNIQUE_SUFFIX.sub("", resource) == UNIQUE_SUFFIX.sub("", self.resource)


def load_suppressions(path: Path = SUPPRESSIONS) -> list[Suppression]:
    entries = yaml.safe_load(path.read_text()) or []
    found = []
    for i, entry in enumerate(entries):
        missing = [k for k in ("check", "stack", "resource", "reason") if not str(entry.get(k, "")).strip()]
        if missing:
            raise ScanError(f"{path}: suppression #{i + 1} has no {', '.join(missing)}")
        if len(str(entry["reason"]).split()) < 8:
            raise ScanError(
                f"{path}: suppression #{i + 1} ({entry['check']} on {entry['resource']}): the reason must explain the exception"
            )
        if entry["check"] in {"*", "ALL"} or "*" in str(entry["resource"]):
            raise ScanError(f"{path}: suppression #{i + 1}: suppress one check on one resource, never a pattern")
        found.append(
            Suppression(str(entry["check"]), str(entry["stack"]), str(entry["resource"]), " ".join(str(entry["reason"]).split()))
        )
    return found


def synthesized_resources(stacks_dir: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for config_file in sorted(stacks_dir.glob("*/cdk.tf.json")):
        config = json.loads(config_file.read_text())
        found[config_file.parent.name] = {f"{t}.{n}" for t, items in config.get("resource", {}).items() for n in items}
    return found


def baseline(suppressions: list[Suppression], stacks_dir: Path) -> dict[str, Any]:
    """checkov's baseline format, resolved against the resources actually synthesized."""
    resources = synthesized_resources(stacks_dir)
    by_file: dict[str, dict[str, list[str]]] = {}
    for s in suppressions:
        matched = [r for r in resources.get(s.stack, set()) if s.matches(s.stack, r)]
        if not matched:
            raise ScanError(
                f"suppression of {s.check} on {s.stack}/{s.resource} matches no synthesized resource: remove it from {SUPPRESSIONS.name}"
            )
        for resource in matched:
            by_file.setdefault(f"/{s.stack}/cdk.tf.json", {}).setdefault(resource, []).append(s.check)
    return {
        "failed_checks": [
            {"file": file, "findings": [{"resource": r, "check_ids": sorted(ids)} for r, ids in sorted(found.items())]}
            for file, found in sorted(by_file.items())
        ]
    }


def checkov_command(stacks_dir: Path, reports: Path, baseline_file: Path) -> list[str]:
    from infra.tooling import uv_binary

    return [
        uv_binary(),
        "tool",
        "run",
        "--from",
        f"checkov=={CHECKOV_VERSION}",
        "checkov",
        "--directory",
        str(stacks_dir),
        "--framework",
        "terraform_json",
        "--skip-download",
        "--external-checks-dir",
        str(CUSTOM_CHECKS),
        "--baseline",
        str(baseline_file),
        "--output",
        "cli",
        "--output",
        "json",
        "--output",
        "sarif",
        "--output",
        "junitxml",
        "--output-file-path",
        str(reports),
        "--compact",
    ]


@dataclass(frozen=True)
class ScanResult:
    passed: int
    failed: list[dict[str, Any]]
    suppressed: list[Suppression]
    by_check: Counter[str]

    @property
    def ok(self) -> bool:
        return not self.failed


def read_results(reports: Path, suppressions: list[Suppression]) -> ScanResult:
    report_file = reports / "results_json.json"
    if not report_file.exists():
        raise ScanError(f"checkov wrote no JSON report in {reports}")
    data = json.loads(report_file.read_text())
    reports_list = data if isinstance(data, list) else [data]
    passed, failed, by_check = 0, [], Counter()
    for report in reports_list:
        results = report.get("results", {})
        passed += len(results.get("passed_checks", []))
        for check in results.get("failed_checks", []):
            failed.append(check)
            by_check[check["check_id"]] += 1
    return ScanResult(passed=passed, failed=failed, suppressed=suppressions, by_check=by_check)


def write_suppressions_report(reports: Path, suppressions: list[Suppression]) -> Path:
    lines = [
        "# Accepted checkov findings",
        "",
        f"{len(suppressions)} findings are accepted, each for one check on one resource ({SUPPRESSIONS.relative_to(REPO)}):",
        "",
        "| check | stack | resource | why |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s.check} | {s.stack} | `{UNIQUE_SUFFIX.sub('', s.resource)}` | {s.reason} |" for s in suppressions]
    path = reports / "suppressions.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def scan(outdir: Path, reports: Path, *, policy_file: Path | None = None, quiet: bool = False) -> ScanResult:
    stacks_dir = outdir.resolve() / "stacks"
    if not stacks_dir.is_dir():
        raise ScanError(f"{stacks_dir} does not exist: run `make synth` first")
    reports = reports.resolve()
    reports.mkdir(parents=True, exist_ok=True)
    suppressions = load_suppressions()
    baseline_file = reports / "baseline.json"
    baseline_file.write_text(json.dumps(baseline(suppressions, stacks_dir), indent=2))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "BC_SKIP_MAPPING": "TRUE",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "LOG_LEVEL": "WARNING",
    }
    if policy_file is not None:
        env["GOVERNANCE_POLICY"] = str(policy_file)
    run = subprocess.run(
        checkov_command(stacks_dir, reports, baseline_file), env=env, capture_output=True, text=True, check=False
    )
    (reports / "checkov-stderr.log").write_text(run.stderr)
    if run.returncode not in (0, 1):
        raise ScanError(f"checkov exited with {run.returncode}:\n{run.stderr[-3000:]}")
    if not quiet:
        sys.stdout.write(run.stdout)
    result = read_results(reports, suppressions)
    write_suppressions_report(reports, suppressions)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.scan")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--reports", type=Path, default=Path("reports/checkov"))
    args = parser.parse_args(argv)
    try:
        result = scan(args.outdir, args.reports)
    except ScanError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"checkov {CHECKOV_VERSION}: {result.passed} passed, {len(result.failed)} failed, {len(result.suppressed)} accepted (see {args.reports}/suppressions.md)"
    )
    for check_id, count in sorted(result.by_check.items()):
        print(f"  FAILED {check_id}: {count}")
    print(f"reports: {args.reports}/results_cli.txt, results_json.json, results_sarif.sarif, results_junitxml.xml")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
