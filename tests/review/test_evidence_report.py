"""The evidence report from real audit records: collected from the moto audit bucket, counted, schema-valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from lambdas.shared.clearance import clearance
from policies.model import GovernancePolicy
from policies.rules.outcome import RuleSet
from review.evidence.__main__ import main
from review.evidence.build import build_report
from review.evidence.collect import read_audit_records, scan_summary
from review.evidence.html import render_html
from tests.lambdas.world import World
from tests.review.test_evidence_scenario import (
    DAY1,
    DAY2,
    DAY3,
    MARKUP_NAME,
    POLICY_SHA256,
    run_scenario,
    synthetic_record,
    validate_report,
)

REPO = Path(__file__).resolve().parents[2]


def report_of(world: World, policy: GovernancePolicy, **kwargs: Any) -> dict[str, Any]:
    records = read_audit_records(
        world.s3, world.names.audit_bucket, since=kwargs.pop("since", None), until=kwargs.pop("until", None)
    )
    report = build_report(records, policy=policy, policy_source_sha256=POLICY_SHA256, **kwargs)
    validate_report(report)
    return report


def test_the_report_counts_exactly_what_the_handlers_recorded(
    world: World, lambda_context: Any, policy: GovernancePolicy
) -> None:
    run_scenario(world, lambda_context)
    written = world.audit_records()
    report = report_of(world, policy)
    totals = report["totals"]

    assert totals["records"] == len(written) == 13
    assert totals["by_verdict"] == dict(Counter(r["decision"] for r in written)) == {"allow": 4, "deny": 8, "undecidable": 1}
    assert {k: n for k, n in totals["by_rule_set"].items() if n} == dict(Counter(r["rule_set"] for r in written))
    assert set(totals["by_rule_set"]) == {r.value for r in RuleSet}  # every enforcement point, zero included
    assert totals["by_rule"] == dict(Counter(v["rule"] for r in written for v in r["violations"]))
    assert totals["by_rule"] == {
        "classification-tag": 4,
        "evidence-provenance": 1,  # the self-approved version was registered by another project's role
        "governed-project": 1,
        "metric-thresholds": 1,
        "region-restriction": 2,
        "separation-of-duties": 1,
        "undecidable": 1,
    }
    assert totals["violations"] == 11
    assert totals["violations_by_project"] == {
        "(no governed project)": 1,
        "churn-forecast": 2,  # self-approved, and registered by another project's role
        "credit-risk": 6,
        "side-project": 2,
    }
    assert [(d["date"], d["total"]) for d in totals["by_day"]] == [(DAY1, 2), (DAY2, 4), (DAY3, 7)]
    assert totals["policy_versions"] == {policy.version: 13}

    assert report["policy"] | {"projects": None, "enforcement": None} == {
        "version": policy.version,
        "fingerprint": policy.fingerprint,
        "source_sha256": POLICY_SHA256,
        "projects": None,
        "enforcement": None,
        "records_under_other_versions": 0,
    }
    assert report["period"] == {
        "since": None,
        "until": None,
        "first_event": f"{DAY1}T09:00:00Z",
        "last_event": f"{DAY3}T14:00:00Z",
    }
    assert report["source"] == {"listed": 13, "records": 13, "unreadable": [], "hidden": []}
    assert totals["superseding_records"] == 0  # the flaky version's retry is another approval event


def test_each_model_version_has_its_history_and_evidence(world: World, lambda_context: Any, policy: GovernancePolicy) -> None:
    scenario = run_scenario(world, lambda_context)
    versions = {v["subject"]: v for v in report_of(world, policy)["model_versions"]}
    assert set(versions) == set(scenario.packages.values())

    ok = versions[scenario.packages["ok"]]
    (decision,) = ok["decisions"]
    assert (ok["model_package_group"], ok["governed"], ok["latest_decision"]) == ("credit-risk", True, "allow")
    assert decision["registered_by"].endswith("acme-credit-risk-sagemaker-execution/SageMaker")
    assert decision["approved_by"].endswith("acme-model-approver/alice")
    assert decision["evidence"]["metrics"] == {"auc": 0.91, "accuracy": 0.88}
    assert decision["evidence"]["evaluation_report"]["uri"].startswith(f"s3://{world.names.lineage_bucket}/projects/credit-risk/")
    training = decision["evidence"]["training_data"]["uri"]  # the pipeline run's validated copy
    assert training.startswith(f"s3://{world.names.lineage_bucket}/projects/credit-risk/runs/") and training.endswith(
        "/data/train.csv"
    )
    assert decision["audit_key"].startswith(f"decisions/approval-gate/2025/03/03/{decision['event_id']}/")
    (artifact,) = decision["evidence"]["model_artifacts"]  # the object version the clearance pins
    assert artifact["uri"] == clearance(scenario.packages["ok"])["artifacts"][0]["uri"]  # type: ignore[index]
    assert artifact["version_id"] == clearance(scenario.packages["ok"])["artifacts"][0]["version_id"]  # type: ignore[index]

    flaky = versions[scenario.packages["flaky"]]
    assert [d["decision"] for d in flaky["decisions"]] == ["undecidable", "allow"]
    assert flaky["decisions"][0]["action"]["result"] == "set to PendingManualApproval"
    assert versions[scenario.packages["ungoverned"]]["governed"] is False
    low = versions[scenario.packages["low"]]["decisions"][0]
    assert low["violations"] == [{"rule": "metric-thresholds", "message": "auc = 0.79 does not meet >= 0.8"}]
    assert low["action"] == {"kind": "reject-model", "mode": "enforce", "result": "set to Rejected"}


def test_remediations_and_controls(world: World, lambda_context: Any, policy: GovernancePolicy) -> None:
    run_scenario(world, lambda_context)
    report = report_of(world, policy)
    outcomes = {(r["name"], r["outcome"]) for r in report["remediations"]}
    assert outcomes == {
        ("credit-risk-scorer", "tagged"),
        ("credit-risk-train-7", "stopped"),
        (MARKUP_NAME.lower(), "resource gone"),
        ("credit-risk-train-x", "stopped"),
        ("credit-risk-live", "deleted"),
    }
    assert report["remediations_by_outcome"] == {"deleted": 1, "resource gone": 1, "stopped": 2, "tagged": 1}
    controls = {c["rule"]: c for c in report["controls"]}
    evaluated = {
        "governed-project",
        "classification-tag",
        "metric-thresholds",
        "lineage-evidence",
        "evidence-provenance",
        "separation-of-duties",
        "model-artifact",
        "promotion",  # the gate's rule for stages (many accounts): listed with the gate's controls, 0 decisions here
    }
    assert set(controls) == evaluated | {"undecidable", "region-restriction"}
    assert controls["promotion"]["decisions"] == 0
    assert all(c["mapped"] for c in controls.values())
    assert controls["classification-tag"]["violations"] == 4
    assert controls["lineage-evidence"]["violations"] == 0
    assert {r["clause"] for r in controls["metric-thresholds"]["frameworks"]["eu-ai-act"]} >= {"Art. 9(8)", "Art. 15(1)"}
    assert [c["severity"] for c in report["controls"]] == sorted(
        (c["severity"] for c in report["controls"]), key=["critical", "high", "medium", "low"].index
    )


@pytest.mark.parametrize(
    ("since", "until", "days"),
    [(DAY2, DAY2, {DAY2}), (DAY2, None, {DAY2, DAY3}), (None, DAY1, {DAY1}), ("2025-03-06", None, set())],
)
def test_the_period_is_selected_by_the_date_in_the_key(
    world: World, lambda_context: Any, policy: GovernancePolicy, since: str | None, until: str | None, days: set[str]
) -> None:
    run_scenario(world, lambda_context)
    written = [r for r in world.audit_records() if r["event"]["time"][:10] in days]
    fetched: list[str] = []
    s3 = world.s3
    s3.meta.events.register("before-parameter-build.s3.GetObject", lambda params, **_: fetched.append(params["Key"]))
    first, last = (date.fromisoformat(d) if d else None for d in (since, until))
    records = read_audit_records(s3, world.names.audit_bucket, since=first, until=last)
    assert sorted(r["audit_key"] for r in records) == sorted(r["key"] for r in written)
    assert sorted(fetched) == sorted(r["key"] for r in written), "only the period's objects are read"
    assert [r["event"]["time"] for r in records] == sorted(r["event"]["time"] for r in records)
    report = build_report(records, policy=policy, policy_source_sha256=POLICY_SHA256, since=first, until=last)
    validate_report(report)
    assert report["totals"]["records"] == len(written)
    assert report["period"]["since"] == since and report["period"]["until"] == until


def test_unreadable_objects_are_counted_and_named(world: World, lambda_context: Any, policy: GovernancePolicy) -> None:
    run_scenario(world, lambda_context)
    bucket = world.names.audit_bucket
    broken = "decisions/approval-gate/2025/03/04/broken-event/0123456789abcdef.json"
    foreign = "decisions/approval-gate/2025/03/04/other-event/fedcba9876543210.json"
    stray = "decisions/approval-gate/notes.json"
    world.s3.put_object(Bucket=bucket, Key=broken, Body=b'{"schema": "ml-governance-audit/1", "decis')
    world.s3.put_object(Bucket=bucket, Key=foreign, Body=json.dumps({"schema": "someone-else/2"}).encode())
    world.s3.put_object(Bucket=bucket, Key=stray, Body=b"{}")

    report = report_of(world, policy)
    assert report["totals"]["records"] == 13
    assert report["source"]["listed"] == 16
    reasons = {u["key"]: u["reason"] for u in report["source"]["unreadable"]}
    assert reasons == {
        broken: "not JSON",
        foreign: "schema is 'someone-else/2', not 'ml-governance-audit/1'",
        stray: "key does not follow decisions/<rule set>/<yyyy>/<mm>/<dd>/<event id>/<digest>.json",
    }
    day2 = report_of(world, policy, since=date.fromisoformat(DAY2), until=date.fromisoformat(DAY2))
    assert {u["key"] for u in day2["source"]["unreadable"]} >= {broken, foreign}
    assert day2["totals"]["records"] == 4


def test_new_evidence_fields_are_reported_and_unknown_ones_kept(policy: GovernancePolicy) -> None:
    evidence = {
        "model_package_group": "credit-risk",
        "metrics": {"auc": 0.9, "note": "not a number"},
        "metrics_report": "s3://lineage/projects/credit-risk/evaluation/7.json",
        "evaluation_report_version_id": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        "evaluation_report_sha256": "a" * 64,
        "training_data": "s3://lineage/projects/credit-risk/data/train.csv",
        "training_data_version_id": "null",
        "training_data_sha256": "b" * 64,
        "validation_report": {"uri": "s3://lineage/projects/credit-risk/validation.json", "sha256": "c" * 64},
        "code_version": "git:41c58f6",
        "pipeline_execution_arn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/credit-risk/execution/abc",
        "reviewer_ticket": "GOV-17",
    }
    report = build_report([synthetic_record(evidence=evidence)], policy=policy, policy_source_sha256=POLICY_SHA256)
    validate_report(report)
    (decision,) = report["model_versions"][0]["decisions"]
    assert decision["evidence"]["metrics"] == {"auc": 0.9, "note": "not a number"}  # as recorded
    assert decision["evidence"]["evaluation_report"] == {
        "uri": evidence["metrics_report"],
        "version_id": evidence["evaluation_report_version_id"],
        "sha256": "a" * 64,
    }
    assert decision["evidence"]["training_data"]["sha256"] == "b" * 64
    assert decision["evidence"]["other"] == {"reviewer_ticket": "GOV-17"}
    assert decision["lineage"] == {
        "training_data_sha256": "b" * 64,
        "validation_report": "s3://lineage/projects/credit-risk/validation.json",
        "validation_report_sha256": "c" * 64,
        "code_version": "git:41c58f6",
        "pipeline_execution_arn": evidence["pipeline_execution_arn"],
    }
    assert report["policy"]["records_under_other_versions"] == 1

    bare = synthetic_record(evidence={})
    bare.pop("who")
    report = build_report([bare], policy=policy, policy_source_sha256=POLICY_SHA256)
    validate_report(report)
    (decision,) = report["model_versions"][0]["decisions"]
    assert decision["approved_by"] is None
    assert decision["evidence"]["training_data"] == {"uri": None, "version_id": None, "sha256": None}


def test_scan_and_access_summaries(policy: GovernancePolicy) -> None:
    checkov = [
        {
            "check_type": "terraform",
            "results": {
                "passed_checks": [{"check_id": "CKV_AWS_18"}] * 40,
                "failed_checks": [{"check_id": "CKV_MLGOV_2"}, {"check_id": "CKV_AWS_144"}],
                "skipped_checks": [{"check_id": "CKV_AWS_117", "check_result": {"suppress_comment": "reviewed"}}],
            },
            "summary": {"passed": 40, "failed": 2, "skipped": 1},
        },
        {"check_type": "secrets", "passed": 0, "failed": 0, "skipped": 0},
    ]
    summary = scan_summary(checkov)
    assert summary == {
        "passed": 40,
        "failed": 2,
        "accepted": 1,
        "failed_check_ids": ["CKV_AWS_144", "CKV_MLGOV_2"],
        "accepted_check_ids": ["CKV_AWS_117"],
    }
    access = {
        "principals": ["approver", "pipeline"],
        "checks": 12,
        "invariants": {"no self approval": True, "audit is append-only": {"passed": False, "detail": "x"}},
    }
    report = build_report([], policy=policy, policy_source_sha256=POLICY_SHA256, scan_summary=summary, access_summary=access)
    validate_report(report)
    assert report["scan"]["failed_rules"] == ["customer-managed-keys"]
    controls = {c["rule"]: c for c in report["controls"]}
    assert controls["customer-managed-keys"]["scan_failures"] == 1
    assert {"audit-object-lock", "resource-region"} <= set(controls)
    assert report["access"] == {
        "principals": ["approver", "pipeline"],
        "principal_count": 2,
        "checks": 12,
        "allowed": None,
        "invariants": [
            {"name": "no self approval", "holds": True, "detail": ""},
            {"name": "audit is append-only", "holds": False, "detail": "x"},
        ],
        "invariants_failed": 1,
    }
    # review.access.matrix.summary(): counts and the violated invariants as "name: problem"
    matrix = {
        "roles": 9,
        "requests": 30,
        "cells": 270,
        "allowed": 41,
        "invariant_violations": ["only approvers approve: ci may approve"],
    }
    report = build_report([], policy=policy, policy_source_sha256=POLICY_SHA256, access_summary=matrix)
    validate_report(report)
    assert report["access"] == {
        "principals": [],
        "principal_count": 9,
        "checks": 270,
        "allowed": 41,
        "invariants": [{"name": "only approvers approve", "holds": False, "detail": "ci may approve"}],
        "invariants_failed": 1,
    }
    with pytest.raises(ValueError, match="not a checkov JSON report"):
        scan_summary({"nothing": 1})


# ---- the command line --------------------------------------------------------------------------------


def test_cli_writes_the_json_and_the_html(
    world: World, lambda_context: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_scenario(world, lambda_context)
    scan = tmp_path / "results_json.json"
    scan.write_text(json.dumps({"check_type": "terraform", "results": {"passed_checks": [], "failed_checks": []}}))
    out = tmp_path / "evidence"
    argv = ["report", "--bucket", world.names.audit_bucket, "--since", DAY2, "--region", "eu-west-1", "--scan-json", str(scan)]
    assert main([*argv, "--output", str(out)]) == 0
    report = json.loads((out / "evidence-report.json").read_text())
    validate_report(report)
    assert report["totals"]["records"] == 11
    assert report["scan"]["failed"] == 0
    assert (out / "evidence-report.html").read_text().startswith("<!DOCTYPE html>")
    assert "11 decisions" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bucket", "acme-ml-audit-nope"], "the audit bucket 'acme-ml-audit-nope' does not exist"),
        (["--policy", "MISSING.yaml"], "invalid governance policy MISSING.yaml"),
        (["--since", DAY3, "--until", DAY1], "--since 2025-03-05 is after --until 2025-03-03"),
        (["--scan-json", "MISSING.json"], "cannot read the checkov report MISSING.json"),
    ],
)
def test_cli_input_problems_are_one_line_and_exit_2(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = ["report", "--bucket", world.names.audit_bucket, "--output", str(tmp_path), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {message}"), err


def test_cli_bad_policy_is_one_line(world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text((REPO / "policies" / "governance.yaml").read_text().replace("home: eu-west-1", "home: mars-north-1"))
    assert main(["report", "--bucket", world.names.audit_bucket, "--policy", str(bad), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "regions.home" in err and "mars-north-1" in err, err


def test_cli_without_credentials_exits_2_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "review.evidence",
            "report",
            "--bucket",
            "acme-ml-audit",
            "--region",
            "eu-west-1",
            "--output",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: no AWS credentials found") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


# ---- records the report must not miscount or hide ----------------------------------------------------------


def one_event(event_id: str, decision: str, recorded_at: str, digest: str, **kwargs: Any) -> dict[str, Any]:
    """A record of approval event ``event_id`` (event time DAY1 12:00:00) written at ``recorded_at``."""
    record = synthetic_record(decision=decision, **kwargs)
    record["event"]["id"], record["recorded_at"] = event_id, f"{DAY1}T{recorded_at}+00:00"
    record["audit_key"] = f"decisions/approval-gate/{DAY1.replace('-', '/')}/{event_id}/{digest}.json"
    return record


def put_record(world: World, record: dict[str, Any], body: str | None = None) -> str:
    key = str(record.pop("audit_key"))
    world.s3.put_object(Bucket=world.names.audit_bucket, Key=key, Body=body or json.dumps(record, default=str))
    return key


def test_the_latest_decision_is_the_one_recorded_last(policy: GovernancePolicy) -> None:
    """The gate allowed, then the retry of the same event (clearance write failed) held the version back: the keys
    differ only by the decision digest, whose hex order says nothing about which came last."""
    allowed = one_event("ev-9", "allow", "12:00:00", "c1" + "0" * 14, violations=[], kind="none", result="none: compliant")
    held = one_event(
        "ev-9", "undecidable", "12:05:00", "3f" + "0" * 14, violations=[("undecidable", "ThrottlingException")],
        kind="revert-to-pending", result="set to PendingManualApproval",
    )  # fmt: skip
    report = build_report([held, allowed], policy=policy, policy_source_sha256=POLICY_SHA256)
    validate_report(report)
    (version,) = report["model_versions"]
    assert [d["decision"] for d in version["decisions"]] == ["allow", "undecidable"]
    assert (version["latest_decision"], version["latest_action_result"]) == ("undecidable", "set to PendingManualApproval")


def test_a_retry_of_the_same_event_is_counted_and_marked_as_superseding(policy: GovernancePolicy) -> None:
    first = one_event("ev-7", "undecidable", "12:00:00", "a" * 16, violations=[("undecidable", "ThrottlingException")])
    retry = one_event("ev-7", "allow", "12:01:00", "b" * 16, violations=[], kind="none", result="none: compliant")
    other = synthetic_record(day=DAY2)  # another event: supersedes nothing
    report = build_report([retry, first, other], policy=policy, policy_source_sha256=POLICY_SHA256)
    validate_report(report)
    assert report["totals"]["records"] == 3 and report["totals"]["superseding_records"] == 1
    (version,) = report["model_versions"]
    assert [(d["decision"], d["superseded_by"]) for d in version["decisions"]] == [
        ("undecidable", retry["audit_key"]),
        ("allow", None),
        ("deny", None),
    ]
    page = render_html(report)
    assert "1 record supersede an earlier record of the same event" in page
    assert page.count("by a later record of the same event:") == 1


def test_records_with_an_unknown_verdict_or_no_time_are_unreadable(world: World, policy: GovernancePolicy) -> None:
    keys = {}
    for version, verdict in enumerate(["deny", "DENY", None, "error"], start=1):
        record = synthetic_record(subject=f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/{version}")
        record["decision"] = verdict
        keys[verdict] = put_record(world, record)
    timeless = synthetic_record(subject="arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/9")
    timeless["event"], timeless["recorded_at"] = {"id": "e1"}, None
    keys["timeless"] = put_record(world, timeless)

    report = report_of(world, policy, since=date.fromisoformat(DAY1), until=date.fromisoformat(DAY1))
    assert report["totals"]["records"] == 1 and report["totals"]["by_verdict"]["deny"] == 1
    assert {u["key"]: u["reason"] for u in report["source"]["unreadable"]} == {
        keys["DENY"]: "decision is 'DENY', not one of allow, deny, undecidable",
        keys[None]: "decision is None, not one of allow, deny, undecidable",
        keys["error"]: "decision is 'error', not one of allow, deny, undecidable",
        keys["timeless"]: "no time: neither event.time nor recorded_at is an ISO 8601 time",
    }
    assert report["period"]["first_event"] == f"{DAY1}T12:00:00Z"


@pytest.mark.parametrize("period", [(None, None), (DAY1, DAY1)], ids=["no-period", "one-day"])
def test_oversize_records_and_keys_off_the_layout_are_named_in_any_period(
    world: World, policy: GovernancePolicy, period: tuple[str | None, str | None]
) -> None:
    put_record(world, synthetic_record())
    big = synthetic_record(subject="arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/2")
    big["violations"] = [{"rule": "metric-thresholds", "message": "x" * 1_100_000}]
    size = len(json.dumps({k: v for k, v in big.items() if k != "audit_key"}))
    big_key = put_record(world, big)
    misplaced = ["decisions/approval-gate/2025/3/03/ev-x/abc.json", "decisions/stray.json"]
    for key in misplaced:
        world.s3.put_object(Bucket=world.names.audit_bucket, Key=key, Body=b"{}")

    since, until = (date.fromisoformat(d) if d else None for d in period)
    report = report_of(world, policy, since=since, until=until)
    reasons = {u["key"]: u["reason"] for u in report["source"]["unreadable"]}
    assert reasons == {
        big_key: f"too large: {size:,} bytes, over the 1,000,000-byte limit of a record",
        **{key: "key does not follow decisions/<rule set>/<yyyy>/<mm>/<dd>/<event id>/<digest>.json" for key in misplaced},
    }
    assert report["totals"]["records"] == 1


def test_a_report_lists_what_its_period_holds_not_the_whole_trail(world: World, policy: GovernancePolicy) -> None:
    """Seven years of records make a quarter's report list seven years of versions unless it walks the date folders:
    a one-day report over 120 days of records lists that day's versions, whatever else the bucket holds."""
    first = date(2025, 11, 1)
    for offset in range(120):
        day = (first + timedelta(days=offset)).isoformat()
        for rule_set in ("approval-gate", "region-restriction"):
            put_record(world, synthetic_record(rule_set=rule_set, day=day))
    listed: list[int] = []
    world.s3.meta.events.register(
        "after-call.s3.ListObjectVersions",
        lambda parsed, **_: listed.append(len(parsed.get("Versions", [])) + len(parsed.get("DeleteMarkers", []))),
    )
    report = report_of(world, policy, since=date(2026, 1, 2), until=date(2026, 1, 2))
    assert report["totals"]["records"] == 2 and report["source"]["unreadable"] == []
    assert sum(listed) == 2  # the day's two versions; the other 238 are never listed
    assert len(listed) <= 2 * 4 + 1  # per rule set: its folder, the year, the month, the day; and decisions/


