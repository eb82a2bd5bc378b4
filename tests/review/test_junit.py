"""The JUnit report after accepted findings move to skipped: the root's totals equal the sum of its suites."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from review.scan import Suppression, _mark_junit

# The shape checkov 3.3.30 writes (junit_xml): a <testsuites> root with totals, one suite per framework.
CHECKOV_JUNIT = """<?xml version="1.0" ?>
<testsuites disabled="0" errors="0" failures="3" tests="5" time="0.0">
\t<testsuite disabled="0" errors="0" failures="2" name="terraform_json scan" skipped="0" tests="3" time="0">
\t\t<properties><property name="framework" value="['terraform_json']"/></properties>
\t\t<testcase name="[NONE][CKV_AWS_19] Ensure all data stored in the S3 bucket is securely encrypted at rest"
\t\t\tclassname="/foundation/cdk.tf.json.aws_s3_bucket.lineage_bucket_4216DEB4" file="/foundation/cdk.tf.json"/>
\t\t<testcase name="[NONE][CKV_AWS_144] Ensure that S3 bucket has cross-region replication enabled"
\t\t\tclassname="/foundation/cdk.tf.json.aws_s3_bucket.audit_bucket_85D46CD8" file="/foundation/cdk.tf.json">
\t\t\t<failure type="failure" message="Ensure that S3 bucket has cross-region replication enabled"/>
\t\t</testcase>
\t\t<testcase name="[NONE][CKV_AWS_117] Ensure that AWS Lambda function is configured inside a VPC"
\t\t\tclassname="/enforcement/cdk.tf.json.resource.approval-gate_function_6C87B94E" file="/enforcement/cdk.tf.json">
\t\t\t<failure type="failure" message="Ensure that AWS Lambda function is configured inside a VPC"/>
\t\t</testcase>
\t</testsuite>
\t<testsuite disabled="0" errors="0" failures="1" name="graph scan" skipped="0" tests="2" time="0">
\t\t<testcase name="[NONE][CKV2_AWS_62] Ensure S3 buckets should have event notifications enabled"
\t\t\tclassname="/foundation/cdk.tf.json.aws_s3_bucket.access-logs_bucket_7E528747" file="/foundation/cdk.tf.json">
\t\t\t<failure type="failure" message="Ensure S3 buckets should have event notifications enabled"/>
\t\t</testcase>
\t\t<testcase name="[NONE][CKV_AWS_21] Ensure all data stored in the S3 bucket have versioning enabled"
\t\t\tclassname="/foundation/cdk.tf.json.aws_s3_bucket.lineage_bucket_4216DEB4" file="/foundation/cdk.tf.json"/>
\t</testsuite>
</testsuites>
"""

REASON = "cross-region replication is a data-residency decision the policy does not make"
ACCEPTED = [
    Suppression("CKV_AWS_144", "foundation", "aws_s3_bucket.audit_bucket", REASON),
    Suppression("CKV_AWS_117", "enforcement", "aws_lambda_function.approval-gate_function", "no VPC: regional APIs only"),
]
COUNTERS = ("tests", "failures", "errors", "skipped")


def _marked(tmp_path: Path, suppressions: list[Suppression]) -> ET.Element:
    report = tmp_path / "results_junitxml.xml"
    report.write_text(CHECKOV_JUNIT)
    _mark_junit(report, suppressions)
    return ET.parse(report).getroot()  # noqa: S314 - a file this test wrote


def _totals(element: ET.Element) -> dict[str, int]:
    return {counter: int(element.get(counter, "-1")) for counter in COUNTERS}


def test_root_totals_equal_the_sum_of_the_suites_after_accepted_findings_move_to_skipped(tmp_path: Path) -> None:
    root = _marked(tmp_path, ACCEPTED)
    suites = list(root.iter("testsuite"))
    assert [_totals(s) for s in suites] == [
        {"tests": 3, "failures": 0, "errors": 0, "skipped": 2},
        {"tests": 2, "failures": 1, "errors": 0, "skipped": 0},
    ]
    assert _totals(root) == {c: sum(_totals(s)[c] for s in suites) for c in COUNTERS}
    assert _totals(root) == {"tests": 5, "failures": 1, "errors": 0, "skipped": 2}


def test_suite_counts_match_their_test_cases(tmp_path: Path) -> None:
    root = _marked(tmp_path, ACCEPTED)
    for suite in root.iter("testsuite"):
        cases = list(suite.iter("testcase"))
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("skipped", "-1")) == sum(c.find("skipped") is not None for c in cases)
    skipped = [c.find("skipped") for c in root.iter("testcase") if c.find("skipped") is not None]
    assert [s.get("message") for s in skipped if s is not None] == [f"accepted: {REASON}", "accepted: no VPC: regional APIs only"]


def test_without_suppressions_the_totals_stay_those_checkov_wrote(tmp_path: Path) -> None:
    root = _marked(tmp_path, [])
    assert _totals(root) == {"tests": 5, "failures": 3, "errors": 0, "skipped": 0}
