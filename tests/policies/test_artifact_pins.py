"""The model bytes that serve are the bytes that were approved: the pure rules that pin a version's model artifacts at
approval (policies.rules.artifacts) and refuse a deployment or a served version whose artifact changed since."""

from __future__ import annotations

from dataclasses import replace

import pytest

from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.naming import Names
from policies.rules.approval import decide_approval
from policies.rules.artifacts import ArtifactRead, ModelData, changed_artifacts, model_data, pin_problems, pins
from policies.rules.deployment import ServedVersion, decide_deployment_request
from tests.conftest import policy_variant
from tests.multi_account.conftest import EXAMPLE
from tests.policies.test_decisions import COMPLIANT, LINEAGE, PACKAGE

STORE = (LINEAGE, "projects/credit-risk/models")
MODEL = f"s3://{LINEAGE}/projects/credit-risk/models/credit-risk-train-r1/output/model.tar.gz"


def test_the_model_data_of_each_container_is_read_from_the_inference_specification() -> None:
    specification = {
        "Containers": [
            {"Image": "img", "ModelDataUrl": MODEL},
            {"Image": "img", "ModelDataSource": {"S3DataSource": {"S3Uri": MODEL, "S3DataType": "S3Object"}}},
            {"Image": "img", "ModelDataSource": {"S3DataSource": {"S3Uri": f"{MODEL}-dir/", "S3DataType": "S3Prefix"}}},
            {"Image": "img-with-the-model-inside"},
        ]
    }
    assert model_data(specification) == [
        ModelData(0, MODEL),
        ModelData(1, MODEL),
        ModelData(2, f"{MODEL}-dir/", pinnable=False),
    ]
    assert model_data(None) == []


@pytest.mark.parametrize(
    ("data", "read", "problem"),
    [
        (ModelData(0, MODEL), ArtifactRead(MODEL, True, "v1", "e"), None),
        (ModelData(0, MODEL), ArtifactRead(MODEL, False), "does not exist"),
        (ModelData(0, MODEL), ArtifactRead(MODEL, True, None), "has no object version"),
        (ModelData(0, MODEL), ArtifactRead(MODEL, True, "null"), "has no object version"),
        (ModelData(0, MODEL.replace("/models/", "/runs/")), None, "outside the project's model store"),
        (ModelData(0, "s3://elsewhere/projects/credit-risk/models/m.tar.gz"), None, "outside the project's model store"),
        (ModelData(0, f"s3://{LINEAGE}/projects/credit-risk/models-other/m"), None, "outside the project's model store"),
        (ModelData(0, f"{MODEL}-dir/", pinnable=False), None, "is an S3 prefix"),
    ],
)
def test_the_gate_pins_only_one_versioned_object_in_the_projects_model_store(
    data: ModelData, read: ArtifactRead | None, problem: str | None
) -> None:
    found = pin_problems([data], {read.uri: read} if read else {}, STORE)
    assert [problem in p for p in found] == ([True] if problem else [])


def test_the_approval_gate_refuses_an_artifact_it_cannot_pin_and_names_the_rule(policy: GovernancePolicy) -> None:
    data = (ModelData(0, MODEL),)
    pinned = replace(COMPLIANT, model_data=data, artifact_reads=(ArtifactRead(MODEL, True, "v1", "etag"),))
    assert decide_approval(policy, pinned, lineage_bucket=LINEAGE).allowed
    unversioned = replace(pinned, artifact_reads=(ArtifactRead(MODEL, True, None),))
    decision = decide_approval(policy, unversioned, lineage_bucket=LINEAGE)
    assert [v.rule for v in decision.violations] == ["model-artifact"]
    assert decision.evidence["model_artifacts"] == [
        {"uri": MODEL, "found": True, "version_id": None, "etag": None, "written_at": None}
    ]


def test_with_many_accounts_the_store_is_the_hubs_artifact_bucket() -> None:
    stages = [{"name": "dev", "account": "210987654321", "ou": "ou-a1b2-nonprodwl"}]
    many = policy_variant(
        load_policy(EXAMPLE), accounts={"hub": "123456789012", "stages": stages, "projects": None, "promotion": None}
    )
    hub = Names(many, account="123456789012")
    assert Names(many, account="210987654321").model_store("credit-risk") == (hub.artifacts_bucket, "projects/credit-risk/models")
    lineage_copy = replace(COMPLIANT, model_data=(ModelData(0, MODEL),), artifact_reads=(ArtifactRead(MODEL, True, "v1"),))
    (violation,) = decide_approval(many, lineage_copy, lineage_bucket=LINEAGE).violations
    assert violation.rule == "model-artifact" and f"s3://{hub.artifacts_bucket}/projects/credit-risk/models/" in violation.message


