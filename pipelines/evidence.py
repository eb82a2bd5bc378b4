"""The evidence a pipeline run leaves in its run prefix, and the digests that bind it to a model version.

    projects/<project>/runs/<execution id>/
        data/train.csv                                   the validated training data (a copy of the input)
        validation/validation.json  validation/digest.json
        evaluation/evaluation.json  evaluation/digest.json
        baseline/baseline.json      baseline/digest.json

Each directory is one processing output. A report cannot carry its own hash, so the step that
writes it also writes ``digest.json``: ``{"file": ..., "sha256": ..., "size": ...}`` of the
report's exact bytes. The RegisterModel step reads the digests with ``JsonGet`` into the model
version's metadata; S3 version ids are unknown inside a pipeline definition, so the hashes are
the binding: a report edited after registration, or swapped for another run's or another
project's, no longer matches.

Part of the code bundle (the step scripts import it): standard library only.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIGEST_FILE = "digest.json"


@dataclass(frozen=True)
class Evidence:
    """One processing output of a run: a directory under the run prefix and the file it holds."""

    output: str
    file: str

    @property
    def key(self) -> str:
        """The file's key relative to the run prefix."""
        return f"{self.output}/{self.file}"

    @property
    def digest_key(self) -> str:
        return f"{self.output}/{DIGEST_FILE}"


DATA = Evidence("data", "train.csv")  # pipelines.dataset.DATA_FILE
VALIDATION = Evidence("validation", "validation.json")
EVALUATION = Evidence("evaluation", "evaluation.json")
BASELINE = Evidence("baseline", "baseline.json")
DIGESTED: tuple[Evidence, ...] = (VALIDATION, EVALUATION, BASELINE)
"""The outputs written with a digest.json beside them (the data's hash is in the validation report)."""


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def json_bytes(document: Any) -> bytes:
    """A report's bytes: sorted keys, indented, ASCII (the same bytes on every platform)."""
    return json.dumps(document, indent=2, sort_keys=True, allow_nan=False).encode("ascii")


def write_with_digest(directory: Path, evidence: Evidence, body: bytes) -> dict[str, Any]:
    """Write ``body`` as ``evidence.file`` in ``directory`` and its digest beside it; return the digest."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / evidence.file).write_bytes(body)
    digest = {"file": evidence.file, "sha256": sha256_hex(body), "size": len(body)}
    (directory / DIGEST_FILE).write_bytes(json_bytes(digest))
    return digest


def read_digest(directory: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((directory / DIGEST_FILE).read_bytes())
    return document


def copy_data(source: Path, directory: Path) -> Path:
    """Copy the input training data byte for byte into the run's ``data`` output; return the copy."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / DATA.file
    shutil.copyfile(source, target)
    return target
