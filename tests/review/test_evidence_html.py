"""The HTML page: self-contained, no script, every user-controlled string escaped, charts drawn."""

from __future__ import annotations

import re
from typing import Any

from policies.model import GovernancePolicy
from review.evidence.browser_check import chart_problems, scan_html
from review.evidence.build import build_report
from review.evidence.collect import read_audit_records
from review.evidence.html import CHARTS, render_html
from tests.lambdas.world import World
from tests.review.test_evidence_scenario import DAY2, DAY3, MARKUP_NAME, POLICY_SHA256, run_scenario, synthetic_record

HOSTILE_GROUP = "</td></table><script>alert(document.domain)</script>"


def sample_records() -> list[dict[str, Any]]:
    """A few records of every rule set, one of them carrying markup in the model package name and message."""
    hostile = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{HOSTILE_GROUP}/3"
    return [
        synthetic_record(decision="allow", kind="none", result="none: compliant", violations=[]),
        synthetic_record(
            subject=hostile,
            evidence={"model_package_group": HOSTILE_GROUP, "training_data": "s3://x/<img src=x onerror=alert(1)>"},
            violations=[("governed-project", f"model package group {HOSTILE_GROUP!r} is not a governed project")],
            day=DAY2,
        ),
        synthetic_record(
            rule_set="region-restriction",
            subject="arn:aws:sagemaker:us-east-1:123456789012:training-job/credit-risk-train-x",
            evidence={"kind": "training-job", "region": "us-east-1"},
            violations=[("region-restriction", "training-job credit-risk-train-x was created in us-east-1")],
            kind="stop-job",
            result="stopped training-job credit-risk-train-x",
            day=DAY3,
        ),
    ]


def sample_report(policy: GovernancePolicy, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return build_report(sample_records() if records is None else records, policy=policy, policy_source_sha256=POLICY_SHA256)


def test_markup_in_records_is_escaped(policy: GovernancePolicy) -> None:
    page = render_html(sample_report(policy))
    assert "<script" not in page.lower()
    assert "&lt;/td&gt;&lt;/table&gt;&lt;script&gt;alert(document.domain)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert scan_html(page).problems == []  # no script, no inline handler, no external resource in the parsed page


def test_markup_from_a_real_create_call_is_escaped(world: World, lambda_context: Any, policy: GovernancePolicy) -> None:
    run_scenario(world, lambda_context)
    records = read_audit_records(world.s3, world.names.audit_bucket, since=None, until=None)
    page = render_html(build_report(records, policy=policy, policy_source_sha256=POLICY_SHA256))
    assert "<script" not in page.lower()
    assert MARKUP_NAME.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#x27;") in page
    assert scan_html(page).problems == []


def test_the_page_is_self_contained_with_accessible_charts(policy: GovernancePolicy) -> None:
    page = render_html(sample_report(policy))
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert not re.search(r"<(link|img|iframe|object|embed|source)\b[^>]*\s(src|href)=\"(?!data:)", page)
    assert "@import" not in page and "url(" not in page
    assert "@page{size:A4" in page and "prefers-color-scheme:dark" in page
    for name in CHARTS:
        svg = re.search(rf'<svg class="chart" data-chart="{name}"[^>]*>.*?</svg>', page, re.S)
        assert svg, name
        opening = svg.group(0).split(">", 1)[0]
        assert 'role="img"' in opening and 'aria-label="' in opening
        assert "<title>" in svg.group(0) and "<text" in svg.group(0)
    scan = scan_html(page)
    assert chart_problems(scan.charts, CHARTS) == []
    assert scan.charts["rules"] >= 3 and scan.charts["projects"] >= 2 and scan.charts["timeline"] >= 3


def test_tables_carry_the_history_and_the_controls(policy: GovernancePolicy) -> None:
    page = render_html(sample_report(policy))
    assert "Model versions: approval gate decisions" in page
    assert "stopped training-job credit-risk-train-x" in page
    assert "Art. 9(1)" in page and "GOVERN 1.6" in page and "A.6.2.5" in page  # governed-project's controls
    assert "EU AI Act — Regulation (EU) 2024/1689" in page
    assert "No scan report was given" in page and "No access matrix was given" in page


def test_an_empty_period_still_renders_every_chart(policy: GovernancePolicy) -> None:
    page = render_html(sample_report(policy, records=[]))
    scan = scan_html(page)
    assert set(scan.charts) == set(CHARTS)
    assert "no decisions in the period" in page
    assert "No model version was decided in the period." in page


def test_scan_and_access_sections(policy: GovernancePolicy) -> None:
    scan = {"passed": 40, "failed": 1, "accepted": 2, "failed_check_ids": ["CKV_MLGOV_7"], "accepted_check_ids": ["CKV_AWS_18"]}
    access = {"roles": ["approver"], "cells": 12, "allowed": 5, "invariant_violations": ["<b>x</b>: y"]}
    report = build_report(
        sample_records(), policy=policy, policy_source_sha256=POLICY_SHA256, scan_summary=scan, access_summary=access
    )
    page = render_html(report)
    assert "40 passed, 1 failed, 2 accepted with a reviewed reason." in page
    assert "rules: audit-object-lock" in page
    assert "1 principals, 12 checks (5 allowed), 1 invariant(s) failing." in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_the_header_says_the_policy_hash_is_of_the_file_given(policy: GovernancePolicy) -> None:
    """The hash is of the --policy file, not of the policy the records were decided under (those carry a version)."""
    page = render_html(sample_report(policy))
    assert f"<dt>SHA-256 of the policy file given (--policy)</dt><dd><code>{POLICY_SHA256}</code></dd>" in page
    assert "<dt>Other policy versions</dt><dd>3 records were decided under another policy version</dd>" in page
