"""The packaged policy: read through a pydantic-free view only when its digest vouches for it, and then the same policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import policies.model
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.model.packaged import UnpackageableModel, packaged_files, shape_of
from policies.packaged import (
    DIGEST_SUFFIX,
    SHAPE_FILE,
    NotTheModelsDump,
    digest_file,
    policy_view,
    view_data,
    view_files,
    vouched_shape,
)
from policies.reading import Reading
from policies.terms import KNOWN_METRICS
from tests.conftest import REPO, policy_variant


def variants(policy: GovernancePolicy) -> list[GovernancePolicy]:
    """The shipped policy, the multi-account example, and variants that set what the shipped one leaves at defaults."""
    endpoint = {
        "name": "credit-risk-live",
        "schedule": "cron(0 * ? * * *)",
        "engine": "model-monitor",
        "baseline_uri": "s3://acme-baselines/credit-risk/",
    }
    many_accounts = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    return [
        policy,
        many_accounts,
        policy_variant(many_accounts, accounts={"promotion": None}),  # the default rules: built by the derived view
        policy_variant(
            policy,
            allow_no_projects=True,
            projects=[],
            approval={"custom_metrics": {"lift": {"minimum_value": 0, "maximum_value": None}}, "metric_minimums": {"lift": 1}},
            deployment={"quarantine": "scale-to-zero", "sweep_schedule": "rate(2 hours)"},
            enforcement={"approval_gate": "report", "data_classification": "report", "region_restriction": "enforce"},
        ),
        policy_variant(
            policy,
            projects=[
                {
                    **policy.projects[0].model_dump(mode="json"),
                    "metric_thresholds": {"auc": {"minimum": 0.9, "maximum": 1}},
                    "endpoints": [endpoint],
                }
            ],
            classification={"remediation": "stop", "unattributed_level": None},
        ),
    ]


def packaged(policy: GovernancePolicy) -> tuple[Any, GovernancePolicy]:
    """The view a handler builds from synth's files, and the model validating the same policy.json."""
    files = packaged_files(policy)
    view = policy_view(json.loads(files["policy.json"]), json.loads(files[SHAPE_FILE]))
    return view, GovernancePolicy.model_validate_json(files["policy.json"])


def arguments(policy: GovernancePolicy) -> dict[str, list[tuple[Any, ...]]]:
    """Arguments each derived view is compared with: every project, level, stage and metric the policy names."""
    stages = policy.accounts.stage_names if policy.accounts else []
    names = [p.name for p in policy.projects]
    metrics = [*KNOWN_METRICS, *policy.approval.custom_metrics, "unknown"]
    promotions = [
        {"approved": a, "cleared": c, "promoted_by": {s: "alice" for s in stages[:1]}, "approvers": approvers, "promoter": who}
        for a in (True, False)
        for c in (True, False)
        for who in ("alice", "bob")
        for approvers in ((), ("alice",), ("carol", "bob"))
    ]
    return {
        "admits": [(v,) for v in (0.0, 0.5, 0.8, 1.0, float("nan"))],
        "describe": [()],
        "rank": [(level,) for level in [*policy.classification.levels, "unknown"]],
        "stage": [(s,) for s in [*stages, "nowhere"]],
        "rules": [()],
        "stages_of": [(n,) for n in [*names, "unknown"]],
        "projects_in": [(s, names) for s in stages],
        "account_of": [(s,) for s in stages],
        "promotion_problems": [((s,), kw) for s in [*stages, "nowhere"] for kw in promotions],
        "metric_range": [(m,) for m in metrics],
        "project": [(n,) for n in [*names, "unknown"]],
        "approval_requirements": [("project",)],
        "standard_tags": [()],
        "project_tags": [("project",)],
    }


def same_reading(view: Any, model: Any, calls: dict[str, list[tuple[Any, ...]]], where: str = "policy") -> None:
    """Every field, property and derived view of ``view`` equals the model's, all the way down."""
    assert repr(view) == repr(model), where
    for name in type(model).model_fields:
        value, expected = getattr(view, name), getattr(model, name)
        items = expected.items() if isinstance(expected, dict) else enumerate(expected) if isinstance(expected, list) else None
        for key, item in items or [(None, expected)]:
            if isinstance(item, Reading):
                got = getattr(view, name) if key is None else value[key]
                same_reading(got, item, calls, f"{where}.{name}" + ("" if key is None else f"[{key!r}]"))
    for reading in type(model).__mro__:
        if reading.__module__ != Reading.__module__ or reading is Reading:
            continue
        for attribute, member in vars(reading).items():
            if attribute.startswith("_"):
                continue
            if isinstance(member, property):
                assert repr(getattr(view, attribute)) == repr(getattr(model, attribute)), f"{where}.{attribute}"
                continue
            assert attribute in calls, f"{reading.__name__}.{attribute}: add its arguments to this test"
            for call in calls[attribute]:
                args, kwargs = call if len(call) == 2 and isinstance(call[1], dict) else (call, {})
                if args == ("project",):
                    pairs = zip(view.projects, model.projects, strict=True)
                    assert all(repr(getattr(view, attribute)(v)) == repr(getattr(model, attribute)(m)) for v, m in pairs), (
                        attribute
                    )
                    continue
                got, expected = (
                    _outcome(getattr(view, attribute), args, kwargs),
                    _outcome(getattr(model, attribute), args, kwargs),
                )
                assert repr(got) == repr(expected), f"{where}.{attribute}{args}"  # same types and values


