# mypy: disable-error-code="attr-defined,method-assign"
# (this module patches moto's SageMaker backend and response classes at run time)
"""Where moto 5.2.5 differs from AWS in ways the handlers depend on, fixed on moto's own records for the embedded AWS.

- moto implements StopProcessingJob (status becomes "Stopped", an unknown name is a
  ValidationException) but not StopTrainingJob or StopTransformJob, which the handlers call.
  These two are added with the same rules on moto's own job records.
- moto's UpdateModelPackage resets every field the request leaves out (approval status,
  description, CustomerMetadataProperties). AWS changes only what the request sets and merges
  CustomerMetadataProperties; the replacement below does that.
- moto has no ModelLifeCycle (SageMaker's stage construct: ``UpdateModelPackage(ModelLifeCycle={Stage,
  StageStatus, StageDescription})``, returned by DescribeModelPackage). It is kept on moto's own record of
  the version, as given, and returned by DescribeModelPackage.
- moto has no UpdateEndpoint (the deployer moves an endpoint to a new config) and no inference components:
  UpdateEndpoint is added on moto's own endpoint records (the config must exist, as in AWS), and
  ListInferenceComponents answers with none.
- moto's ListTags/AddTags on an ARN of a resource that does not exist fail with an internal
  error (500); AWS answers ValidationException, which is what the handlers handle. A job
  created without tags has tags None in moto, which also fails ListTags; AWS returns no tags.
- moto evaluates a bucket policy on object calls without its principals and conditions, so every
  conditional Deny of the lineage and audit bucket policies (uploads without SSE-KMS, evidence
  written by anyone but the project's pipeline, records overwritten) denies every call.
  ``leave_bucket_policies_to_the_access_review`` stops moto from applying them: the policies are
  still applied and read back, and who may do what under them is evaluated with AWS's documented
  logic by review/access (docs/access-matrix.md), not by moto.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker import models, responses


def _stopper(store: str, status_field: str, label: str) -> Any:
    def stop(self: Any, name: str) -> None:
        jobs = getattr(self, store)
        if name not in jobs:
            raise models.ValidationError(message=f"Could not find {label} '{name}'.")
        setattr(jobs[name], status_field, "Stopped")

    return stop


def _responder(operation: str, parameter: str) -> Any:
    def respond(self: Any) -> Any:
        getattr(self.sagemaker_backend, operation)(self._get_param(parameter))
        return responses.EmptyResult()

    return respond


def _update_model_package(  # noqa: PLR0917 - the positional signature of moto's SageMakerModelBackend.update_model_package
    self: Any,
    model_package_arn: str,
    model_approval_status: str | None,
    approval_description: str | None,
    customer_metadata_properties: dict[str, str] | None,
    customer_metadata_properties_to_remove: list[str],
    additional_inference_specifications_to_add: list[Any] | None,
) -> str:
    name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
    package = self.model_packages.get(name)
    if package is None:
        raise models.ValidationError(f"Model package {model_package_arn} not found")
    if model_approval_status is not None:
        package.set_model_approval_status(model_approval_status)
    if approval_description is not None:
        package.approval_description = approval_description
    if customer_metadata_properties:
        package.customer_metadata_properties = {**(package.customer_metadata_properties or {}), **customer_metadata_properties}
    package.remove_customer_metadata_property(customer_metadata_properties_to_remove)
    package.add_additional_inference_specifications(additional_inference_specifications_to_add)
    package.modifications_done()
    return str(package.arn)


_original_respond_update_model_package = responses.SageMakerResponse.update_model_package
_original_package_response = models.ModelPackage.gen_response_object


def _respond_update_model_package(self: Any) -> Any:
    result = _original_respond_update_model_package(self)
    life_cycle = self._get_param("ModelLifeCycle")
    if life_cycle:
        arn = self._get_param("ModelPackageArn")
        backend = self.sagemaker_backend
        package = backend.model_packages.get(backend.model_package_name_mapping.get(arn, arn))
        if package is not None:
            package.model_life_cycle = dict(life_cycle)
    return result


def _package_response(self: Any) -> dict[str, Any]:
    response: dict[str, Any] = _original_package_response(self)
    if getattr(self, "model_life_cycle", None):
        response["ModelLifeCycle"] = self.model_life_cycle
    return response


_original_get_resource_from_arn = models.SageMakerModelBackend._get_resource_from_arn


def _get_resource_from_arn(self: Any, arn: str) -> Any:
    resource = _original_get_resource_from_arn(self, arn)
    if resource is None:
        raise models.ValidationError(message=f"Could not find resource {arn}")
    if getattr(resource, "tags", []) is None:
        resource.tags = []
    return resource


def _update_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str) -> str:
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        raise models.ValidationError(message=f"Could not find endpoint '{endpoint_name}'.")
    config = self.describe_endpoint_config(endpoint_config_name)
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
    return str(endpoint.arn)


def _respond_update_endpoint(self: Any) -> Any:
    import json

    arn = self.sagemaker_backend.update_endpoint(self._get_param("EndpointName"), self._get_param("EndpointConfigName"))
    return json.dumps({"EndpointArn": arn})


def _respond_no_inference_components(self: Any) -> Any:
    import json

    return json.dumps({"InferenceComponents": []})


def install_missing_sagemaker_operations() -> None:
    models.SageMakerModelBackend.update_model_package = _update_model_package
    responses.SageMakerResponse.update_model_package = _respond_update_model_package
    models.ModelPackage.gen_response_object = _package_response
    models.SageMakerModelBackend._get_resource_from_arn = _get_resource_from_arn
    backend_cls = models.SageMakerModelBackend
    response_cls = responses.SageMakerResponse
    if not hasattr(backend_cls, "update_endpoint"):
        backend_cls.update_endpoint = _update_endpoint
        response_cls.update_endpoint = _respond_update_endpoint
    if not hasattr(response_cls, "list_inference_components"):
        response_cls.list_inference_components = _respond_no_inference_components
    if not hasattr(backend_cls, "stop_training_job"):
        backend_cls.stop_training_job = _stopper("training_jobs", "training_job_status", "training job")
        response_cls.stop_training_job = _responder("stop_training_job", "TrainingJobName")
    if not hasattr(backend_cls, "stop_transform_job"):
        backend_cls.stop_transform_job = _stopper("transform_jobs", "transform_job_status", "transform job")
        response_cls.stop_transform_job = _responder("stop_transform_job", "TransformJobName")


def leave_bucket_policies_to_the_access_review() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = lambda self, action, resource: PermissionResult.NEUTRAL


def record_user_context(account: str, region: str, package_arn: str, *, created_by: Any, last_modified_by: Any) -> None:
    """Set a model version's CreatedBy / LastModifiedBy (SageMaker UserContext shapes) on moto's record.

    SageMaker records the identity of each caller on the version; moto records one fixed fake user.
    The demo and the tests set the identities SageMaker would have recorded.
    """
    backend = models.sagemaker_backends[account][region]
    package = next(p for p in backend.model_packages.values() if p.arn == package_arn)
    package.created_by = created_by or {}
    package.last_modified_by = last_modified_by
