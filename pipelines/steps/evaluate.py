"""Evaluate the model on the project's holdout; write evaluation.json in SageMaker's model quality format.

    python evaluate.py --model DIR --holdout DIR --output DIR

The holdout (``holdout.csv``, policies.naming.lineage_holdout) is published with the pipeline by its publisher:
the people whose model is judged neither choose, write nor read it, so no choice of training data can make a model
look better than it is on it. Without it the step fails, and nothing is registered. The report names the holdout's
SHA-256 and row count.

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

from pipelines.dataset import sha256_of
from pipelines.evidence import EVALUATION, json_bytes, write_with_digest
from pipelines.modeling import features_and_target
from policies.naming import HOLDOUT_FILE
from policies.rules.metrics import evaluation_report

REPORT_FILE = EVALUATION.file
SECTION = "binary_classification_metrics"


def _load_model(model_dir: Path) -> object:
    archive = model_dir / "model.tar.gz"
    if archive.exists():  # what a SageMaker training job produces
        with tarfile.open(archive) as tar:
            tar.extractall(model_dir, filter="data")
    return joblib.load(model_dir / "model.joblib")


def run(model_dir: Path, holdout_dir: Path, output_dir: Path) -> dict[str, object]:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

    holdout = holdout_dir / HOLDOUT_FILE
    if not holdout.is_file():
        raise SystemExit(
            f"no {HOLDOUT_FILE} in {holdout_dir}: the pipeline's publisher publishes the holdout every model is judged on"
        )
    test = pd.read_csv(holdout)
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
    report = {**evaluation_report(SECTION, metrics), "holdout": {"sha256": sha256_of(holdout), "rows": len(test)}}
    write_with_digest(output_dir, EVALUATION, json_bytes(report))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--holdout", type=Path, default=Path("/opt/ml/processing/input/holdout"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/evaluation"))
    args = parser.parse_args(argv)
    print(json.dumps(run(args.model, args.holdout, args.output), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
