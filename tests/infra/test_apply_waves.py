"""How the embedded deploys order their applies (``infra.terraform_cli.apply_in_waves``): a stack's slow-settling
resources are applied beside the next waves, never left out, and a failure anywhere fails the deploy."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from infra import terraform_cli
from infra.terraform_cli import PreparedStack, StackResult, apply_in_waves

LIFECYCLE = "aws_s3_bucket_lifecycle_configuration.audit_lifecycle"
STACKS = {
    "foundation": ["aws_kms_key.audit", "aws_s3_bucket.audit", LIFECYCLE],
    "identity": ["aws_iam_role.engineer"],
    "enforcement": ["aws_sqs_queue.events", "aws_s3_bucket_lifecycle_configuration.drift_lifecycle"],
}


class FakeTerraform:
    """Records each apply (stack, addresses targeted or None for all, what had finished before it started)."""

    def __init__(self, fail: frozenset[tuple[str, bool]] = frozenset(), raises: bool = False) -> None:
        self.calls: list[tuple[str, list[str] | None, list[str]]] = []
        self.finished: list[str] = []
        self.fail = fail
        self.raises = raises
        self.lock = threading.Lock()
        self.next_wave_done = threading.Event()

    def apply(
        self, stack: PreparedStack, terraform: str, *, only: list[str] | None = None, beside: bool = False, progress: bool
    ) -> StackResult:
        with self.lock:
            self.calls.append((stack.name, only, list(self.finished)))
        if stack.name == "foundation" and only is None:
            assert self.next_wave_done.wait(10), "the next waves waited on the settling apply"
        ok = (stack.name, only is None) not in self.fail
        if self.raises and stack.name == "foundation" and only is None:
            raise terraform_cli.TerraformError("terraform stopped")
        with self.lock:
            self.finished.append(f"{stack.name}{'' if only is None else ' (first)'}")
        if stack.name == "identity":
            self.next_wave_done.set()
        applied = (stack.applied if only is None else only) if ok else []
        return StackResult(stack.name, ok, "" if ok else "refused", 0.0, applied, {})


def prepare(name: str) -> PreparedStack:
    return PreparedStack(name, Path("/nonexistent") / name, {}, list(STACKS[name]), {}, 0.0)


def run(monkeypatch: pytest.MonkeyPatch, fake: FakeTerraform) -> list[StackResult]:
    monkeypatch.setattr(terraform_cli, "_terraform_apply", fake.apply)
    return apply_in_waves([["foundation"], ["identity"], ["enforcement"]], prepare, "terraform")


def test_settling_resources_are_applied_beside_the_next_waves_and_the_stack_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTerraform()
    results = run(monkeypatch, fake)
    first, *_ = fake.calls
    assert first == ("foundation", ["aws_kms_key.audit", "aws_s3_bucket.audit"], [])
    full = next(c for c in fake.calls if c[0] == "foundation" and c[1] is None)
    identity = next(c for c in fake.calls if c[0] == "identity")
    assert "foundation" not in identity[2], "identity waited for the foundation's lifecycle configuration"
    assert full[2] == ["foundation (first)"]
    # the last wave has no later wave to overlap: its settling resources are applied in its one apply
    assert [(c[0], c[1]) for c in fake.calls if c[0] == "enforcement"] == [("enforcement", None)]
    assert [(r.stack, r.ok, sorted(r.applied)) for r in results] == [
        (name, True, sorted(addresses)) for name, addresses in STACKS.items()
    ]


def test_a_failed_settling_apply_fails_the_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    results = run(monkeypatch, FakeTerraform(fail=frozenset({("foundation", True)})))
    foundation = results[0]
    assert (foundation.stack, foundation.ok, foundation.applied, foundation.detail) == ("foundation", False, [], "refused")
    assert [r.ok for r in results[1:]] == [True, True]


def test_a_failed_first_apply_stops_the_waves_and_is_not_applied_again(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTerraform(fail=frozenset({("foundation", False)}))
    results = run(monkeypatch, fake)
    assert [(r.stack, r.ok) for r in results] == [("foundation", False)]
    assert [(c[0], c[1] is None) for c in fake.calls] == [("foundation", False)]


def test_a_failed_wave_still_waits_for_the_settling_apply_and_reports_it(monkeypatch: pytest.MonkeyPatch) -> None:
    results = run(monkeypatch, FakeTerraform(fail=frozenset({("foundation", True), ("identity", True)})))
    assert [(r.stack, r.ok) for r in results] == [("foundation", False), ("identity", False)]


def test_a_settling_apply_that_raises_fails_the_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(terraform_cli.TerraformError, match="terraform stopped"):
        run(monkeypatch, FakeTerraform(raises=True))


def test_a_stack_of_settling_resources_only_is_applied_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTerraform()
    fake.next_wave_done.set()
    monkeypatch.setitem(STACKS, "foundation", [LIFECYCLE])
    results = run(monkeypatch, fake)
    assert [(c[0], c[1]) for c in fake.calls if c[0] == "foundation"] == [("foundation", None)]
    assert results[0].applied == [LIFECYCLE]


# The foundation's full apply after its first, as Terraform printed it into the embedded AWS (shipped policy).
FULL_APPLY = (Path(__file__).parent / "foundation_full_apply.txt").read_text()
FOUNDATION = PreparedStack(
    "foundation",
    Path("foundation"),
    {},
    [
        "aws_kms_key.audit-key_3E858D94",
        "aws_s3_bucket.audit_bucket_85D46CD8",
        "aws_s3_bucket_lifecycle_configuration.access-logs_lifecycle_CF942975",
        "aws_s3_bucket_lifecycle_configuration.audit_lifecycle_E6B1C193",
        "aws_s3_bucket_lifecycle_configuration.lineage_lifecycle_912D51DE",
    ],
    {},
    0.0,
)


def test_a_full_apply_that_creates_the_settling_resources_and_updates_only_known_drift_passes() -> None:
    assert terraform_cli._beyond_the_first_apply(FULL_APPLY, FOUNDATION) == ""


@pytest.mark.parametrize(
    ("edit", "reported"),
    [
        (
            (
                "# aws_kms_key.ops-key_BB4F91F8 will be updated in-place",
                "# aws_s3_bucket_policy.audit_policy will be updated in-place",
            ),
            "updated aws_s3_bucket_policy.audit_policy",
        ),
        (
            ("# aws_kms_key.ops-key_BB4F91F8 will be updated in-place", "# aws_iam_role.reader will be created"),
            "created aws_iam_role.reader",
        ),
        (
            ("# aws_kms_key.ops-key_BB4F91F8 will be updated in-place", "# aws_s3_bucket.audit_bucket_85D46CD8 must be replaced"),
            "replaced, destroyed or read aws_s3_bucket.audit_bucket_85D46CD8",
        ),
        (
            ("Resources: 3 added, 6 changed, 0 destroyed", "Resources: 3 added, 6 changed, 1 destroyed"),
            "its summary: Apply complete! Resources: 3 added, 6 changed, 1 destroyed",
        ),
        (
            (
                '      ~ eventbridge = false -> true\n        id          = "acme-ml-audit',
                '      ~ eventbridge = false -> true\n      + queue {\n        }\n        id          = "acme-ml-audit',
            ),
            "updated aws_s3_bucket_notification.audit_events_D3151C7E (queue)",
        ),
    ],
    ids=["other-update", "other-create", "replacement", "destroyed", "other-argument-of-a-drifting-type"],
)
def test_a_full_apply_that_does_more_is_named(edit: tuple[str, str], reported: str) -> None:
    assert edit[0] in FULL_APPLY
    assert reported in terraform_cli._beyond_the_first_apply(FULL_APPLY.replace(*edit), FOUNDATION)


def test_a_full_apply_that_did_more_fails_its_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    drifted = FULL_APPLY.replace("aws_kms_key.ops-key_BB4F91F8 will", "aws_s3_bucket_policy.audit_policy will")
    done = terraform_cli.subprocess.CompletedProcess([], 0, drifted, "")
    monkeypatch.setattr(terraform_cli, "_run", lambda *args, **kwargs: done)
    result = terraform_cli._terraform_apply(FOUNDATION, "terraform", beside=True, progress=False)
    assert (result.ok, result.applied) == (False, [])
    assert result.detail.startswith(
        "its full apply did more than create what its first apply left out: updated aws_s3_bucket_policy"
    )
