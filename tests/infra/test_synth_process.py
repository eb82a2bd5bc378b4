"""``python -m infra.app`` imports cdktn on a thread of its own while it reads the policy and stages the Lambda
packages (infra/app.py ``prepare_to_synthesize``): the two threads must never import the same module (Python's
per-module import locks let one thread see another's half-imported module when two imports meet in a cycle), and
the stacks must find every package staged."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import lambda_packaging
from infra.app import synth
from policies.loader import load_policy
from policies.validated import DEFAULT_POLICY_PATH
from tests.conftest import REPO

MULTI_ACCOUNT = REPO / "examples" / "multi-account" / "governance.yaml"

# Each probe starts where prepare_to_synthesize() starts its thread: infra.app imported (as `python -m infra.app`
# does) and BEFORE_THE_KERNEL imported; it prints the modules one thread's work imports from there.
KERNEL_SIDE = """
import json, sys
from infra.app import BEFORE_THE_KERNEL, import_all, import_cdktn
import_all(BEFORE_THE_KERNEL)
before = set(sys.modules)
import_cdktn()
print(json.dumps(sorted(set(sys.modules) - before)))
"""
POLICY_SIDE = """
import json, sys
from pathlib import Path
from infra.app import BEFORE_THE_KERNEL, import_all, read_and_stage
import_all(BEFORE_THE_KERNEL)
from infra.lambda_packaging import staged_once
from policies.errors import PolicyError
before = set(sys.modules)
with staged_once():
    try:
        read_and_stage(Path(sys.argv[1]))
    except PolicyError:
        pass
assert not [m for m in sys.modules if m.split(".")[0] in ("cdktn", "constructs")], "the policy's side imported cdktn"
print(json.dumps(sorted(set(sys.modules) - before)))
"""
STACKS_AFTER_THE_KERNEL = """
import json, sys
from infra.app import BEFORE_THE_KERNEL, PLAIN_MODULES, import_all, import_cdktn, stack_classes
import_all(BEFORE_THE_KERNEL)
import_cdktn()
import_all(PLAIN_MODULES)
before = set(sys.modules)
stack_classes()
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.split(".")[0] in ("infra", "iam", "lambdas", "policies"))))
"""


def imported_by(probe: str, *args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def kernel_side() -> set[str]:
    modules = imported_by(KERNEL_SIDE)
    assert {"cdktn", "constructs"} <= modules
    return modules


@pytest.mark.parametrize("source", [DEFAULT_POLICY_PATH, MULTI_ACCOUNT], ids=["single-account", "multi-account"])
def test_the_kernel_thread_and_the_policy_read_import_no_module_in_common(
    kernel_side: set[str], source: Path, tmp_path: Path
) -> None:
    """Both ways a policy is read: validated (bytes never seen: pydantic, PyYAML and the model imported), and from the
    store of validated policies (the same bytes a second time). A module in both lists belongs in BEFORE_THE_KERNEL."""
    unseen = tmp_path / "governance.yaml"
    unseen.write_bytes(source.read_bytes() + f"\n# {tmp_path}\n".encode())
    validated = imported_by(POLICY_SIDE, str(unseen))
    assert "pydantic" in validated, "the policy was validated"
    from_the_store = imported_by(POLICY_SIDE, str(unseen))
    assert "pydantic" not in from_the_store, "the policy was read from the store"
    assert sorted(kernel_side & validated) == []
    assert sorted(kernel_side & from_the_store) == []
    refused = tmp_path / "refused.yaml"
    refused.write_text(unseen.read_text().replace("owner_team:", "owner_teams:", 1))
    assert sorted(kernel_side & imported_by(POLICY_SIDE, str(refused))) == [], "a refused policy's read"


def test_the_stacks_import_after_the_kernel_only_modules_that_need_cdktn() -> None:
    """What the stacks' modules import once cdktn is in: each needs cdktn or constructs, itself or through another of
    them. A module of the blueprint that needs neither belongs in PLAIN_MODULES (imported while the kernel starts)."""
    after = imported_by(STACKS_AFTER_THE_KERNEL)
    assert after, "stack_classes() imports the stacks"

    def source(module: str) -> Path:
        path = REPO / (module.replace(".", "/") + ".py")
        return path if path.is_file() else REPO / module.replace(".", "/") / "__init__.py"

    def imports(module: str) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(ast.parse(source(module).read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
        return found

    modules = [m for m in sorted(after) if source(m).name != "__init__.py"]  # a package comes with its modules
    plain = [m for m in modules if not imports(m) & ({"cdktn", "constructs"} | after)]
    assert plain == [], f"add {plain} to infra.app.PLAIN_MODULES"


@pytest.mark.parametrize("source", [DEFAULT_POLICY_PATH, MULTI_ACCOUNT], ids=["single-account", "multi-account"])
def test_the_stacks_find_every_package_staged(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within staged_once(), after stage_for_synth(policy), a synth stages and lists nothing more: what
    stage_for_synth stages is all the stacks ask for."""
    policy = load_policy(source)

    def staged_again(*_: object) -> None:
        raise AssertionError("the synth staged or listed a package stage_for_synth did not")

    with lambda_packaging.staged_once():
        lambda_packaging.stage_for_synth(policy)
        for name in ("_stage_code", "_stage_dependencies", "_listing"):
            monkeypatch.setattr(lambda_packaging, name, staged_again)
        out = synth(policy, tmp_path / "out")
    assert (out / "manifest.json").is_file()


def test_within_staged_once_a_listing_is_read_once_and_outside_every_time(tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "policy.json").write_text("{}")
    listing = lambda_packaging.staged_listing(staged)
    assert b"policy.json" in listing
    with lambda_packaging.staged_once():
        assert lambda_packaging.staged_listing(staged) == listing
        (staged / "handler.py").write_text("")
        assert lambda_packaging.staged_listing(staged) == listing, "within the block the first listing stands"
    assert b"handler.py" in lambda_packaging.staged_listing(staged), "outside it the directory is read again"
