"""The staged Lambda packages run as deployed: only the package, the layer and what the runtime provides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.lambda_packaging import LAMBDA_PYTHON, NUMERIC_LAYER, NUMERIC_LAYER_PINS, stage_code, stage_dependencies
from lambdas.table import HANDLERS, handler_spec
from policies.model import GovernancePolicy

# What the AWS Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

PROBE = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
module = importlib.import_module({module!r})
imported = time.perf_counter() - started
# What only the first event needs (event and policy validation) is loaded by the first event, not by the import.
validation_at_import = sorted({{m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core")}} | {{m for m in sys.modules if m.startswith("policies.model")}})
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
print(json.dumps({{"imported_s": imported, "outcome": outcome, "foreign": foreign, "validation_at_import": validation_at_import}}))
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


@pytest.mark.skipif(
    f"{sys.version_info.major}.{sys.version_info.minor}" != LAMBDA_PYTHON, reason=f"the layer is built for Python {LAMBDA_PYTHON}"
)
@pytest.mark.parametrize("handler", sorted(spec.name for spec in HANDLERS))
def test_packaged_handler_imports_and_rejects_a_malformed_event(handler: str, policy: GovernancePolicy, tmp_path: Path) -> None:
    spec = handler_spec(handler)
    layers = [stage_dependencies()] + ([stage_dependencies(NUMERIC_LAYER_PINS, name=NUMERIC_LAYER)] if spec.numeric else [])
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
        # Bytecode is cached outside the staged directories: they are archived as they are.
        [
            sys.executable,
            "-X",
            f"pycache_prefix={tmp_path / 'pycache'}",
            "-I",
            "-S",
            "-c",
            PROBE.format(paths=paths, module=module),
        ],
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


def test_the_packaged_policy_skips_validation_only_when_its_digest_vouches_for_it(
    policy: GovernancePolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import policies.model.packaged
    from lambdas.shared.policy import _load
    from policies.packaged import digest_file

    built: list[object] = []
    original = policies.model.packaged.validated_policy
    monkeypatch.setattr(policies.model.packaged, "validated_policy", lambda data: built.append(data) or original(data))
    staged = stage_code(policy) / "policy.json"
    copy = tmp_path / "policy.json"
    copy.write_bytes(staged.read_bytes())
    digest_file(copy).write_bytes(digest_file(staged).read_bytes())

    _load.cache_clear()
    assert _load(str(copy)) == policy
    assert len(built) == 1, "synth's policy.json, vouched for by its digest, is built without validating it again"

    copy.write_text(copy.read_text().replace('"name": "acme"', '"name": "ACME!"'))  # changed after synth
    _load.cache_clear()
    with pytest.raises(ValueError, match=r"organization\.name"):
        _load(str(copy))
    assert len(built) == 1, "a policy.json its digest does not vouch for is validated in full"
    _load.cache_clear()
