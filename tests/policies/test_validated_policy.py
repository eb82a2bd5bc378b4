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
    """The interpreter, any file of the policies package and the validating libraries' files decide the key."""
    package = tmp_path / "policies"
    shutil.copytree(REPO / "policies", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(policies.validated, "POLICIES", package)
    before = validation_identity()
    assert validation_identity() == before
    limits = package / "limits.py"
    limits.write_text(limits.read_text() + "\n# another bound\n")
    after_source = validation_identity()
    assert after_source != before
    import yaml

    library = Path(yaml.__file__).parent / "__init__.py"
    stat = library.stat()
    try:
        os.utime(library, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # as a reinstall leaves it
        assert validation_identity() != after_source
    finally:
        os.utime(library, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert validation_identity() == after_source


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
