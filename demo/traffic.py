"""Traffic for a deployed endpoint as SageMaker data capture writes it, so the drift monitor has something to judge.

The requests are the bundled dataset's rows in a random order (the population the model was trained
and tested on); a shifted window moves three features by one training standard deviation, the kind
of change a new upstream source or a unit change produces.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

SHIFTED_FEATURES = ("mean_radius", "mean_concave_points", "worst_radius")


def requests(*, shifted: bool, seed: int = 11) -> list[list[float]]:
    """Every row of the dataset's features once, in a random order, optionally shifted."""
    import numpy as np

    from pipelines import dataset
    from pipelines.modeling import features_and_target, split

    frame = dataset.load()
    features, _ = features_and_target(frame)
    rows = features.to_numpy(dtype=float)[np.random.default_rng(seed).permutation(len(frame))]
    if shifted:
        train, _ = features_and_target(split(frame)[0])
        for name in SHIFTED_FEATURES:
            rows[:, list(features.columns).index(name)] += float(train[name].std())
    return [list(map(float, row)) for row in rows]


def capture_record(row: list[float], at: datetime) -> str:
    """One SageMaker data-capture line: a one-row CSV request and the model's score."""
    record: dict[str, Any] = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": ",".join(repr(v) for v in row),
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8",
                "mode": "OUTPUT",
                "data": "0.5",
                "encoding": "CSV",
            },
        },
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "eventVersion": "0",
    }
    return json.dumps(record)


def capture_files(prefix: str, endpoint: str, variant: str, rows: list[list[float]], *, before: datetime) -> dict[str, str]:
    """The files SageMaker would write under ``prefix`` for these requests, spread over the 3 hours before ``before``:
    ``<prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``."""
    files: dict[str, list[str]] = {}
    for i, row in enumerate(rows):
        at = before - timedelta(hours=1 + i % 3, seconds=i)
        key = f"{prefix}/{endpoint}/{variant}/{at:%Y/%m/%d/%H}/{at:%M}-capture.jsonl"
        files.setdefault(key, []).append(capture_record(row, at))
    return {key: "\n".join(lines) + "\n" for key, lines in files.items()}
