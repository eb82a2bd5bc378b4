"""The handlers' clients read AWS's service models through their own data loader (``lambdas.shared.aws``, cheaper
at a cold start): what it reads must be what botocore's own loader reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import DataNotFoundError, UnknownServiceError

from lambdas.shared import aws

HANDLER_SERVICES = ("dynamodb", "kms", "s3", "sagemaker", "sns", "sts")  # every service a handler creates a client of


@pytest.fixture
def fresh_loader(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handlers' loader as a cold start builds it (the test session's is kept across tests)."""
    monkeypatch.setattr(aws, "_loader", [])
    aws.reset()
    yield lambda: aws._data_loader(botocore.session.get_session())
    aws.reset()


@pytest.mark.parametrize("service", HANDLER_SERVICES)
def test_each_handler_service_reads_the_models_botocore_reads(fresh_loader: Any, service: str) -> None:
    ours, botocores = fresh_loader(), botocore.loaders.Loader()
    for kind in ("service-2", "endpoint-rule-set-1", "paginators-1"):
        try:
            expected = botocores.load_service_model(service, kind)
        except DataNotFoundError:
            with pytest.raises(DataNotFoundError):
                ours.load_service_model(service, kind)
            continue
        assert ours.load_service_model(service, kind) == expected, kind


def test_the_shared_files_read_as_botocore_reads_them(fresh_loader: Any) -> None:
    ours, botocores = fresh_loader(), botocore.loaders.Loader()
    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        assert ours.load_data_with_path(name) == botocores.load_data_with_path(name), name


def test_a_client_of_a_service_botocore_does_not_know_is_refused(fresh_loader: Any) -> None:
    with pytest.raises((UnknownServiceError, DataNotFoundError)):
        aws.client("sagemakr", "eu-west-1")
    assert {"sagemaker", "s3", "sts"} <= set(fresh_loader().list_available_services("service-2"))


def test_models_on_the_aws_data_path_come_first(fresh_loader: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore reads models from ``AWS_DATA_PATH`` before its own: the handlers' loader keeps that order."""
    botocores = botocore.loaders.Loader()
    model = botocores.load_service_model("sts", "service-2")
    version = model["metadata"]["apiVersion"]
    model["documentation"] = "a model of the user's own"
    (tmp_path / "sts" / version).mkdir(parents=True)
    (tmp_path / "sts" / version / "service-2.json").write_text(json.dumps(model))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    assert fresh_loader().load_service_model("sts", "service-2")["documentation"] == "a model of the user's own"
