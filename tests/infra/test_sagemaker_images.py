"""The vendored Model Monitor image accounts match the SageMaker SDK's image URI config."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from infra.sagemaker_images import MODEL_MONITOR_ACCOUNTS, model_monitor_image


def test_model_monitor_accounts_match_sagemaker_sdk() -> None:
    spec = importlib.util.find_spec("sagemaker")
    assert spec is not None and spec.submodule_search_locations
    config = Path(next(iter(spec.submodule_search_locations))) / "core" / "image_uri_config" / "model-monitor.json"
    registries = json.loads(config.read_text())["versions"][""]["registries"]
    commercial = {r: a for r, a in registries.items() if not r.startswith(("cn-", "us-gov", "us-iso"))}
    assert commercial == MODEL_MONITOR_ACCOUNTS


def test_image_uri_shape() -> None:
    assert (
        model_monitor_image("eu-west-1") == "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
    )
    assert model_monitor_image("ap-southeast-7") is None
