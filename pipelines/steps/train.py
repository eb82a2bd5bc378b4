"""Train the model on the training split.

python train.py --data DIR --model-dir DIR      (SageMaker: SM_CHANNEL_TRAIN, SM_MODEL_DIR)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _paths import ensure_importable

    ensure_importable()

import joblib
import pandas as pd

from pipelines.dataset import DATA_FILE
from pipelines.modeling import build_model, features_and_target, split

MODEL_FILE = "model.joblib"


def run(data_dir: Path, model_dir: Path) -> Path:
    train, _ = split(pd.read_csv(data_dir / DATA_FILE))
    features, target = features_and_target(train)
    model = build_model().fit(features, target)
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_FILE
    joblib.dump(model, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")))
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")))
    args = parser.parse_args(argv)
    print(f"model written to {run(args.data, args.model_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
