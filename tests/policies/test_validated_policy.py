"""The store of validated policies (policies/validated.py): a file's bytes are validated once per validating code, then
read through the packaged view; anything changed, damaged or refused is validated in full again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import policies.validated
from policies.errors import PolicyError
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.model.packaged import packaged_files
from policies.packaged import PartView
from policies.validated import DEFAULT_POLICY_PATH, KEPT_ENTRIES, packaged_policy, validated_policy, validation_identity
from tests.conftest import REPO


def entries(store: Path) -> list[Path]:
    return sorted(p for p in store.iterdir() if p.is_dir()) if store.exists() else []


def test_a_file_is_validated_once_then_read_from_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = validated_policy(DEFAULT_POLICY_PATH, store)
    assert isinstance(first, GovernancePolicy), "the first read validates with the model"
    assert len(entries(store)) == 1
    again = validated_policy(DEFAULT_POLICY_PATH, store)
    assert isinstance(again, PartView), "the second read is the stored view"
    assert packaged_policy(again) == packaged_policy(first) == packaged_files(load_policy(DEFAULT_POLICY_PATH))
    assert again.fingerprint == first.fingerprint
    assert entries(store) == entries(store), "nothing more written"


def test_another_byte_of_the_file_is_validated_again(tmp_path: Path) -> None:
    store, path = tmp_path / "store", tmp_path / "governance.yaml"
    text = DEFAULT_POLICY_PATH.read_text()
    path.write_text(text)
    validated_policy(path, store)
    path.write_text(text + "# the same policy, other bytes\n")
    assert isinstance(validated_policy(path, store), GovernancePolicy)
    assert len(entries(store)) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: (entry / "policy.json").write_bytes((entry / "policy.json").read_bytes().replace(b'"acme"', b'"acmf"')),
        lambda entry: (entry / "policy.json.sha256").unlink(),
        lambda entry: (entry / "policy.shape.json").write_text("{}"),
        lambda entry: (entry / "policy.json").unlink(),
    ],
    ids=["policy edited", "digest gone", "shape replaced", "policy gone"],
)
def test_an_entry_that_does_not_match_its_digest_is_validated_again_and_replaced(tmp_path: Path, damage: object) -> None:
    store = tmp_path / "store"
    validated_policy(DEFAULT_POLICY_PATH, store)
    [entry] = entries(store)
    damage(entry)  # type: ignore[operator]
    read = validated_policy(DEFAULT_POLICY_PATH, store)
    assert isinstance(read, GovernancePolicy), "validated in full, not read from the damaged entry"
    assert read.organization.name == "acme"
    assert isinstance(validated_policy(DEFAULT_POLICY_PATH, store), PartView), "the entry was written again"


def test_a_refused_policy_is_refused_as_the_loader_refuses_it_and_never_stored(tmp_path: Path) -> None:
    store, path = tmp_path / "store", tmp_path / "governance.yaml"
    for text in [DEFAULT_POLICY_PATH.read_text().replace("name: acme", "name: ACME", 1), "not: [closed", "", "\0"]:
        path.write_text(text)
        with pytest.raises(PolicyError) as loaded:
            load_policy(path)
        with pytest.raises(PolicyError) as read:
            validated_policy(path, store)
        assert str(read.value) == str(loaded.value)
    for missing in [tmp_path / "absent.yaml", tmp_path]:  # no file; a directory
        with pytest.raises(PolicyError) as read:
            validated_policy(missing, store)
        assert "cannot read the policy file" in str(read.value)
    assert entries(store) == []


def test_a_change_in_the_validating_code_is_a_new_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python sources of the policies package and the validating libraries' installed files decide the key; an
    editor's files beside the sources do not."""
    package = tmp_path / "policies"
    shutil.copytree(REPO / "policies", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(policies.validated, "POLICIES", package)
    before = validation_identity()
    (package / ".#governance.yaml").symlink_to(tmp_path / "nowhere")  # what Emacs leaves while a file is edited
    (package / ".governance.yaml.swp").write_bytes(b"\0" * 64)
    (package / "governance.yaml").write_text("edited: true\n")
    assert validation_identity() == before
    limits = package / "limits.py"
    limits.write_text(limits.read_text() + "\n# another bound\n")
    assert validation_identity() != before


def test_a_validating_library_is_known_by_what_it_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its distribution's RECORD (every installed file's SHA-256), else its files' content: a reinstall that kept the
    files' sizes and times (wheels install at 1980-01-01) still changes the key."""
    site = tmp_path / "site"
    (site / "validator").mkdir(parents=True)
    (site / "validator" / "__init__.py").write_text("VERSION = '1.0.0'\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(policies.validated, "VALIDATING_LIBRARIES", {"validator": "validator"})
    without_record = validation_identity()
    (site / "validator" / "__init__.py").write_text("VERSION = '1.0.1'\n")  # same size
    assert validation_identity() != without_record
    record = site / "validator-1.0.1.dist-info" / "RECORD"
    record.parent.mkdir()
    record.write_text("validator/__init__.py,sha256=one,19\n")
    with_record = validation_identity()
    record.write_text("validator/__init__.py,sha256=two,19\n")
    assert validation_identity() != with_record
    monkeypatch.setattr(policies.validated, "VALIDATING_LIBRARIES", {"absent_validator": "absent_validator"})
    assert validation_identity() != with_record


def test_a_source_that_cannot_be_read_means_a_full_validation_and_nothing_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "policies"
    shutil.copytree(REPO / "policies", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "broken.py").symlink_to(tmp_path / "nowhere")
    monkeypatch.setattr(policies.validated, "POLICIES", package)
    store = tmp_path / "store"
    for _ in range(2):
        assert isinstance(validated_policy(DEFAULT_POLICY_PATH, store), GovernancePolicy)
    assert entries(store) == []


def test_a_store_that_cannot_be_written_still_gives_the_policy(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    policy = validated_policy(DEFAULT_POLICY_PATH, blocked / "store")
    assert isinstance(policy, GovernancePolicy) and policy.organization.name == "acme"


def test_the_store_keeps_the_most_recently_used_entries(tmp_path: Path) -> None:
    store, path = tmp_path / "store", tmp_path / "governance.yaml"
    text = DEFAULT_POLICY_PATH.read_text()
    path.write_text(text)
    validated_policy(path, store)
    [first] = entries(store)
    os.utime(first, (1, 1))  # the oldest entry
    for n in range(KEPT_ENTRIES):
        path.write_text(text + "\n" * (n + 1))
        validated_policy(path, store)
    assert len(entries(store)) == KEPT_ENTRIES
    assert first not in entries(store)
    assert not [p for p in store.iterdir() if p.name.startswith(".writing-")], "no staging directory left behind"
    assert {p.stat().st_mode & 0o777 for p in entries(store)} == {0o755}, "readable as the rest of the build directory"


def test_what_an_interrupted_write_left_is_removed_after_an_hour(tmp_path: Path) -> None:
    store = tmp_path / "store"
    recent, abandoned = store / ".writing-recent", store / ".writing-abandoned"
    for left in (recent, abandoned):
        left.mkdir(parents=True)
        (left / "policy.json").write_text("{")
    os.utime(abandoned, (1, 1))
    validated_policy(DEFAULT_POLICY_PATH, store)
    assert recent.exists() and not abandoned.exists()
    assert isinstance(validated_policy(DEFAULT_POLICY_PATH, store), PartView)
