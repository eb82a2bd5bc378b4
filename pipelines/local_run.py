"""Run the pipeline's scripts locally on the bundled dataset: the artifacts SageMaker would produce."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import dataset
from pipelines.steps import evaluate, train, validate


@dataclass(frozen=True)
class LocalRun:
    data_file: Path
    validation: dict[str, Any]
    model_file: Path | None
    evaluation_file: Path | None

    @property
    def evaluation(self) -> dict[str, Any] | None:
        return json.loads(self.evaluation_file.read_text()) if self.evaluation_file else None


def run_locally(workdir: Path, frame: Any = None) -> LocalRun:
    """validate -> (stop if the data contract fails) -> train -> evaluate, in ``workdir``."""
    data_dir = workdir / "data"
    data_file = dataset.write(data_dir, frame)
    report = validate.run(data_dir, workdir / "validation")
    if not report["success"]:
        return LocalRun(data_file, report, None, None)
    model_file = train.run(data_dir, workdir / "model")
    evaluate.run(workdir / "model", data_dir, workdir / "evaluation")
    return LocalRun(data_file, report, model_file, workdir / "evaluation" / evaluate.REPORT_FILE)
