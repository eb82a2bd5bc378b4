"""The security scan as reviewers run it: pinned checkov, built-in AWS policies plus the organization's checks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.validated import DEFAULT_POLICY_PATH
from review.scan import (
    SUPPRESSIONS,
    UNTOUCHED_JSON,
    ScanError,
    ScanResult,
    apply_suppressions,
    load_suppressions,
    main,
    scan,
)
from tests.conftest import REPO, Synthesized, started_early

CUSTOM_CHECKS = {f"CKV_MLGOV_{n}" for n in range(1, 8)}


@started_early
def blueprint_scan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Any]:
    """The blueprint's stacks scanned with the shipped policy: the result and the reports."""
    synthesized: Synthesized = request.getfixturevalue("synthesized")
    policy: GovernancePolicy = request.getfixturevalue("policy")
    reports = tmp_path_factory.mktemp("checkov-reports")
    return lambda: (scan(synthesized.outdir, reports, policy=policy), reports)


def test_every_stack_is_clean_with_only_the_listed_exceptions(blueprint_scan: tuple[ScanResult, Path]) -> None:
    result, _ = blueprint_scan
    assert result.failed == [], [(f["check_id"], f["resource"]) for f in result.failed]
    suppressions = load_suppressions()
    assert sorted((a.suppression.check, a.suppression.resource) for a in result.accepted) == sorted(
        (s.check, s.resource) for s in suppressions
    )
    assert set(result.custom_checks) == CUSTOM_CHECKS, "every organization check ran and passed somewhere"


def test_reports_mark_accepted_findings_with_their_reason(blueprint_scan: tuple[ScanResult, Path]) -> None:
    result, reports = blueprint_scan
    reasons = {s.reason for s in load_suppressions()}

    sarif = json.loads((reports / "results_sarif.sarif").read_text())
    sarif_results = [r for run in sarif["runs"] for r in run["results"]]
    assert len(sarif_results) == len(result.accepted)
    for item in sarif_results:
        (suppression,) = item["suppressions"]
        assert suppression["status"] == "accepted" and suppression["justification"] in reasons

    junit = ET.parse(reports / "results_junitxml.xml").getroot()  # noqa: S314
    cases = list(junit.iter("testcase"))
    assert not [c.get("name") for c in cases if c.find("failure") is not None]
    skipped = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert len(skipped) == len(result.accepted)
    assert all(s is not None and s.get("message", "").removeprefix("accepted: ") in reasons for s in skipped)

    data = json.loads((reports / "results_json.json").read_text())
    runs = data if isinstance(data, list) else [data]
    assert sum(run["summary"]["failed"] for run in runs) == 0
    assert "Accepted (review/checkov_suppressions.yaml)" in (reports / "results_cli.txt").read_text()
    assert f"{len(result.accepted)} findings are accepted" in (reports / "suppressions.md").read_text()


@started_early
def bad_stack_scan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Any]:
    """The non-compliant stack scanned by the command as a reviewer runs it, with no accepted finding: its exit code
    and reports."""
    bad_stack: Path = request.getfixturevalue("bad_stack_outdir")
    reports = tmp_path_factory.mktemp("bad-stack-reports")
    none = reports / "no-suppressions.yaml"
    none.write_text("[]\n")
    command = [sys.executable, "-m", "review.scan", "--outdir", str(bad_stack), "--reports", str(reports)]
    command += ["--suppressions", str(none)]
    return lambda: (subprocess.run(command, cwd=REPO, capture_output=True, check=False).returncode, reports)


@started_early
def lenient_policy_scan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Any]:
    """The non-compliant stack under the shipped policy that also allows ap-east-1 and takes a one-year GOVERNANCE
    lock."""
    bad_stack: Path = request.getfixturevalue("bad_stack_outdir")
    document = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    document["regions"]["allowed"] = [*document["regions"]["allowed"], "ap-east-1"]
    document["regions"]["watched"] = [*document["regions"]["watched"], "ap-east-1"]
    document["audit"].update(retention_years=1, object_lock_mode="GOVERNANCE")
    policy_file = tmp_path_factory.mktemp("lenient") / "lenient.yaml"
    policy_file.write_text(yaml.safe_dump(document))
    lenient = load_policy(policy_file)
    return lambda: scan(bad_stack, policy_file.parent / "reports", policy=lenient, suppressions_file=None)