def test_a_record_hidden_by_a_delete_marker_is_a_finding(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """DeleteObject without a version id is allowed under Object Lock: the locked version stays, a GET no longer sees it."""
    put_record(world, synthetic_record(decision="allow", violations=[], kind="none", result="none: compliant"))
    denied = synthetic_record(subject="arn:aws:sagemaker:eu-west-1:123456789012:model-package/credit-risk/2")
    key = put_record(world, denied)
    world.s3.delete_object(Bucket=world.names.audit_bucket, Key=key)
    (version,) = world.s3.list_object_versions(Bucket=world.names.audit_bucket, Prefix=key)["Versions"]

    assert main(["report", "--bucket", world.names.audit_bucket, "--output", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "evidence-report.json").read_text())
    validate_report(report)
    assert report["source"]["hidden"] == [
        {"key": key, "version_id": version["VersionId"], "hidden_by": "delete marker", "verdict": "deny", "reason": None}
    ]
    assert report["totals"]["records"] == 1
    assert report["bucket"] == {
        "name": world.names.audit_bucket,
        "object_lock": {"enabled": True, "mode": "COMPLIANCE", "days": None, "years": 7, "error": None},
    }
    page = (tmp_path / "evidence-report.html").read_text()
    assert "Records hidden by a delete marker" in page and version["VersionId"] in page
    assert "<dt>Object Lock</dt><dd>enabled, default retention COMPLIANCE 7 years</dd>" in page
    assert "WARNING: 1 audit record version(s) are hidden" in capsys.readouterr().err


def test_object_lock_that_cannot_be_read_is_said(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = botocore.client.BaseClient._make_api_call

    def deny_lock(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetObjectLockConfiguration":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, operation)
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", deny_lock)
    assert main(["report", "--bucket", world.names.audit_bucket, "--output", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "evidence-report.json").read_text())
    assert report["bucket"]["object_lock"]["error"] == "cannot be read: AccessDenied"
    assert (
        "<dt>Object Lock</dt><dd><b>could not be read</b>: cannot be read: AccessDenied</dd>"
        in (tmp_path / "evidence-report.html").read_text()
    )
    assert "WARNING: Object Lock of the audit bucket cannot be read: AccessDenied" in capsys.readouterr().err


def test_non_finite_and_non_numeric_metrics_are_shown_as_recorded_in_standard_json(world: World, tmp_path: Path) -> None:
    metrics = {"auc": float("nan"), "recall": float("inf"), "precision": "0.91", "f1": None, "accuracy": 0.88}
    record = synthetic_record(
        decision="allow", violations=[], evidence={"model_package_group": "credit-risk", "metrics": metrics}
    )
    body = json.dumps({k: v for k, v in record.items() if k != "audit_key"}, sort_keys=True, default=str)  # as write_record
    put_record(world, record, body)

    assert main(["report", "--bucket", world.names.audit_bucket, "--output", str(tmp_path)]) == 0
    raw = (tmp_path / "evidence-report.json").read_text()
    report = json.loads(raw, parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))
    validate_report(report)
    assert report["model_versions"][0]["decisions"][0]["evidence"]["metrics"] == {
        "auc": "NaN",
        "recall": "Infinity",
        "precision": "0.91",
        "f1": None,
        "accuracy": 0.88,
    }
    page = (tmp_path / "evidence-report.html").read_text()
    assert "metrics: accuracy = 0.88, auc = NaN, f1 = null, precision = 0.91, recall = Infinity" in page


# ---- the command line: every bad input one line, exit 2; outputs whole or not at all ------------------------


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--region", "not a region!"], "--region 'not a region!' is not an AWS Region name"),
        (["--endpoint-url", "not-a-url"], "--endpoint-url 'not-a-url' is not usable: Invalid endpoint: not-a-url"),
    ],
)
def test_a_bad_region_or_endpoint_is_one_line(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["report", "--bucket", world.names.audit_bucket, "--output", str(tmp_path), *extra]) == 2
    assert one_error_line(capsys).startswith(f"error: {message}")


