"""Build the per-feature drift baseline of the training split; write baseline.json and its digest.

    python baseline.py --data DIR --output DIR

The rows are the training split (pipelines.modeling.split, the rows the model is fitted on,
not the held-out test rows) of the validated data; the features are the model's inputs, in
model-input order (every column but the target). The baseline is drift.baseline's JSON
(quantile bins, summary statistics, a seeded reservoir sample), which needs numpy only; its
metadata names the data's SHA-256 and the split, so the baseline is bound to the data it
describes as the data is bound to the model version.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _paths import ensure_importable

    ensure_importable()

import pandas as pd

from drift.baseline import Baseline, build_baseline
from pipelines.dataset import DATA_FILE, sha256_of
from pipelines.evidence import BASELINE, write_with_digest
from pipelines.modeling import SPLIT_SEED, TEST_FRACTION, features_and_target, split

REPORT_FILE = BASELINE.file


def build(frame: pd.DataFrame, *, data_sha256: str) -> Baseline:
    """The baseline of the training split of ``frame`` (the training data as read from its CSV)."""
    train, _ = split(frame)
    features, _ = features_and_target(train)
    return build_baseline(
        {str(name): features[name].to_numpy() for name in features.columns},
        metadata={
            "training_data_sha256": data_sha256,
            "split": "train",
            "split_seed": str(SPLIT_SEED),
            "test_fraction": str(TEST_FRACTION),
        },
    )


def run(data_dir: Path, output_dir: Path) -> dict[str, object]:
    data_file = data_dir / DATA_FILE
    baseline = build(pd.read_csv(data_file), data_sha256=sha256_of(data_file))
    return write_with_digest(output_dir, BASELINE, baseline.to_json().encode("ascii"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/baseline"))
    args = parser.parse_args(argv)
    digest = run(args.data, args.output)
    print(f"baseline written: {digest['size']} bytes, sha256 {digest['sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
