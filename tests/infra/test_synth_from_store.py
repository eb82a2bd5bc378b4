"""A synth of a policy read from the store of validated policies (policies/validated.py): the same output as the
model's, byte for byte, without importing pydantic or the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.app import synth
from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.model.packaged import packaged_files
from policies.packaged import SHAPE_FILE, PartView, policy_view
from policies.validated import DEFAULT_POLICY_PATH, validated_policy
from tests.conftest import REPO
from tests.policies.test_packaged_policy import variants

MULTI_ACCOUNT = REPO / "examples" / "multi-account" / "governance.yaml"


def tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def same_synth(model: GovernancePolicy, view: GovernancePolicy, outdir: Path) -> None:
    from_model = tree(synth(model, outdir / "model"))
    from_view = tree(synth(view, outdir / "view"))
    assert from_view.keys() == from_model.keys()
    assert [name for name in from_model if from_view[name] != from_model[name]] == []
    assert any("handler-code" in name for name in from_model), "the packaged policy is in the comparison"


def test_the_stored_view_synthesizes_what_the_model_does(tmp_path: Path) -> None:
    """The single-account policy and the multi-account example (whose workload accounts' foundation, identity and
    audit-trail stacks read a copy of the policy with the account's projects only), read back from the store."""
    for source in (DEFAULT_POLICY_PATH, MULTI_ACCOUNT):
        store = tmp_path / "store"
        validated_policy(source, store)
        view = validated_policy(source, store)
        assert isinstance(view, PartView)
        same_synth(load_policy(source), view, tmp_path / source.parent.name)


def test_a_view_synthesizes_what_the_model_does_for_every_variant(policy: GovernancePolicy, tmp_path: Path) -> None:
    """What the shipped policy leaves at defaults: Model Monitor's endpoints (the provider's bindings), report modes,
    custom metrics, the default promotion rules, no projects."""
    for n, model in enumerate(variants(policy)[2:]):
        files = packaged_files(model)
        view = policy_view(json.loads(files["policy.json"]), json.loads(files[SHAPE_FILE]))
        same_synth(model, view, tmp_path / str(n))


PROBE = """
import json, sys
from pathlib import Path
from policies.validated import validated_policy
from infra.app import synth
policy = validated_policy(Path(sys.argv[1]), Path(sys.argv[2]))
synth(policy, Path(sys.argv[3]))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "pydantic" or m in ("policies.model", "policies.loader"))))
"""


def test_a_synth_of_a_stored_policy_imports_no_pydantic(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for source in (DEFAULT_POLICY_PATH, MULTI_ACCOUNT):
        validated_policy(source, store)
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(source), str(store), str(tmp_path / source.parent.name)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(out.stdout.splitlines()[-1]) == [], source
        assert (tmp_path / source.parent.name / "manifest.json").is_file()
