"""The synthesized manifest carries the deployment order, so the stock `cdktn deploy` applies the waves in order."""

from __future__ import annotations

import json

from infra.stack_order import DEPLOY_WAVES, STACK_NAMES, stack_dependencies
from tests.conftest import Synthesized


def test_stack_dependencies_follow_the_waves() -> None:
    assert stack_dependencies() == {
        "foundation": (),
        "identity": ("foundation",),
        "audit-trail": ("foundation", "identity"),
        "model-registry": ("foundation", "identity"),
        "monitoring": ("foundation", "identity"),
        "enforcement": ("foundation", "identity"),
    }


def test_manifest_dependency_graph_equals_the_deploy_waves(synthesized: Synthesized) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    graph = {name: sorted(stack["dependencies"]) for name, stack in manifest["stacks"].items()}
    assert graph == {name: sorted(deps) for name, deps in stack_dependencies().items()}
    assert set(graph) == set(STACK_NAMES)


def test_every_wave_depends_only_on_earlier_waves(synthesized: Synthesized) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    wave_of = {name: i for i, wave in enumerate(DEPLOY_WAVES) for name in wave}
    for name, stack in manifest["stacks"].items():
        assert all(wave_of[dep] < wave_of[name] for dep in stack["dependencies"]), (name, stack["dependencies"])
        # a stack in a later wave needs everything before it, so the stock CLI cannot start it early
        assert len(stack["dependencies"]) == sum(len(w) for w in DEPLOY_WAVES[: wave_of[name]])