def test_the_clearance_pins_each_artifacts_object_version() -> None:
    data = [ModelData(0, MODEL), ModelData(1, "s3://b/m")]
    reads = {MODEL: ArtifactRead(MODEL, True, "v1", "etag1")}
    assert pins(data, reads) == [{"uri": MODEL, "version_id": "v1", "etag": "etag1"}]


@pytest.mark.parametrize(
    ("now", "problem"),
    [
        (ArtifactRead(MODEL, True, "v1"), None),
        (ArtifactRead(MODEL, True, "v2"), "was replaced after approval: object version v2, approved v1"),
        (ArtifactRead(MODEL, False), "is gone or unreadable"),
        (None, "is gone or unreadable"),
    ],
)
def test_a_pinned_artifact_that_changed_is_named(now: ArtifactRead | None, problem: str | None) -> None:
    found = changed_artifacts([{"uri": MODEL, "version_id": "v1", "etag": "e"}], {MODEL: now} if now else {})
    assert [problem in p for p in found] == ([True] if problem else [])


def test_a_clearance_without_pins_vouches_for_no_bytes() -> None:
    assert changed_artifacts(None, {}) == [
        "its clearance pins no model artifact (kept before artifacts were pinned): approve the version again"
    ]
    assert changed_artifacts([], {}) == []  # pinned, and nothing to pin: the model is in the image


def test_the_deployer_refuses_a_cleared_version_whose_artifact_changed(policy: GovernancePolicy) -> None:
    version = ServedVersion("AllTraffic", "", PACKAGE, status="Approved", cleared=True, project="credit-risk")
    assert decide_deployment_request(policy, version, "credit-risk-scoring").allowed
    changed = replace(version, artifact_changes=(f"its model artifact {MODEL} was replaced after approval",))
    decision = decide_deployment_request(policy, changed, "credit-risk-scoring")
    assert not decision.allowed and decision.violations[0].rule == "model-artifact"
    assert decision.violations[0].message.endswith(f"not as approved: its model artifact {MODEL} was replaced after approval")
    assert decision.evidence["artifact_changes"] == list(changed.artifact_changes)


def test_model_data_the_version_names_now_but_the_approval_did_not_pin_is_named() -> None:
    """UpdateModelPackage can give a version new inference specifications after approval: the pins are per URI, so a
    URI the version names now that the clearance does not pin is a change too."""
    pinned = [{"uri": MODEL, "version_id": "v1", "etag": "e"}]
    now = {MODEL: ArtifactRead(MODEL, True, "v1")}
    assert changed_artifacts(pinned, now, [ModelData(0, MODEL)]) == []
    other = MODEL.replace("r1", "r2")
    assert changed_artifacts(pinned, now, [ModelData(0, other)]) == [
        f"container 0 names model data {other}, which the approval did not pin"
    ]


def test_a_version_that_is_not_cleared_breaks_the_approval_rule_whatever_its_bytes(policy: GovernancePolicy) -> None:
    version = ServedVersion("AllTraffic", "", PACKAGE, status="Rejected", cleared=False, project="credit-risk")
    changed = replace(version, artifact_changes=("its model artifact was replaced after approval",))
    (violation,) = decide_deployment_request(policy, changed, "credit-risk-scoring").violations
    assert violation.rule == "deployment-approval" and "Rejected" in violation.message


def test_every_model_data_source_of_a_container_is_named() -> None:
    weights, extra = f"{MODEL}-weights", f"{MODEL}-extra/"
    specification = {
        "Containers": [
            {
                "Image": "img",
                "ModelDataUrl": MODEL,
                "AdditionalModelDataSources": [
                    {"ChannelName": "w", "S3DataSource": {"S3Uri": weights, "S3DataType": "S3Object"}}
                ],
                "AdditionalS3DataSource": {"S3Uri": extra, "S3DataType": "S3Prefix"},
            }
        ]
    }
    assert model_data(specification) == [ModelData(0, MODEL), ModelData(0, weights), ModelData(0, extra, pinnable=False)]


def test_an_artifact_written_after_its_version_was_registered_is_not_pinned() -> None:
    later = ArtifactRead(MODEL, True, "v2", "e", last_modified="2026-11-26T10:00:01+00:00")
    earlier = replace(later, last_modified="2026-11-26T09:59:59+00:00")
    registered = "2026-11-26T10:00:00.250000+00:00"
    (problem,) = pin_problems([ModelData(0, MODEL)], {MODEL: later}, STORE, registered)
    assert "after the version was registered" in problem
    assert pin_problems([ModelData(0, MODEL)], {MODEL: earlier}, STORE, registered) == []
