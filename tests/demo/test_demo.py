"""make demo's lifecycle, played on the blueprint the session deployed into the embedded AWS (tests/conftest.py).

Every scenario must go as the policy says: the expected handler decides as expected under the expected rule,
every answer has its audit record, AWS is left as expected, nothing is dead-lettered, and the evidence report
built from the bucket counts exactly those records.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from demo.runner import Played, decisions, evidence_report, play_on, project_summary
from infra.embedded_aws import FAKE_CREDENTIALS
from policies.model import GovernancePolicy
from policies.validated import DEFAULT_POLICY_PATH
from tests.conftest import BackgroundDeployment
from tests.review.test_evidence_scenario import validate_report

pytestmark = [
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH: nothing is deployed to play on"),
]


@pytest.fixture(scope="module")
def played(
    deployment: BackgroundDeployment | None, policy: GovernancePolicy, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Played, Any]:
    assert deployment is not None
    aws = deployment.applied()
    with pytest.MonkeyPatch.context() as env:
        for key, value in {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": aws.region, "AWS_ENDPOINT_URL": aws.endpoint}.items():
            env.setenv(key, value)
        workdir = tmp_path_factory.mktemp("demo")
        with (workdir / "handlers.log").open("w") as log:
            result = play_on(aws, policy, workdir / "runs", log=log)
    return result, aws


def test_every_scenario_goes_as_the_policy_says(played: tuple[Played, Any]) -> None:
    result, _ = played
    failed = {c.name: list(c.problems) for c in result.checks() if c.ok is not True}
    assert not failed
    assert len(result.outcomes) == 18  # 3 governed projects' versions, then 15 scenarios (demo/scenarios.py)


def test_the_per_project_summary_adds_up_to_the_audit_records(played: tuple[Played, Any], policy: GovernancePolicy) -> None:
    result, _ = played
    rows = project_summary(result.records, policy)
    assert sum(r["records"] for r in rows.values()) == len(result.records)
    gate = [r for r in result.records.values() if r["rule_set"] == "approval-gate"]
    assert sum(r["versions"] for r in rows.values()) == len(gate)
    assert {p.name for p in policy.projects} <= {name for name, row in rows.items() if row["approved"] == 1}
    rejected = Counter(rule for r in gate if r["decision"] == "deny" for rule in {v["rule"] for v in r["violations"]})
    assert sum((r["rejected"] for r in rows.values()), Counter()) == rejected


def test_each_decision_is_one_audit_record_and_nothing_is_dead_lettered(played: tuple[Played, Any]) -> None:
    result, _ = played
    keys = [key for o in result.outcomes for _, key, _ in decisions(o)]
    assert sorted(keys) == sorted(result.records)  # one record per answer, none other
    assert result.dead_lettered == 0
    by_handler = Counter(r["handler"]["function"].removeprefix("acme-") for r in result.records.values())
    assert set(by_handler) == {
        "approval-gate",
        "model-deployer",
        "deployment-guard",
        "drift-monitor",
        "classification-tags",
        "region-guard",
        "tamper-watch",
    }


def test_the_evidence_report_counts_the_records_in_the_bucket(
    played: tuple[Played, Any], policy: GovernancePolicy, tmp_path: Path
) -> None:
    result, aws = played
    scan = {"results": {"passed_checks": [], "failed_checks": [], "skipped_checks": []}, "summary": {"passed": 0, "failed": 0}}
    (tmp_path / "checkov").mkdir()
    (tmp_path / "checkov" / "access-invariants.json").write_text('{"principals": [], "checks": 0, "invariants": {}}')
    html, report = evidence_report(aws, policy, DEFAULT_POLICY_PATH, tmp_path, scan)
    validate_report(report)
    assert report["totals"]["records"] == len(result.records)
    counted = {verdict: n for verdict, n in report["totals"]["by_verdict"].items() if n}
    assert counted == dict(Counter(r["decision"] for r in result.records.values()))
    assert report["policy"]["source_sha256"] == hashlib.sha256(DEFAULT_POLICY_PATH.read_bytes()).hexdigest()
    assert html.read_text().count("<svg") >= 1
    # the header an auditor reads first: the deployed bucket, locked as the policy says, nothing hidden or unreadable
    lock = report["bucket"]["object_lock"]
    assert (lock["enabled"], lock["mode"]) == (True, policy.audit.object_lock_mode.value), lock
    assert report["source"]["hidden"] == [] and report["source"]["unreadable"] == []
