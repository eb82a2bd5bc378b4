"""Projects and what the policy says about each: metric thresholds, monitored endpoints."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from policies.model.base import ENDPOINT_NAME, INSTANCE_TYPE, S3_URI, SAGEMAKER_MONITORING_CRON, SLUG, _check_tag_text, _Strict
from policies.model.sections import _metric_names
from policies.reading import ThresholdReading
from policies.terms import DriftOnBreach, MonitoringEngine


class MetricThreshold(_Strict, ThresholdReading):
    minimum: float | None = None
    """Lowest value of the metric a model version may report and still be approved."""
    maximum: float | None = None
    """Highest value of the metric a model version may report and still be approved."""

    @model_validator(mode="after")
    def _bounded(self) -> MetricThreshold:
        if self.minimum is None and self.maximum is None:
            raise ValueError("give a minimum, a maximum, or both")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is greater than maximum {self.maximum}")
        return self


class DriftSettings(_Strict):
    """How the drift job judges an endpoint's captured traffic against the baseline of the version it serves."""

    features: list[str] = Field(default_factory=list)
    """Features to watch; empty watches every feature of the baseline."""
    psi_threshold: Annotated[float, Field(gt=0, le=10)] = 0.2
    """A feature drifts when its population stability index exceeds this (0.1 to 0.25 is moderate shift, above 0.25 significant)."""
    ks_p_value: Annotated[float, Field(gt=0, lt=1)] = 0.01
    """A numeric feature drifts when the two-sample Kolmogorov-Smirnov test's p-value is below this."""
    chi2_p_value: Annotated[float, Field(gt=0, lt=1)] = 0.01
    """A categorical feature drifts when the chi-square test's p-value is below this."""
    max_missing_increase: Annotated[float, Field(ge=0, le=1)] = 0.05
    """A feature drifts when its share of missing values in the window exceeds the baseline's by more than this (0.05:
    five percentage points): a feature that stops arriving changes what the model sees, however the rest looks."""
    max_unreadable_share: Annotated[float, Field(ge=0, le=1)] = 0.01
    """A window whose share of captured lines that cannot be read as the baseline's features exceeds this is never a
    pass (undecidable): traffic the job cannot read is traffic it has not judged."""
    min_samples: Annotated[int, Field(ge=30, le=10_000_000)] = 500
    """Fewer captured rows in the window give 'insufficient data', never a silent pass."""
    window_hours: Annotated[int, Field(ge=1, le=168)] = 24
    """Hours of captured traffic each run reads."""
    on_breach: Annotated[DriftOnBreach, Field(strict=False)] = DriftOnBreach.NOTIFY
    """'notify' alerts; 'quarantine' also sets the drifting version back to PendingManualApproval (when
    enforcement.approval_gate is enforce), which revokes its endpoint's clearance."""

    @field_validator("features")
    @classmethod
    def _distinct_features(cls, value: list[str]) -> list[str]:
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once; list each feature once")
        return value


class MonitoredEndpoint(_Strict):
    name: Annotated[str, Field(pattern=ENDPOINT_NAME)]
    """Name of the SageMaker endpoint (created by the project's deployment; data capture on)."""
    schedule: str = "cron(0 * ? * * *)"
    """When the endpoint is checked (the drift job's schedule, or Model Monitor's): hourly 'cron(0 * ? * * *)', daily
    'cron(0 H ? * * *)' or every N hours 'cron(0 H/N ? * * *)'."""
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE)] = "ml.m5.xlarge"
    """Instance type of the Model Monitor job (engine model-monitor)."""
    max_runtime_seconds: Annotated[int, Field(ge=1, le=3600)] = 3600
    """Seconds a monitoring run may take before SageMaker stops it (at most one hour)."""
    engine: Annotated[MonitoringEngine, Field(strict=False)] = MonitoringEngine.DRIFT_JOB
    """'drift-job' (default): the blueprint's own scheduled drift job, in every account; 'model-monitor': SageMaker
    Model Monitor data-quality schedules, for accounts that still have it (closed to new customers)."""
    drift: DriftSettings = Field(default_factory=DriftSettings)
    """Statistics, thresholds and what a breach does (drift-job engine)."""
    baseline_uri: Annotated[str, Field(pattern=S3_URI)] | None = None
    """S3 prefix holding the baseline constraints.json and statistics.json (from a baselining job)."""

    @field_validator("schedule")
    @classmethod
    def _sagemaker_cron(cls, value: str) -> str:
        if not re.match(SAGEMAKER_MONITORING_CRON, value):
            raise ValueError(
                f"{value!r} is not a schedule SageMaker Model Monitor accepts; use 'cron(0 * ? * * *)' (hourly), "
                "'cron(0 H ? * * *)' (daily at hour H) or 'cron(0 H/N ? * * *)' (every N hours from hour H)"
            )
        return value


class Project(_Strict):
    name: Annotated[str, Field(pattern=SLUG, min_length=2, max_length=40)]
    """Project name; also the name of its model package group."""
    owner_team: Annotated[str, Field(min_length=1, max_length=128)]
    """Team that owns the project's models (the owner-team tag on its resources)."""
    classification: str
    """Data-classification level of the project's data and models; one of classification.levels."""
    metric_thresholds: dict[str, MetricThreshold] = Field(default_factory=dict)
    """Metric bounds a model version must meet to be approved (added to approval.metric_minimums)."""
    endpoints: list[MonitoredEndpoint] = Field(default_factory=list)
    """Endpoints the project serves: deployed only by the model deployer, monitored for drift by their engine."""

    @field_validator("owner_team")
    @classmethod
    def _team_tag_value(cls, value: str) -> str:
        return _check_tag_text(value, "owner_team", 128)

    @field_validator("metric_thresholds")
    @classmethod
    def _metric_names(cls, values: dict[str, MetricThreshold]) -> dict[str, MetricThreshold]:
        _metric_names(dict(values))
        return values
