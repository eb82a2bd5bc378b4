"""Run the pipeline's scripts locally on the bundled dataset: the artifacts SageMaker would produce.

``workdir`` is laid out like a run's prefix in the lineage bucket (pipelines.evidence), plus the
input and the model:

    input/train.csv                     the input data (the pipeline's TrainingDataUri)
    holdout/holdout.csv                 the holdout Evaluate judges on (what the publisher publishes; here the
                                        bundled dataset's test split, pipelines.modeling.split)
    data/train.csv                      the validated copy the later steps read
    validation/  evaluation/  baseline/ each report with its digest.json
    model/model.joblib

Upload ``LocalRun.artifacts()`` under a run prefix and register with ``local_registration(...)``:
the model version then carries exactly the metadata the pipeline's RegisterModel step writes.
Pure: no AWS calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines import dataset
from pipelines.evidence import BASELINE, DATA, DIGESTED, EVALUATION, VALIDATION, Evidence, read_digest
from pipelines.modeling import split
from pipelines.registration import DIGEST_SHA256_FIELD, TRAINING_DATA_SHA256_FIELD, customer_metadata, model_metrics
from pipelines.steps import baseline, evaluate, train, validate
from policies.model import Project
from policies.naming import HOLDOUT_FILE

INPUT_DIR = "input"
MODEL_DIR = "model"
HOLDOUT_DIR = "holdout"


@dataclass(frozen=True)
class LocalRun:
    workdir: Path
    validation: dict[str, Any]
    model_file: Path | None

    @property
    def data_file(self) -> Path:
        """The validated copy of the training data (what the version names and the gate reads)."""
        return self.path(DATA)

    @property
    def succeeded(self) -> bool:
        """Whether the data contract held, so the model was trained, evaluated and baselined."""
        return self.model_file is not None

    @property
    def evaluation_file(self) -> Path | None:
        return self.path(EVALUATION) if self.succeeded else None

    @property
    def baseline_file(self) -> Path | None:
        return self.path(BASELINE) if self.succeeded else None

    @property
    def evaluation(self) -> dict[str, Any] | None:
        return json.loads(self.evaluation_file.read_bytes()) if self.evaluation_file else None

    def path(self, evidence: Evidence) -> Path:
        return self.workdir / evidence.output / evidence.file

    def digest(self, evidence: Evidence) -> dict[str, Any]:
        """The digest.json a step wrote beside its report."""
        return read_digest(self.workdir / evidence.output)

    def artifacts(self) -> dict[str, Path]:
        """What the pipeline leaves in the run prefix: key relative to the prefix -> local file."""
        written = DIGESTED if self.succeeded else (VALIDATION,)
        files = {DATA.key: self.path(DATA)}
        for evidence in written:
            files[evidence.key] = self.path(evidence)
            files[evidence.digest_key] = self.workdir / evidence.digest_key
        return files


def write_sample_holdout(directory: Path) -> Path:
    """The template's holdout: the bundled dataset's test split. A project's publisher publishes data of its own,
    which its data scientists never see."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / HOLDOUT_FILE
    split(dataset.load())[1].to_csv(path, index=False)
    return path


def run_locally(workdir: Path, frame: Any = None) -> LocalRun:
    """validate -> (stop if the data contract fails) -> train, evaluate on the holdout, baseline, in ``workdir``."""
    source = workdir / INPUT_DIR
    dataset.write(source, frame)
    write_sample_holdout(workdir / HOLDOUT_DIR)
    data_dir = workdir / DATA.output
    report = validate.run(source, workdir / VALIDATION.output, data_dir)
    if not report["success"]:
        return LocalRun(workdir, report, None)
    model_file = train.run(data_dir, workdir / MODEL_DIR)
    evaluate.run(workdir / MODEL_DIR, workdir / HOLDOUT_DIR, workdir / EVALUATION.output)
    baseline.run(data_dir, workdir / BASELINE.output)
    return LocalRun(workdir, report, model_file)


@dataclass(frozen=True)
class Registration:
    """The parts of a CreateModelPackage request that carry a version's evidence."""

    customer_metadata_properties: dict[str, str]
    model_metrics: dict[str, Any]
    metadata_properties: dict[str, str] = field(default_factory=dict)


def local_registration(
    run: LocalRun, project: Project, *, run_uri: str, code_version: str, execution_arn: str | None = None
) -> Registration:
    """What the pipeline's RegisterModel step would send for this run, its artifacts uploaded under ``run_uri``.

    ``run_uri`` is the run prefix (``pipelines.registration.run_prefix_uri``), under which each of
    ``run.artifacts()`` is uploaded at its key; ``code_version`` is the source bundle's
    (``pipelines.bundle.source_bundle().version``); ``execution_arn`` stands in for the pipeline
    execution's (MetadataProperties.GeneratedBy). The hashes are read from the digest files, as
    the pipeline's JsonGet reads them.
    """
    if not run.succeeded:
        raise ValueError("the data contract failed: the pipeline registers no model version for this run")
    prefix = run_uri.rstrip("/")
    metadata = customer_metadata(
        uri=lambda evidence: f"{prefix}/{evidence.key}",
        sha256=lambda evidence: str(run.digest(evidence)[DIGEST_SHA256_FIELD]),
        training_data_sha256=str(json.loads(run.path(VALIDATION).read_bytes())[TRAINING_DATA_SHA256_FIELD]),
        code_version=code_version,
        classification=project.classification,
    )
    return Registration(
        customer_metadata_properties=metadata,
        model_metrics=model_metrics(f"{prefix}/{EVALUATION.key}"),
        metadata_properties={"GeneratedBy": execution_arn} if execution_arn else {},
    )
