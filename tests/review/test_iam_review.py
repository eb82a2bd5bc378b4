"""The generated IAM review: complete, current, and honest about what the boundary removes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdas.table import HANDLERS
from policies.model import GovernancePolicy
from review.iam_review import COMMAND, collect, main, render_markdown
from tests.conftest import Synthesized, SynthesizeFn, policy_variant

REVIEW = Path(__file__).resolve().parents[2] / "docs" / "iam-review.md"


def test_the_committed_review_is_the_one_the_stacks_produce(synthesized: Synthesized) -> None:
    roles, boundaries = collect(synthesized.outdir)
    assert REVIEW.read_text() == render_markdown(roles, boundaries, COMMAND), "docs/iam-review.md is stale: run make iam-review"


def test_every_role_is_reviewed_with_its_boundary_and_statements(synthesized: Synthesized) -> None:
    roles, boundaries = collect(synthesized.outdir)
    synthesized_roles = {body["name"] for _, rtype, _, body in synthesized.all_resources() if rtype == "aws_iam_role"}
    assert {r.name for r in roles} == synthesized_roles
    handlers = {f"acme-{spec.name}" for spec in HANDLERS if not spec.region_bound}
    for role in roles:
        expected = "acme-enforcement-permissions-boundary" if role.name in handlers else "acme-ml-permissions-boundary"
        assert role.boundary == expected, role.name
        assert role.statements, f"{role.name} has no statements"
        assert "*" not in role.allowed_actions, role.name
    assert set(boundaries) == {"acme-ml-permissions-boundary", "acme-enforcement-permissions-boundary"}


def test_wildcard_resources_are_only_where_aws_has_no_resource_level_permission(synthesized: Synthesized) -> None:
    roles, _ = collect(synthesized.outdir)
    on_any = {action for role in roles for action in role.actions_on_any_resource}
    assert on_any == {
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
        "cloudwatch:PutMetricData",
        "ecr:GetAuthorizationToken",
        # no resource-level permissions: the tamper watch's alias lookup, the deployment guard's listings
        "kms:ListAliases",
        "sagemaker:ListEndpoints",
        "sagemaker:ListInferenceComponents",
    }


def test_the_review_shows_who_the_separation_of_duties_exempts(synthesized: Synthesized) -> None:
    roles, boundaries = collect(synthesized.outdir)
    boundary = boundaries["acme-ml-permissions-boundary"]
    by_name = {r.name: r for r in roles}
    update = ["sagemaker:UpdateModelPackage"]
    assert boundary.denials_of(update, by_name["acme-model-approver"].arn) == [
        "exempt from DenyApprovalStatusChangeByNonApprovers"
    ]
    assert boundary.denials_of(update, by_name["acme-data-scientist"].arn) == [
        "narrowed by DenyApprovalStatusChangeByNonApprovers"
    ]
    assert not boundary.ceiling_admits("organizations:LeaveOrganization")


def test_the_review_follows_the_policy(policy: GovernancePolicy, synthesize: SynthesizeFn) -> None:
    project = policy.projects[0].model_dump(mode="json") | {"name": "fraud-scoring", "endpoints": []}
    variant = policy_variant(policy, projects=[p.model_dump(mode="json") for p in policy.projects] + [project])
    out = synthesize(variant)
    roles, _ = collect(out.outdir)
    assert "acme-fraud-scoring-sagemaker-execution" in {r.name for r in roles}


def test_the_command_names_a_missing_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--outdir", str(tmp_path)]) == 2
    assert "run `make synth` first" in capsys.readouterr().err
