"""Shared test data: the breast-cancer and diabetes datasets that scikit-learn ships, and capture-line builders."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def breast_cancer() -> tuple[list[str], FloatArray]:
    """569 rows x 30 numeric features (bundled with scikit-learn, no download)."""
    from sklearn.datasets import load_breast_cancer  # 2 s of import, paid by the tests that read it, not at collection

    data = load_breast_cancer()
    return [str(n).replace(" ", "_") for n in data.feature_names], np.asarray(data.data, dtype=np.float64)


def diabetes() -> tuple[list[str], FloatArray]:
    """442 rows x 10 features in original units (bundled with scikit-learn)."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    return [str(n) for n in data.feature_names], np.asarray(data.data, dtype=np.float64)


def split(x: FloatArray, seed: int = 7) -> tuple[FloatArray, FloatArray]:
    """A random half/half split of the rows: first half baseline, second half window."""
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2
    return x[order[:half]], x[order[half:]]


def columns(names: list[str], x: FloatArray) -> dict[str, FloatArray]:
    return {name: x[:, i] for i, name in enumerate(names)}


def capture_line(
    data: str,
    *,
    encoding: str = "CSV",
    content_type: str = "text/csv",
    time: str = "2026-11-20T10:00:00Z",
) -> str:
    """One data-capture record as SageMaker writes it (input and output captured)."""
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": encoding},
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8",
                "mode": "OUTPUT",
                "data": "0.93",
                "encoding": "CSV",
            },
        },
        "eventMetadata": {"eventId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "inferenceTime": time},
        "eventVersion": "0",
    }
    return json.dumps(record)


def csv_row(values: FloatArray) -> str:
    return ",".join(repr(float(v)) for v in values)
