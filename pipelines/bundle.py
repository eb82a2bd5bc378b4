"""The source bundle the pipeline's jobs run: the step scripts and the modules they import.

It is content-addressed: its version is the SHA-256 of the files, so the code version a model
version records in its lineage names exactly the code that produced it, and an uploaded
bundle is never overwritten.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Closed under imports (tests/pipelines/test_bundle.py): what the step scripts import from this
# repository, and nothing that needs more than the container has (numpy, pandas, scikit-learn,
# joblib) or the requirements file installs (Great Expectations, validation step only).
BUNDLE_FILES: tuple[str, ...] = (
    "pipelines/__init__.py",
    "pipelines/dataset.py",
    "pipelines/evidence.py",
    "pipelines/expectations.py",
    "pipelines/modeling.py",
    "pipelines/steps/__init__.py",
    "pipelines/steps/_paths.py",
    "pipelines/steps/validate.py",
    "pipelines/steps/train.py",
    "pipelines/steps/evaluate.py",
    "pipelines/steps/baseline.py",
    "pipelines/steps/requirements.txt",
    "policies/__init__.py",
    "policies/naming.py",
    "policies/rules/__init__.py",
    "policies/rules/metrics.py",
    # the drift baseline (numpy only): drift.baseline and what it imports
    "drift/__init__.py",
    "drift/baseline.py",
    "drift/_baseline_json.py",
    "drift/_codec.py",
    "drift/statistics.py",
    "drift/_kolmogorov.py",
    "drift/_smirnov_exact.py",
)


@dataclass(frozen=True)
class SourceBundle:
    files: dict[str, bytes]

    @property
    def version(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name] + b"\0")
        return digest.hexdigest()[:16]


def source_bundle(root: Path = REPO) -> SourceBundle:
    return SourceBundle({name: (root / name).read_bytes() for name in BUNDLE_FILES})


def code_prefix(lineage_bucket: str, project: str, version: str) -> str:
    """Where a bundle version lives: one immutable prefix per content hash."""
    return f"s3://{lineage_bucket}/projects/{project}/code/{version}/"
