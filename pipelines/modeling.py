"""The model and the train/test split the train and evaluate steps share."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.dataset import TARGET

TEST_FRACTION = 0.25
SPLIT_SEED = 20261124


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic stratified split: the same rows are test rows in every step and every run."""
    rng = np.random.default_rng(SPLIT_SEED)
    test_index: list[int] = []
    for _, group in frame.groupby(TARGET):
        chosen = rng.choice(group.index.to_numpy(), size=round(len(group) * TEST_FRACTION), replace=False)
        test_index.extend(int(i) for i in chosen)
    test = frame.loc[sorted(test_index)]
    return frame.drop(index=test.index), test


def features_and_target(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    return frame.drop(columns=[TARGET]), frame[TARGET]


def build_model() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5))
