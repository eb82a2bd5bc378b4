"""The jsii Node kernel loads a prebuilt provider through its lazy index (infra/lazy_provider_index.cjs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import node

NODE = node.use_bundled_node() or shutil.which("node")


def has_module_hooks() -> bool:
    if NODE is None:
        return False
    probe = [NODE, "-p", "typeof require('node:module').registerHooks"]
    return subprocess.run(probe, capture_output=True, text=True, check=False).stdout.strip() == "function"


# the bundled Node (a dependency) has them; a Node on PATH before 22.15 loads the whole provider, as the hook says
pytestmark = pytest.mark.skipif(not has_module_hooks(), reason="no Node.js with module hooks (22.15 or later)")


def package(root: Path, name: str, *, lazy: bool) -> None:
    """A package laid out as cdktn's prebuilt providers are: ``lib/index.js`` loads every module at once,
    ``lib/lazy-index.js`` on first use; each says which one was loaded."""
    lib = root / "node_modules" / name / "lib"
    lib.mkdir(parents=True)
    (lib.parent / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0", "main": "lib/index.js"}))
    (lib / "index.js").write_text('exports.loaded = "every module";\n')
    if lazy:
        (lib / "lazy-index.js").write_text('Object.defineProperty(exports, "loaded", { get: () => "on first use" });\n')


def loaded(root: Path, name: str, hook: Path = node.LAZY_PROVIDER_INDEX) -> str:
    result = subprocess.run(
        [str(NODE), "-e", f"process.stdout.write(require({json.dumps(name)}).loaded)"],
        cwd=root,
        env={**os.environ, "NODE_OPTIONS": node.node_preload_option(hook)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stderr == "", result.stderr  # no warning on every synth
    return result.stdout


def test_a_provider_with_a_lazy_index_is_loaded_through_it(tmp_path: Path) -> None:
    package(tmp_path, "@cdktn/provider-aws", lazy=True)
    assert loaded(tmp_path, "@cdktn/provider-aws") == "on first use"


def test_a_provider_without_one_and_any_other_package_load_as_they_say(tmp_path: Path) -> None:
    package(tmp_path, "@cdktn/provider-random", lazy=False)
    package(tmp_path, "cdktn", lazy=True)
    package(tmp_path / "node_modules" / "@cdktn" / "provider-aws", "nested", lazy=True)  # a package inside a provider
    assert loaded(tmp_path, "@cdktn/provider-random") == "every module"
    assert loaded(tmp_path, "cdktn") == "every module"
    assert loaded(tmp_path / "node_modules" / "@cdktn" / "provider-aws", "nested") == "every module"


def test_the_hook_is_found_in_a_directory_whose_name_has_spaces_and_quotes(tmp_path: Path) -> None:
    odd = tmp_path / 'a "quoted" dir'
    odd.mkdir()
    hook = Path(shutil.copy(node.LAZY_PROVIDER_INDEX, odd))
    package(tmp_path, "@cdktn/provider-aws", lazy=True)
    assert loaded(tmp_path, "@cdktn/provider-aws", hook) == "on first use"


def test_every_process_that_imports_the_node_settings_gives_the_kernel_the_hook() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    code = "import os, infra.node; print(os.environ['NODE_OPTIONS'])"
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert printed.strip() == node.node_preload_option(node.LAZY_PROVIDER_INDEX)


def test_the_users_node_options_are_kept_and_the_hook_is_added_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=8192")
    node.load_the_provider_lazily()
    node.load_the_provider_lazily()
    assert os.environ["NODE_OPTIONS"] == f"--max-old-space-size=8192 {node.node_preload_option(node.LAZY_PROVIDER_INDEX)}"
