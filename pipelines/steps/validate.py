"""Validate the training data against the data contract; write the report the pipeline checks.

    python validate.py --data DIR --output DIR

The report (validation.json) carries the result, every failed expectation, the data's
SHA-256 and row count. The step always writes it; the pipeline's DataContract condition
stops the run before training when ``success`` is false, so the report of a failed
validation is stored in the lineage bucket too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _paths import ensure_importable, ensure_requirements

    ensure_importable()
    ensure_requirements("great_expectations")

import pandas as pd

from pipelines.dataset import DATA_FILE, sha256_of
from pipelines.expectations import validate

REPORT_FILE = "validation.json"


def run(data_dir: Path, output_dir: Path) -> dict[str, object]:
    data_file = data_dir / DATA_FILE
    frame = pd.read_csv(data_file)
    report = validate(frame).to_json()
    report.update(data_sha256=sha256_of(data_file), rows=len(frame))
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / REPORT_FILE).write_text(json.dumps(report, indent=2, sort_keys=True))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/validation"))
    args = parser.parse_args(argv)
    report = run(args.data, args.output)
    failures: list[dict[str, object]] = report["failed_expectations"]  # type: ignore[assignment]
    for failure in failures:
        print(f"FAILED {failure['expectation']} column={failure['column']}: {failure['detail']}")
    print(f"data contract {'met' if report['success'] else 'VIOLATED'}: {report['evaluated_expectations']} expectations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
