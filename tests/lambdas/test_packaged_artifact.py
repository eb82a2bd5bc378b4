"""The staged Lambda packages run as deployed: only the package, the layer and what the runtime provides."""

from __future__ import annotations

import json
import marshal
import os
import py_compile
import shutil
import subprocess
import sys
from importlib.util import MAGIC_NUMBER, source_hash
from pathlib import Path
from typing import Any

import pytest

import infra.lambda_packaging
import policies.packaged
from infra.lambda_packaging import (
    LAMBDA_CODE_ROOT,
    LAMBDA_LAYER_ROOT,
    LAMBDA_PYTHON,
    STABLE_MTIME,
    compile_for_lambda,
    ships_bytecode,
    stage_code,
    stage_dependencies,
    stage_numeric_dependencies,
)
from lambdas.table import HANDLERS, handler_spec
from policies.model import GovernancePolicy
from tests.conftest import policy_variant

# What the AWS Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

PROBE = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
module = importlib.import_module({module!r})
imported = time.perf_counter() - started
# The authoring-time validation stack (pydantic, the policy model) is never loaded: not by the import, not by an event.
def validation_stack():
    return sorted({{m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core")}} | {{m for m in sys.modules if m.startswith("policies.model")}})
validation_at_import = validation_stack()
class Context:
    function_name = "probe"; memory_limit_in_mb = 512; aws_request_id = "probe"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:probe"
    def get_remaining_time_in_millis(self): return 60000
try:
    module.handler({{"not": "an event"}}, Context())
    outcome = "accepted"
except Exception as exc:
    outcome = type(exc).__name__
foreign = sorted({{m.split(".")[0] for m in sys.modules}} & {{"yaml", "cdktn", "sagemaker", "moto", "pandas"}})
multi_account = sorted({{m for m in sys.modules if m.endswith(".promotion")}})  # the shipped policy has no stages
synth_only = sorted({{m for m in sys.modules if m == "iam.grants" or m.endswith(".grants")}})  # the roles' grants
# An event processed once, on a table that takes every write: what a first event loads besides its reader.
from lambdas.shared import aws, idempotency
class Table:
    def __getattr__(self, name): return lambda **kwargs: {{}}
aws._clients[("dynamodb", None, None)] = Table()
once = idempotency.once_per_event(lambda event, context: {{"decision": "allow"}}, {{"id": "probe"}}, Context())
print(json.dumps({{"imported_s": imported, "outcome": outcome, "foreign": foreign, "validation_at_import": validation_at_import,
                  "validation_after_an_event": validation_stack(), "once": once, "boto3": "boto3" in sys.modules,
                  "multi_account": multi_account, "synth_only": synth_only}}))
"""


def runtime_dir(tmp_path: Path) -> Path:
    target = tmp_path / "runtime"
    target.mkdir()
    for name in RUNTIME_PACKAGES:
        source = Path(__import__(name).__file__)
        if source.name == "__init__.py":
            (target / name).symlink_to(source.parent)
        else:
            (target / source.name).symlink_to(source)
    return target


RUNTIME_VERSION = pytest.mark.skipif(
    f"{sys.version_info.major}.{sys.version_info.minor}" != LAMBDA_PYTHON, reason=f"the layer is built for Python {LAMBDA_PYTHON}"
)


@RUNTIME_VERSION
@pytest.mark.parametrize("handler", sorted(spec.name for spec in HANDLERS))
def test_packaged_handler_imports_and_rejects_a_malformed_event(handler: str, policy: GovernancePolicy, tmp_path: Path) -> None:
    spec = handler_spec(handler)
    layers = [stage_dependencies()] + ([stage_numeric_dependencies()] if spec.numeric else [])
    paths = [str(stage_code(policy)), *(str(layer / "python") for layer in layers), str(runtime_dir(tmp_path))]
    module = spec.entrypoint.rsplit(".", 1)[0]
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "GOVERNANCE_AUDIT_BUCKET": "a",
        "GOVERNANCE_LINEAGE_BUCKET": "l",
        "GOVERNANCE_ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t",
        "GOVERNANCE_IDEMPOTENCY_TABLE": "t",
    }
    result = subprocess.run(
        # As Lambda runs it: the bytecode the packages ship, nothing written (they are archived as they are).
        [sys.executable, "-B", "-I", "-S", "-c", PROBE.format(paths=paths, module=module)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "MalformedEvent"
    assert report["foreign"] == [], "the handler imports a package that is not in its deployment package"
    assert report["validation_at_import"] == [], "loading the handler loads pydantic or the policy model (cold start)"
    assert report["validation_after_an_event"] == [], "reading an event or the packaged policy loads pydantic or the model"
    assert report["once"] == {"decision": "allow"}
    assert not report["boto3"], "a cold start loads boto3 (and its S3 transfer manager): clients come from botocore"
    assert report["multi_account"] == [], "a single-account cold start loads the promotion rules"
    assert report["synth_only"] == [], "a cold start loads the IAM grants, which only synth and the access review read"


def test_the_packaged_policy_skips_validation_only_when_its_digest_vouches_for_it(
    policy: GovernancePolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdas.shared.policy import _load
    from policies.packaged import SHAPE_FILE, digest_file

    built: list[object] = []
    original = policies.packaged.policy_view
    monkeypatch.setattr(policies.packaged, "policy_view", lambda data, shape: built.append(data) or original(data, shape))
    staged = stage_code(policy) / "policy.json"
    copy = tmp_path / "policy.json"
    for source in (staged, staged.with_name(SHAPE_FILE), digest_file(staged)):
        (tmp_path / source.name).write_bytes(source.read_bytes())

    _load.cache_clear()
    assert repr(_load(str(copy))) == repr(policy)
    assert len(built) == 1, "synth's policy.json, vouched for by its digest, is read through the view, not validated again"

    copy.write_text(copy.read_text().replace('"name": "acme"', '"name": "ACME!"'))  # changed after synth
    _load.cache_clear()
    with pytest.raises(ValueError, match=r"organization\.name"):
        _load(str(copy))
    assert len(built) == 1, "a policy.json its digest does not vouch for is validated in full"
    _load.cache_clear()


def shipped_bytecode(source: Path) -> bytes:
    """The bytecode shipped for ``source``, checked to be what the runtime loads without compiling: this version's
    magic number, unchecked-hash (PEP 552), compiled from exactly this source."""
    # beside the source, where Lambda's runtime looks (cache_from_source would follow this process's
    # PYTHONPYCACHEPREFIX, which the package does not)
    pyc = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
    assert pyc.is_file(), f"{source} ships no bytecode: Lambda would compile it on every cold start"
    data = pyc.read_bytes()
    assert data[:4] == MAGIC_NUMBER, f"{pyc} is for another Python"
    assert int.from_bytes(data[4:8], "little") == 0b01, f"{pyc} is not unchecked-hash"
    assert data[8:16] == source_hash(source.read_bytes()), f"{pyc} was compiled from another {source.name}"
    return data


@RUNTIME_VERSION
def test_the_packages_ship_the_bytecode_lambda_loads_for_every_source(policy: GovernancePolicy) -> None:
    code, layer, numeric = (
        stage_code(policy),
        stage_dependencies() / "python",
        stage_numeric_dependencies() / "python",
    )
    for root in (code, layer, numeric):
        sources = sorted(root.rglob("*.py"))
        assert sources
        for source in sources:
            shipped_bytecode(source)
    gate = marshal.loads(shipped_bytecode(code / "lambdas" / "approval_gate" / "handler.py")[16:])  # noqa: S302 (our build)
    assert gate.co_filename == f"{LAMBDA_CODE_ROOT}/lambdas/approval_gate/handler.py", (
        "tracebacks name the file where Lambda runs it"
    )
    logger = marshal.loads(shipped_bytecode(layer / "aws_lambda_powertools" / "logging" / "logger.py")[16:])  # noqa: S302
    assert logger.co_filename == f"{LAMBDA_LAYER_ROOT}/python/aws_lambda_powertools/logging/logger.py"


def bytecode_of(directory: Path) -> dict[Path, bytes]:
    return {pyc.relative_to(directory): pyc.read_bytes() for pyc in sorted(directory.rglob("*.pyc"))}


@RUNTIME_VERSION
def test_bytecode_depends_only_on_the_sources(policy: GovernancePolicy, tmp_path: Path) -> None:
    """An unchanged package archives to the same bytes: no build path, time or process state in its bytecode."""
    copies = []
    for name in ("first", "elsewhere/second"):
        copy = tmp_path / name
        shutil.copytree(stage_code(policy), copy, ignore=shutil.ignore_patterns("__pycache__"))
        compile_for_lambda(copy, LAMBDA_CODE_ROOT)
        copies.append(copy)
    first, second, staged = (bytecode_of(directory) for directory in (*copies, stage_code(policy)))
    assert first and first == second == staged


@RUNTIME_VERSION
def test_bytecode_written_into_a_staged_package_after_staging_is_not_archived(policy: GovernancePolicy) -> None:
    code = stage_code(policy)
    source = code / "lambdas" / "table.py"
    foreign = [
        source.parent / "__pycache__" / "table.cpython-312.pyc",  # another interpreter importing from it
        source.parent / "__pycache__" / "table.cpython-311.opt-1.pyc",  # python -O
        code / "policies" / "__pycache__" / "stray.cpython-311.pyc",  # a timestamp-checked file of this version
    ]
    try:
        for pyc in foreign:
            py_compile.compile(str(source), cfile=str(pyc), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        assert stage_code(policy) == code
        assert [pyc for pyc in foreign if pyc.exists()] == []
        # the caches cleaned are as staged again, to the modification time: the next synth reads none of them
        assert {pyc.parent.stat().st_mtime for pyc in foreign if pyc.parent.exists()} <= {STABLE_MTIME}
        shipped_bytecode(source)
        # with the staging's own modification time (a time-preserving copy): another version's or -O bytecode still goes
        for pyc in foreign[:2]:
            py_compile.compile(str(source), cfile=str(pyc), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
            os.utime(pyc, (STABLE_MTIME, STABLE_MTIME))
        assert stage_code(policy) == code
        assert [pyc for pyc in foreign if pyc.exists()] == []
    finally:
        for pyc in foreign:
            pyc.unlink(missing_ok=True)


def test_a_change_of_the_policy_compiles_nothing(
    policy: GovernancePolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every policy's package links the code and its bytecode from the code's own staging: another policy stages the
    same code without compiling it, and only the policy's files differ."""
    monkeypatch.setattr(infra.lambda_packaging, "BUILD", tmp_path)
    first = stage_code(policy)

    def compiled(*_: object) -> None:
        raise AssertionError("the code was compiled again for another policy")

    monkeypatch.setattr(infra.lambda_packaging, "compile_for_lambda", compiled)
    other = stage_code(policy_variant(policy, audit={"retention_years": policy.audit.retention_years + 1}))
    assert other != first
    assert json.loads((other / "policy.json").read_text())["audit"]["retention_years"] == policy.audit.retention_years + 1

    def files(staged: Path) -> dict[str, Path]:
        return {str(p.relative_to(staged)): p for p in staged.rglob("*") if p.is_file()}

    assert files(first).keys() == files(other).keys()
    differ = sorted(name for name, path in files(first).items() if path.read_bytes() != files(other)[name].read_bytes())
    assert differ == ["policy.json", "policy.json.sha256"]
    if ships_bytecode():
        [pyc] = (first / "lambdas" / "__pycache__").glob("table.*.pyc")
        assert pyc.stat().st_ino == (other / pyc.relative_to(first)).stat().st_ino, "linked, not written again"
    assert {p.stat().st_mtime for p in other.rglob("*")} == {STABLE_MTIME}


@pytest.mark.parametrize(
    "damage",
    [
        lambda code: (code / "lambdas" / "table.py").open("a").write("# edited in place\n"),  # through every link
        lambda code: next((code / "lambdas" / "__pycache__").glob("table.*.pyc")).unlink(),
        lambda code: os.utime(code / "policies" / "naming.py"),
    ],
    ids=["a source edited in place", "bytecode removed", "a source touched"],
)
def test_a_damaged_code_staging_is_staged_again_before_a_new_package_links_it(
    policy: GovernancePolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    monkeypatch.setattr(infra.lambda_packaging, "BUILD", tmp_path / "fresh")
    clean = stage_code(policy_variant(policy, audit={"retention_years": policy.audit.retention_years + 2}))
    monkeypatch.setattr(infra.lambda_packaging, "BUILD", tmp_path / "damaged")
    first = stage_code(policy)
    [code] = [p for p in (tmp_path / "damaged" / "lambda-code").iterdir() if p.is_dir()]
    damage(code)
    other = stage_code(policy_variant(policy, audit={"retention_years": policy.audit.retention_years + 2}))
    assert other != first

    def tree(staged: Path) -> dict[str, tuple[bytes, float]]:
        return {str(p.relative_to(staged)): (p.read_bytes(), p.stat().st_mtime) for p in staged.rglob("*") if p.is_file()}

    assert tree(other) == tree(clean)


def test_the_layers_carry_no_console_scripts() -> None:
    """numpy's f2py names the Python that built the layer on its first line: the archive would differ by machine."""
    for layer in (stage_dependencies(), stage_numeric_dependencies()):
        assert not (layer / "python" / "bin").exists()
        assert (layer / "python").is_dir()


STAGE = """
import sys
from infra.lambda_packaging import stage_code
from policies.loader import load_policy
print(stage_code(load_policy()))
"""


def test_sessions_staging_the_same_package_at_once_share_one_complete_build(tmp_path: Path) -> None:
    """Two synths (or test sessions) at once: the second waits for the first's build instead of writing into it, and
    a build interrupted half-way (files, no completion marker) is started over."""
    build = tmp_path / "build"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "GOVERNANCE_BUILD_DIR": str(build)}
    command = [sys.executable, "-c", STAGE]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err for _, err in outputs]
    staged = {out.strip() for out, _ in outputs}
    assert len(staged) == 1
    target = Path(staged.pop())
    complete = sorted(p.relative_to(target).as_posix() for p in target.rglob("*"))
    assert "lambdas/shared/idempotency.py" in complete and target.with_suffix(".complete").exists()

    (target / "lambdas" / "shared" / "idempotency.py").unlink()  # interrupted: half the files, no marker
    target.with_suffix(".complete").unlink()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    assert Path(again) == target
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == complete
