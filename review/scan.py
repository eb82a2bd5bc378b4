"""The security scan: checkov over every synthesized stack, with the organization's own checks.

    python -m review.scan [--outdir cdktf.out] [--reports reports/checkov]      (make scan)

checkov runs pinned (CHECKOV_VERSION) in its own tool environment (``uv tool run``), offline
(``--skip-download``, no API key), with the custom checks in ``review/checkov/``. The few
findings the blueprint accepts are listed, each for one check on one resource with its
reason, in ``review/checkov_suppressions.yaml``. checkov cannot read inline suppressions in
Terraform JSON, so the scan marks those findings itself in every report: skipped with the
reason in JSON and JUnit, an accepted SARIF suppression with its justification, a separate
"accepted" list in the CLI report and in ``suppressions.md``. A suppression that matches no
failed finding is an error: the list cannot go stale.

``make scan`` then evaluates the synthesized IAM (review/access) and fails if an access invariant
is broken: ``access-invariants.json`` and ``access_invariants_junitxml.xml`` (one test case per
invariant) beside checkov's reports.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from policies.errors import PolicyError
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.naming import construct_id
from review.checkov._adapter import POLICY_JSON_ENV

if TYPE_CHECKING:
    from infra.progress import Check

REPO = Path(__file__).resolve().parents[1]
CHECKOV_VERSION = "3.3.30"
CUSTOM_CHECKS = REPO / "review" / "checkov"
SUPPRESSIONS = REPO / "review" / "checkov_suppressions.yaml"
UNTOUCHED_JSON = "checkov_results_json.json"  # checkov's JSON report as it wrote it


class ScanError(RuntimeError):
    pass


@dataclass(frozen=True)
class Suppression:
    check: str
    stack: str
    resource: str
    reason: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.check, self.stack, construct_id(self.resource)


def load_suppressions(path: Path = SUPPRESSIONS) -> list[Suppression]:
    """One Suppression per check and named resource; an entry may name several resources (``resources:``)
    that share one reason, never a pattern."""
    entries = yaml.safe_load(path.read_text()) or []
    found = []
    for i, entry in enumerate(entries):
        resources = entry.get("resources") or ([entry["resource"]] if str(entry.get("resource", "")).strip() else [])
        missing = [k for k in ("check", "stack", "reason") if not str(entry.get(k, "")).strip()]
        missing += [] if resources else ["resource"]
        if missing:
            raise ScanError(f"{path}: suppression #{i + 1} has no {', '.join(missing)}")
        if len(str(entry["reason"]).split()) < 8:
            raise ScanError(
                f"{path}: suppression #{i + 1} ({entry['check']} on {', '.join(map(str, resources))}): "
                "the reason must explain the exception"
            )
        if entry["check"] in {"*", "ALL"} or any("*" in str(resource) for resource in resources):
            raise ScanError(f"{path}: suppression #{i + 1}: suppress one check on named resources, never a pattern")
        reason = " ".join(str(entry["reason"]).split())
        found += [Suppression(str(entry["check"]), str(entry["stack"]), str(resource), reason) for resource in resources]
    return found


def finding_key(check_id: str, file_path: str, resource: str) -> tuple[str, str, str]:
    """(check, stack, construct id) of a finding, however checkov names the resource."""
    return check_id, Path(file_path).parent.name, construct_id(resource)


def suppression_for(suppressions: list[Suppression], key: tuple[str, str, str]) -> Suppression | None:
    return next((s for s in suppressions if s.key == key), None)


def checkov_command(stacks_dir: Path, reports: Path) -> list[str]:
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
class Accepted:
    finding: dict[str, Any]
    suppression: Suppression


@dataclass(frozen=True)
class ScanResult:
    passed: int
    failed: list[dict[str, Any]]
    accepted: list[Accepted]
    custom_checks: Counter[str]

    @property
    def ok(self) -> bool:
        return not self.failed


def apply_suppressions(reports: Path, suppressions: list[Suppression]) -> ScanResult:
    """Move accepted findings out of the failures in the JSON, SARIF and JUnit reports."""
    json_report = reports / "results_json.json"
    if not json_report.exists():
        raise ScanError(f"checkov wrote no JSON report in {reports}")
    data = json.loads(json_report.read_text())
    results = data["results"]
    unparsed = results.get("parsing_errors") or []
    if unparsed or data["summary"].get("parsing_errors"):  # checkov skips such a file and reports nothing wrong in it
        listed = ", ".join(f"{Path(p).parent.name}/{Path(p).name}" for p in unparsed) or "a file"
        raise ScanError(f"checkov could not parse {listed}, so none of its resources were scanned (see checkov-stderr.log)")
    failed: list[dict[str, Any]] = []
    accepted: list[Accepted] = []
    for finding in results.get("failed_checks", []):
        suppression = suppression_for(suppressions, finding_key(finding["check_id"], finding["file_path"], finding["resource"]))
        if suppression is None:
            failed.append(finding)
        else:
            accepted.append(Accepted(finding, suppression))
            results.setdefault("skipped_checks", []).append(
                {**finding, "check_result": {"result": "SKIPPED", "suppress_comment": suppression.reason}}
            )
    used = {id(a.suppression) for a in accepted}
    stale = [s for s in suppressions if id(s) not in used]
    if stale:
        listed = "; ".join(f"{s.check} on {s.stack}/{s.resource}" for s in stale)
        raise ScanError(f"suppressions that match no failed finding (remove them from {SUPPRESSIONS.name}): {listed}")
    results["failed_checks"] = failed
    data["summary"].update(failed=len(failed), skipped=len(results.get("skipped_checks", [])))
    json_report.write_text(json.dumps(data, indent=2))
    by_location = {
        (a.finding["check_id"], Path(a.finding["file_path"]).parent.name, a.finding["file_line_range"][0]): a for a in accepted
    }
    _mark_sarif(reports / "results_sarif.sarif", by_location)
    _mark_junit(reports / "results_junitxml.xml", suppressions)
    custom = Counter(c["check_id"] for c in results.get("passed_checks", []) if c["check_id"].startswith("CKV_MLGOV_"))
    return ScanResult(passed=len(results.get("passed_checks", [])), failed=failed, accepted=accepted, custom_checks=custom)


def _mark_sarif(path: Path, accepted: dict[tuple[str, str, int], Accepted]) -> None:
    sarif = json.loads(path.read_text())
    for run in sarif.get("runs", []):
        for result in run.get("results", []):
            location = result["locations"][0]["physicalLocation"]
            key = (result["ruleId"], Path(location["artifactLocation"]["uri"]).parent.name, location["region"]["startLine"])
            if key in accepted:
                result["suppressions"] = [
                    {"kind": "external", "status": "accepted", "justification": accepted[key].suppression.reason}
                ]
    path.write_text(json.dumps(sarif, indent=2))


def _mark_junit(path: Path, suppressions: list[Suppression]) -> None:
    import xml.etree.ElementTree as ET

    tree = ET.parse(path)  # noqa: S314 - checkov's own report, written a moment ago
    for suite in tree.getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            failure = case.find("failure")
            match = re.match(r"^\[[^]]*\]\[([^]]+)\]", case.get("name", ""))
            where = re.match(r"^(?P<file>.*/cdk\.tf\.json)\.(?P<resource>.+)$", case.get("classname", ""))
            if failure is None or not match or not where:
                continue
            suppression = suppression_for(suppressions, finding_key(match.group(1), where["file"], where["resource"]))
            if suppression is not None:
                case.remove(failure)
                ET.SubElement(case, "skipped", message=f"accepted: {suppression.reason}")
        cases = list(suite.iter("testcase"))
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
        suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
        suite.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
    root = tree.getroot()
    if root.tag == "testsuites":  # the root's totals are the sums of its suites, as JUnit readers expect
        suites = list(root.iter("testsuite"))
        for counter in ("tests", "failures", "errors", "skipped"):
            root.set(counter, str(sum(int(suite.get(counter, "0")) for suite in suites)))
    tree.write(path, encoding="unicode", xml_declaration=True)


def render_cli(result: ScanResult) -> str:
    lines = [
        f"checkov {CHECKOV_VERSION}: {result.passed} passed, {len(result.failed)} failed, {len(result.accepted)} accepted",
        "",
    ]
    for finding in result.failed:
        lines.append(f"FAILED  {finding['check_id']}  {finding['check_name']}")
        lines.append(f"        {finding['file_path']} {finding['resource']}  {'; '.join(finding.get('details') or [])}")
    if result.accepted:
        lines.append("Accepted (review/checkov_suppressions.yaml):")
    for item in result.accepted:
        lines.append(f"  {item.finding['check_id']}  {item.finding['file_path']} {item.finding['resource']}")
        lines.append(f"        {item.suppression.reason}")
    lines += [
        "",
        "Organization checks (passed resources): " + ", ".join(f"{k} {v}" for k, v in sorted(result.custom_checks.items())),
    ]
    return "\n".join(lines) + "\n"


def write_suppressions_report(reports: Path, suppressions: list[Suppression]) -> Path:
    lines = [
        "# Accepted checkov findings",
        "",
        f"{len(suppressions)} findings are accepted, each for one check on one resource:",
        "",
        "| check | stack | resource | why |",
        "|---|---|---|---|",
    ]
    lines += [f"| {s.check} | {s.stack} | `{s.resource}` | {s.reason} |" for s in suppressions]
    path = reports / "suppressions.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def scan(
    outdir: Path,
    reports: Path,
    *,
    policy: GovernancePolicy,
    suppressions_file: Path | None = SUPPRESSIONS,
    progress: bool = False,
) -> ScanResult:
    """checkov over ``outdir``'s stacks; the organization checks read ``policy`` (the one synth used), never a YAML file."""
    from infra.progress import phase

    stacks_dir = outdir.resolve() / "stacks"
    if not stacks_dir.is_dir():
        raise ScanError(f"{stacks_dir} does not exist: run `make synth` first")
    reports = reports.resolve()
    reports.mkdir(parents=True, exist_ok=True)
    suppressions = load_suppressions(suppressions_file) if suppressions_file is not None else []
    env = {**os.environ, "PYTHONPATH": str(REPO), "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
    policy_json = reports / "policy.json"
    policy_json.write_text(policy.model_dump_json())
    env[POLICY_JSON_ENV] = str(policy_json)
    stacks = sorted(p.name for p in stacks_dir.iterdir() if (p / "cdk.tf.json").is_file())
    with phase(f"checkov {CHECKOV_VERSION} over {len(stacks)} stacks ({', '.join(stacks)})", enabled=progress) as step:
        run = subprocess.run(checkov_command(stacks_dir, reports), env=env, capture_output=True, text=True, check=False)
        (reports / "checkov-stderr.log").write_text(run.stderr)
        if run.returncode not in (0, 1):
            step.fail()
            raise ScanError(f"checkov exited with {run.returncode}:\n{run.stderr[-3000:]}")
        if (reports / "results_json.json").is_file():  # what checkov said, before any finding is marked accepted
            shutil.copyfile(reports / "results_json.json", reports / UNTOUCHED_JSON)
    with phase("mark accepted findings in the JSON, SARIF and JUnit reports", enabled=progress) as step:
        result = apply_suppressions(reports, suppressions)
        (reports / "results_cli.txt").write_text(render_cli(result))
        write_suppressions_report(reports, suppressions)
        step.note(f"{len(result.failed)} failed, {len(result.accepted)} accepted")
    return result


def scan_checklist(result: ScanResult, suppressions_file: Path | None) -> list[Check]:
    """What the scan checked, for the closing checklist."""
    from infra.progress import Check

    def failed(custom: bool) -> list[str]:
        return [
            f"{f['check_id']} {Path(f['file_path']).parent.name}/{f['resource']}: {f['check_name']}"
            for f in result.failed
            if f["check_id"].startswith("CKV_MLGOV_") == custom
        ]

    builtin_passed = result.passed - sum(result.custom_checks.values())
    custom = ", ".join(f"{k} {v}" for k, v in sorted(result.custom_checks.items()))
    listed = suppressions_file.name if suppressions_file is not None else "no suppression file"
    return [
        Check(
            "built-in checks", not failed(custom=False), f"checkov's AWS policies, {builtin_passed} passed", failed(custom=False)
        ),
        Check(
            "organization checks", not failed(custom=True), f"review/checkov/ (passed: {custom or 'none'})", failed(custom=True)
        ),
        Check("accepted findings", True, f"{len(result.accepted)}, each one check on one resource with its reason ({listed})"),
    ]


def access_review(outdir: Path, reports: Path, policy: GovernancePolicy, *, progress: bool = False) -> Check:
    """Evaluate the synthesized IAM against the access invariants; write the JSON and JUnit results."""
    import xml.etree.ElementTree as ET

    from infra.progress import Check, phase
    from review.access.invariants import INVARIANTS
    from review.access.matrix import build_matrix
    from review.access.terraform import UnresolvedReference, read_account

    with phase("evaluate the synthesized IAM against the access invariants", enabled=progress) as step:
        try:
            matrix = build_matrix(policy, read_account(outdir))
        except (UnresolvedReference, ValueError, FileNotFoundError) as exc:  # IAM the evaluator cannot follow is a failure
            step.fail()
            return Check("access invariants", False, "the synthesized IAM could not be evaluated", [str(exc)])
        found = {inv.name: inv.check(matrix) for inv in INVARIANTS}
        broken = sum(bool(problems) for problems in found.values())
        step.note(f"{len(matrix.roles)} roles x {len(matrix.requests)} requests, {broken} invariant(s) broken")
        if broken:
            step.fail()
    reports.mkdir(parents=True, exist_ok=True)
    results = [{"invariant": inv.name, "promise": inv.promise, "problems": found[inv.name]} for inv in INVARIANTS]
    summary = {  # the shape the evidence report reads (python -m review.evidence report --access-json)
        "principals": list(matrix.roles),
        "checks": len(matrix.cells),
        "invariants": {
            r["invariant"]: {
                "holds": not r["problems"],
                "promise": r["promise"],
                "problems": r["problems"],
                "detail": "; ".join(r["problems"]),
            }
            for r in results
        },
    }
    (reports / "access-invariants.json").write_text(json.dumps(summary, indent=2))
    suite = ET.Element("testsuite", name="access invariants", tests=str(len(results)), failures=str(broken), errors="0")
    for result in results:
        case = ET.SubElement(suite, "testcase", classname="review.access.invariants", name=str(result["invariant"]))
        if result["problems"]:
            failure = ET.SubElement(case, "failure", message=str(result["promise"]))
            failure.text = "\n".join(result["problems"])
    ET.ElementTree(suite).write(reports / "access_invariants_junitxml.xml", encoding="unicode", xml_declaration=True)
    problems = [f"{name}: {problem}" for name, listed in found.items() for problem in listed]
    what = f"{len(INVARIANTS)} invariants over {len(matrix.roles)} roles (docs/access-matrix.md)"
    return Check("access invariants", not problems, what, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.scan")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--reports", type=Path, default=Path("reports/checkov"))
    parser.add_argument("--suppressions", type=Path, default=SUPPRESSIONS, help="the reviewed list of accepted findings")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # results in order with the progress on stderr, in CI logs too
        sys.stdout.reconfigure(line_buffering=True)
    from infra.progress import checklist
    from infra.tooling import ToolMissing

    try:
        policy = load_policy()
        result = scan(args.outdir, args.reports, policy=policy, suppressions_file=args.suppressions, progress=True)
        access = access_review(args.outdir, args.reports, policy, progress=True)
    except (ScanError, PolicyError, ToolMissing) as exc:
        print(exc, file=sys.stderr)
        return 2
    sys.stdout.write(render_cli(result))
    print(
        f"reports: {args.reports}/results_cli.txt, results_json.json, results_sarif.sarif, results_junitxml.xml, "
        "suppressions.md, access-invariants.json, access_invariants_junitxml.xml"
    )
    checklist([*scan_checklist(result, args.suppressions), access], title="Security scan")
    return 0 if result.ok and access.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
