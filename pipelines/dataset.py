"""The sample training data: scikit-learn's bundled Wisconsin breast cancer dataset.

569 rows, 30 numeric features and a binary target; it ships inside scikit-learn, so the
template runs anywhere without downloads. Replace ``load`` with your project's data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

TARGET = "target"
DATA_FILE = "train.csv"


def load() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    return frame


def write(directory: Path, frame: pd.DataFrame | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DATA_FILE
    (load() if frame is None else frame).to_csv(path, index=False)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
