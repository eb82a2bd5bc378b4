"""The handlers' clients read AWS's service models through their own data loader (``lambdas.shared.aws``, cheaper
at a cold start): what it reads must be what botocore's own loader reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError

from lambdas.shared import aws

HANDLER_SERVICES = ("dynamodb", "kms", "s3", "sagemaker", "sns", "sts")  # every service a handler creates a client of


@pytest.fixture
def fresh_loader(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handlers' loader as a cold start builds it (the test session's is kept across tests)."""
    monkeypatch.setattr(aws, "_loaders", {})
    aws.reset()
    yield lambda: aws._data_loader(botocore.session.get_session())
    aws.reset()


def same(ours: Any, botocores: Any) -> bool:
    """The same data in the same order (a dict equals an OrderedDict whatever the order of their keys)."""
    return json.dumps(ours) == json.dumps(botocores)


@pytest.mark.parametrize("service", HANDLER_SERVICES)
def test_each_handler_service_reads_the_models_botocore_reads(fresh_loader: Any, service: str) -> None:
    ours, botocores = fresh_loader(), botocore.loaders.Loader()
    for kind in ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"):
        try:
            expected = botocores.load_service_model(service, kind)
        except UnknownServiceError:
            with pytest.raises(UnknownServiceError):
                ours.load_service_model(service, kind)
            continue
        assert same(ours.load_service_model(service, kind), expected), kind


def test_the_shared_files_read_as_botocore_reads_them(fresh_loader: Any) -> None:
    ours, botocores = fresh_loader(), botocore.loaders.Loader()
    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        assert same(ours.load_data_with_path(name)[0], botocores.load_data_with_path(name)[0]), name


def test_the_handlers_clients_are_created_with_this_loader(fresh_loader: Any) -> None:
    assert aws.client("sts", "eu-west-1")._loader is fresh_loader()


def test_a_client_of_a_service_botocore_does_not_know_is_refused_as_botocore_refuses_it(fresh_loader: Any) -> None:
    with pytest.raises(UnknownServiceError, match="sagemakr"):
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
    monkeypatch.delenv("AWS_DATA_PATH")
    assert fresh_loader().load_service_model("sts", "service-2")["documentation"] != "a model of the user's own"


def test_a_model_without_endpoint_rules_gets_botocores_legacy_endpoint(
    fresh_loader: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore falls back to its legacy endpoints for a service whose model has no endpoint rules (on
    ``UnknownServiceError``): so do the handlers' clients."""
    model = botocore.loaders.Loader().load_service_model("sts", "service-2")
    model["metadata"] |= {"endpointPrefix": "governed", "serviceId": "Governed", "signingName": "governed"}
    (tmp_path / "governed" / "2011-06-15").mkdir(parents=True)
    (tmp_path / "governed" / "2011-06-15" / "service-2.json").write_text(json.dumps(model))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    expected = botocore.session.Session().create_client("governed", "eu-west-1").meta.endpoint_url
    assert aws.client("governed", "eu-west-1").meta.endpoint_url == expected == "https://governed.eu-west-1.amazonaws.com"