@pytest.mark.parametrize(
    ("summary", "problem"),
    [
        ({"principals": ["p"], "checks": "412 cells", "invariants": {}}, "'checks' is '412 cells': expected a count or a list"),
        ({"principals": ["p"], "checks": 3, "invariants": ["no-admin"]}, "invariant 'no-admin' has no result"),
        ({"principals": ["p"], "checks": 3, "invariants": "all hold"}, "'invariants' is 'all hold'"),
    ],
)
def test_a_malformed_access_summary_is_one_line(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], summary: dict[str, Any], problem: str
) -> None:
    access = tmp_path / "access.json"
    access.write_text(json.dumps(summary))
    argv = ["report", "--bucket", world.names.audit_bucket, "--access-json", str(access), "--output", str(tmp_path)]
    assert main(argv) == 2
    assert problem in one_error_line(capsys)


def test_an_unwritable_output_leaves_the_previous_report_untouched(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put_record(world, synthetic_record())
    out = tmp_path / "out"
    (out / "evidence-report.html").mkdir(parents=True)  # the HTML cannot be replaced
    (out / "evidence-report.json").write_text("PREVIOUS")
    assert main(["report", "--bucket", world.names.audit_bucket, "--output", str(out)]) == 2
    assert "cannot write the report to" in one_error_line(capsys)
    assert (out / "evidence-report.json").read_text() == "PREVIOUS"
    assert sorted(p.name for p in out.iterdir()) == ["evidence-report.html", "evidence-report.json"]  # no temporary file


def test_a_lone_surrogate_in_a_record_is_reported_escaped(world: World, tmp_path: Path) -> None:
    record = synthetic_record()
    record["who"] = "arn:aws:sts::1:assumed-role/approver/SURROGATE"
    put_record(world, record, json.dumps(record, default=str).replace("SURROGATE", "\\ud800"))  # json.loads accepts it
    (tmp_path / "evidence-report.html").write_text("<p>PREVIOUS QUARTER</p>")
    assert main(["report", "--bucket", world.names.audit_bucket, "--output", str(tmp_path)]) == 0
    assert "approver/\\ud800" in (tmp_path / "evidence-report.html").read_text()
    report = json.loads((tmp_path / "evidence-report.json").read_text())
    assert report["model_versions"][0]["decisions"][0]["approved_by"].endswith("approver/\ud800")


def test_unreadable_objects_and_an_empty_period_are_warned_about_with_exit_0(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "--bucket", world.names.audit_bucket, "--output", str(tmp_path)]
    assert main([*argv, "--since", DAY1]) == 0
    assert f"WARNING: no audit object was listed under decisions/ for {DAY1} to today" in capsys.readouterr().err
    world.s3.put_object(Bucket=world.names.audit_bucket, Key="decisions/stray.json", Body=b"{}")
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "WARNING: 1 audit object(s) could not be used and are not counted (source.unreadable)" in err