def test_each_organization_check_fails_on_the_non_compliant_stack(bad_stack_scan: tuple[int, Path]) -> None:
    _, reports = bad_stack_scan
    findings = json.loads((reports / "results_json.json").read_text())["results"]["failed_checks"]
    failed: dict[str, set[str]] = defaultdict(set)
    details: dict[str, list[str]] = defaultdict(list)
    for finding in findings:
        if finding["check_id"] in CUSTOM_CHECKS:
            failed[finding["check_id"]].add(finding["resource"].split(".", 1)[1])
            details[finding["check_id"]] += finding.get("details") or []
    assert dict(failed) == {
        "CKV_MLGOV_1": {"group-without-classification", "group-below-project-level"},
        "CKV_MLGOV_2": {"bucket-sse-s3-encryption", "bucket-aws-managed-key-encryption"},
        "CKV_MLGOV_3": {"role-without-boundary", "role-with-another-boundary"},
        "CKV_MLGOV_4": {"policy-with-star-action", "policy-passing-any-role"},
        "CKV_MLGOV_5": {"aws"},
        "CKV_MLGOV_6": {"bucket-in-another-region"},
        "CKV_MLGOV_7": {"audit-bucket-without-lock", "lock-too-short"},
    }
    assert any("ap-east-1" in d for d in details["CKV_MLGOV_5"])


def test_custom_checks_read_the_policy_they_are_given(lenient_policy_scan: ScanResult) -> None:
    """The same stack under a policy that allows ap-east-1 and a one-year GOVERNANCE lock."""
    failed = {(f["check_id"], f["resource"].split(".", 1)[1]) for f in lenient_policy_scan.failed}
    assert not {c for c in failed if c[0] in {"CKV_MLGOV_5", "CKV_MLGOV_6"}}
    assert {c for c in failed if c[0] == "CKV_MLGOV_7"} == {("CKV_MLGOV_7", "audit-bucket-without-lock")}


def test_a_stale_suppression_fails_the_scan(blueprint_scan: tuple[ScanResult, Path], tmp_path: Path) -> None:
    """The blueprint's findings as checkov reported them, judged against the list plus an entry that matches none."""
    _, reports = blueprint_scan
    shutil.copyfile(reports / UNTOUCHED_JSON, tmp_path / "results_json.json")
    stale = tmp_path / "suppressions.yaml"
    stale.write_text(
        SUPPRESSIONS.read_text()
        + "- check: CKV_AWS_21\n  stack: foundation\n  resource: aws_s3_bucket.lineage_bucket\n"
        + "  reason: versioning was once off on this bucket and the exception was never removed\n"
    )
    with pytest.raises(ScanError, match=r"match no failed finding[^;]*: CKV_AWS_21 on foundation/aws_s3_bucket.lineage_bucket$"):
        apply_suppressions(tmp_path, load_suppressions(stale))


def test_a_stack_checkov_cannot_parse_fails_the_scan(tmp_path: Path) -> None:
    """checkov 3.3.30's report for a stack whose JSON its parser refuses (a list of ``removed`` blocks): no finding,
    no resource, one parsing error. Nothing in that stack was checked, so the scan must not pass."""
    report = {
        "check_type": "terraform_json",
        "results": {
            "passed_checks": [],
            "failed_checks": [],
            "skipped_checks": [],
            "parsing_errors": ["/tmp/stacks/enforcement/cdk.tf.json"],
        },
        "summary": {
            "passed": 0,
            "failed": 0,
            "skipped": 0,
            "parsing_errors": 1,
            "resource_count": 0,
            "checkov_version": "3.3.30",
        },
    }
    (tmp_path / "results_json.json").write_text(json.dumps(report))
    with pytest.raises(ScanError, match=r"could not parse enforcement/cdk\.tf\.json, so none of its resources were scanned"):
        apply_suppressions(tmp_path, [])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- check: CKV_AWS_18\n  stack: foundation\n  resource: aws_s3_bucket.x\n  reason: not needed\n", "must explain"),
        ("- check: CKV_AWS_18\n  stack: foundation\n  resource: aws_s3_bucket.x\n", "has no reason"),
        (
            "- check: CKV_AWS_18\n  stack: foundation\n  resource: '*'\n  reason: "
            + "every bucket in the stack is exempt from access logging for now\n",
            "never a pattern",
        ),
        (
            "- check: CKV_AWS_117\n  stack: enforcement\n  resources: [aws_lambda_function.a, 'aws_lambda_function.*']\n"
            "  reason: no function of the enforcement stack needs a VPC for now\n",
            "never a pattern",
        ),
    ],
)
def test_suppressions_must_be_narrow_and_justified(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "suppressions.yaml"
    path.write_text(entry)
    with pytest.raises(ScanError, match=message):
        load_suppressions(path)


def test_the_command_exits_non_zero_on_a_failed_check(bad_stack_scan: tuple[int, Path], tmp_path: Path) -> None:
    exit_code, reports = bad_stack_scan
    assert exit_code == 1
    assert "FAILED  CKV_MLGOV_3" in (reports / "results_cli.txt").read_text()
    assert main(["--outdir", str(tmp_path / "missing"), "--reports", str(tmp_path / "r")]) == 2
