"""The Great Expectations data contract passes on the clean dataset and names what broke on corrupted copies."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines import dataset
from pipelines.expectations import COLUMNS, validate


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return dataset.load()


def test_clean_dataset_meets_the_contract(clean: pd.DataFrame) -> None:
    report = validate(clean)
    assert report.success, [f.describe() for f in report.failures]
    assert report.evaluated == 2 + 3 * 30 + 3
    assert list(clean.columns) == COLUMNS


def failed(frame: pd.DataFrame) -> set[tuple[str, str | None]]:
    report = validate(frame)
    assert not report.success
    return {(f.expectation, f.column) for f in report.failures}


def test_nulls_are_caught(clean: pd.DataFrame) -> None:
    corrupted = clean.copy()
    corrupted.loc[[3, 40], "mean_radius"] = None
    assert failed(corrupted) == {("expect_column_values_to_not_be_null", "mean_radius")}


def test_out_of_range_values_are_caught(clean: pd.DataFrame) -> None:
    corrupted = clean.copy()
    corrupted.loc[7, "worst_area"] = 99_999.0
    corrupted.loc[8, "mean_smoothness"] = -0.2
    assert failed(corrupted) == {
        ("expect_column_values_to_be_between", "worst_area"),
        ("expect_column_values_to_be_between", "mean_smoothness"),
    }


def test_a_missing_column_is_caught(clean: pd.DataFrame) -> None:
    found = failed(clean.drop(columns=["mean_texture"]))
    assert ("expect_table_columns_to_match_ordered_list", None) in found
    assert {column for _, column in found} <= {None, "mean_texture"}


def test_a_wrong_type_is_caught(clean: pd.DataFrame) -> None:
    corrupted = clean.copy()
    corrupted["target"] = corrupted["target"].map({0: "benign", 1: "malignant"})
    found = failed(corrupted)
    assert ("expect_column_values_to_be_of_type", "target") in found
    assert ("expect_column_values_to_be_in_set", "target") in found


def test_too_few_rows_are_caught(clean: pd.DataFrame) -> None:
    assert failed(clean.head(100)) == {("expect_table_row_count_to_be_between", None)}


def test_failure_report_names_the_expectation(clean: pd.DataFrame) -> None:
    corrupted = clean.copy()
    corrupted.loc[3, "mean_radius"] = None
    (failure,) = validate(corrupted).failures
    assert failure.describe().startswith("expect_column_values_to_not_be_null on column 'mean_radius': unexpected_count=1")
