"""Validate the training data against the data contract; write the report the pipeline checks.

    python validate.py --data DIR --output DIR --data-output DIR

The step first copies the input ``train.csv`` byte for byte to ``--data-output`` (the run's
``data`` output): the later steps read that copy, and the model version names it, so the
bytes validated, trained on, baselined and hashed are the bytes the approval gate reads, even
after the input location is overwritten by newer data.

The report (validation.json) carries the result, every failed expectation, the copy's
SHA-256 and row count; digest.json beside it holds the report's own SHA-256
(pipelines.evidence). The step always writes both; the pipeline's DataContract condition
stops the run before training when ``success`` is false, so the report of a failed
validation is stored in the lineage bucket too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _paths import ensure_importable, ensure_requirements

    ensure_importable()
    ensure_requirements("great_expectations")

import pandas as pd

from pipelines.dataset import DATA_FILE, sha256_of
from pipelines.evidence import VALIDATION, copy_data, json_bytes, write_with_digest
from pipelines.expectations import validate

REPORT_FILE = VALIDATION.file


def run(data_dir: Path, output_dir: Path, data_output_dir: Path) -> dict[str, object]:
    data_file = copy_data(data_dir / DATA_FILE, data_output_dir)
    frame = pd.read_csv(data_file)
    report = validate(frame).to_json()
    report.update(data_sha256=sha256_of(data_file), rows=len(frame))
    write_with_digest(output_dir, VALIDATION, json_bytes(report))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("/opt/ml/processing/input/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/validation"))
    parser.add_argument("--data-output", type=Path, default=Path("/opt/ml/processing/data"))
    args = parser.parse_args(argv)
    report = run(args.data, args.output, args.data_output)
    failures: list[dict[str, object]] = report["failed_expectations"]  # type: ignore[assignment]
    for failure in failures:
        print(f"FAILED {failure['expectation']} column={failure['column']}: {failure['detail']}")
    print(f"data contract {'met' if report['success'] else 'VIOLATED'}: {report['evaluated_expectations']} expectations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
