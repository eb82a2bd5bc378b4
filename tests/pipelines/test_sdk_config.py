"""Building checks the SageMaker SDK's config schema once, and still validates every config against it."""

from __future__ import annotations

import jsonschema
import pytest

from pipelines.definition import SDK_CONFIG, sdk_config_schema_checked_once


def test_every_config_is_still_validated_in_full_with_the_same_error() -> None:
    import sagemaker.core.config.config as sdk_config
    from sagemaker.core.config.config_manager import SageMakerConfig

    invalid = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": "yes"}}}}
    with pytest.raises(jsonschema.ValidationError) as stock:
        sdk_config.validate_sagemaker_config(invalid)
    with sdk_config_schema_checked_once():
        sdk_config.validate_sagemaker_config(SDK_CONFIG)
        SageMakerConfig.validate_sagemaker_config(SDK_CONFIG)
        for validate in (sdk_config.validate_sagemaker_config, SageMakerConfig.validate_sagemaker_config):
            with pytest.raises(jsonschema.ValidationError) as checked_once:
                validate(invalid)
            assert str(checked_once.value) == str(stock.value)
    assert sdk_config.jsonschema is jsonschema, "outside a build the SDK validates exactly as it ships"


def test_an_invalid_schema_is_still_refused() -> None:
    import sagemaker.core.config.config as sdk_config

    with sdk_config_schema_checked_once(), pytest.raises(jsonschema.SchemaError):
        sdk_config.jsonschema.validate({}, {"type": "not-a-type"})
