"""Evaluate the model on the test split; write evaluation.json in SageMaker's model quality format.

    python evaluate.py --model DIR --data DIR --output DIR

The approval gate reads this file (ModelMetrics.ModelQuality.Statistics) with the same
function that writes it: policies.rules.metrics. digest.json beside it holds the SHA-256 of
its exact bytes (pipelines.evidence), which the model version records.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _paths import ensure_importable

    ensure_importable()

import joblib
import pandas as pd

from pipelines.dataset import DATA_FILE
from pipelines.evidence import EVALUATION, json_bytes, write_with_digest
from pipelines.modeling import features_and_target, split
from policies.rules.metrics import evaluation_report

REPORT_FILE = EVALUATION.file
SECTION = "binary_classification_metrics"


def _load_model(model_dir: Path) -> object:
    archive = model_dir / "model.tar.gz"
    if archive.exists():  # what a SageMaker training job produces
        with tarfile.open(archive) as tar:
            tar.extractall(model_dir, filter="data")
    return joblib.load(model_dir / "model.joblib")


def run(model_dir: Path, data_dir: Path, output_dir: Path) -> dict[str, object]:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    _, test = split(pd.read_csv(data_dir / DATA_FILE))
    features, target = features_and_target(test)
    model = _load_model(model_dir)
    scores = model.predict_proba(features)[:, 1]  # type: ignore[attr-defined]
    predicted = (scores >= 0.5).astype(int)
    metrics = {
        "auc": float(roc_auc_score(target, scores)),
        "accuracy": float(accuracy_score(target, predicted)),
        "f1": float(f1_score(target, predicted)),
        "precision": float(precision_score(target, predicted)),
        "recall": float(recall_score(target, predicted)),
    }
    report = evaluation_report(SECTION, metrics)
    write_with_digest(output_dir, EVALUATION, json_bytes(report))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--data", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/evaluation"))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.model, args.data, args.output), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