def _outcome(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return method(*args, **kwargs)
    except KeyError as exc:
        return ("KeyError", str(exc))


def test_the_packaged_view_reads_every_example_policy_as_the_model_does(policy: GovernancePolicy) -> None:
    for original in variants(policy):
        view, validated = packaged(original)
        assert view.version == validated.version == original.version
        same_reading(view, validated, arguments(original))


def test_the_view_is_frozen(policy: GovernancePolicy) -> None:
    view, _ = packaged(policy)
    with pytest.raises(AttributeError, match="frozen"):
        view.allow_no_projects = True
    with pytest.raises(AttributeError, match="frozen"):
        view.projects[0].name = "other"


def test_the_shape_gives_each_part_the_models_defaults() -> None:
    checked = []
    for name, part in shape_of()["parts"].items():
        fields = part["fields"]
        if all("default" in spec for spec in fields.values()):
            model = getattr(policies.model, name).model_construct()  # every field at its default
            assert {f: spec["default"] for f, spec in fields.items()} == model.model_dump(mode="json"), name
            checked.append(name)
    assert {"Deployment", "DriftSettings", "MetricThreshold"} <= set(checked)


def test_a_field_the_view_cannot_rebuild_is_refused_at_synth() -> None:
    class Either(BaseModel):
        choice: policies.model.Stage | policies.model.Promotion

    with pytest.raises(UnpackageableModel, match=r"Either\.choice: a union"):
        shape_of(Either)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("create_cloudtrail"),
        lambda d: d.update(unknown=True),
        lambda d: d["projects"][0].pop("endpoints"),
        lambda d: d["regions"].update(extra="x"),
        lambda d: d.update(organization="acme"),
    ],
    ids=["missing field", "unknown field", "missing nested field", "unknown nested field", "not a section"],
)
def test_data_that_is_not_exactly_a_dump_of_the_model_is_refused(policy: GovernancePolicy, change: Any) -> None:
    data = policy.model_dump(mode="json")
    change(data)
    with pytest.raises(NotTheModelsDump):
        policy_view(data, shape_of())


def test_the_digest_vouches_only_for_the_files_it_was_made_for(policy: GovernancePolicy, tmp_path: Path) -> None:
    files = packaged_files(policy)
    path = tmp_path / "policy.json"
    path.write_bytes(files["policy.json"])
    (tmp_path / SHAPE_FILE).write_bytes(files[SHAPE_FILE])
    assert vouched_shape(path, files["policy.json"]) is None  # no digest beside it
    digest_file(path).write_bytes(files["policy.json" + DIGEST_SUFFIX])
    assert vouched_shape(path, files["policy.json"]) == shape_of()
    assert vouched_shape(path, files["policy.json"].replace(b'"acme"', b'"acmf"')) is None
    (tmp_path / SHAPE_FILE).write_bytes(files[SHAPE_FILE].replace(b'"default": false', b'"default": true', 1))
    assert vouched_shape(path, files["policy.json"]) is None, "a shape changed after synth is not trusted"


def test_a_view_is_packaged_as_the_model_it_was_built_from(policy: GovernancePolicy) -> None:
    """The synth packages a view read from its store (policies/validated.py): the handlers get the same bytes."""
    for original in variants(policy):
        view, _ = packaged(original)
        assert view_data(view) == original.model_dump(mode="json")
        assert view_files(view) == packaged_files(original)


def test_a_copied_view_is_the_copied_model(policy: GovernancePolicy) -> None:
    """``model_copy(update=...)`` (a workload account's policy: infra/multi_account.py) on a view: the same fields,
    the same packaged bytes and the copy's own fingerprint."""
    many_accounts = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    view, _ = packaged(many_accounts)
    kept = [p for p in view.projects if p.name == many_accounts.projects[-1].name]
    copied = view.model_copy(update={"projects": kept})
    assert many_accounts.fingerprint, "computed before the copy: the model's copy must not carry it along"
    expected = many_accounts.model_copy(update={"projects": many_accounts.projects[-1:]})  # valid only in its account
    fresh = load_policy(REPO / "examples" / "multi-account" / "governance.yaml")
    assert expected.fingerprint == fresh.model_copy(update={"projects": fresh.projects[-1:]}).fingerprint
    assert view_files(copied) == packaged_files(expected)
    assert copied.fingerprint == expected.fingerprint != view.fingerprint
    assert [p.name for p in view.projects] == [p.name for p in many_accounts.projects], "the original is unchanged"
    with pytest.raises(NotTheModelsDump, match="unknown fields"):
        view.model_copy(update={"project": kept})
