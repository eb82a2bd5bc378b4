"""The data contract of the training data, as a Great Expectations 1.x suite built in code.

Schema (columns, in order), types, no nulls, value ranges per feature, label values and row
counts. The suite is versioned with the project: change it here, in review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

SUITE_NAME = "training-data-contract"
MIN_ROWS, MAX_ROWS = 300, 1_000_000

# Plausible physical ranges of each feature (all measurements are non-negative).
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "mean_radius": (0.0, 50.0),
    "mean_texture": (0.0, 60.0),
    "mean_perimeter": (0.0, 300.0),
    "mean_area": (0.0, 5000.0),
    "mean_smoothness": (0.0, 0.5),
    "mean_compactness": (0.0, 1.0),
    "mean_concavity": (0.0, 1.0),
    "mean_concave_points": (0.0, 0.5),
    "mean_symmetry": (0.0, 0.6),
    "mean_fractal_dimension": (0.0, 0.2),
    "radius_error": (0.0, 5.0),
    "texture_error": (0.0, 10.0),
    "perimeter_error": (0.0, 40.0),
    "area_error": (0.0, 1000.0),
    "smoothness_error": (0.0, 0.1),
    "compactness_error": (0.0, 0.3),
    "concavity_error": (0.0, 1.0),
    "concave_points_error": (0.0, 0.1),
    "symmetry_error": (0.0, 0.2),
    "fractal_dimension_error": (0.0, 0.05),
    "worst_radius": (0.0, 60.0),
    "worst_texture": (0.0, 80.0),
    "worst_perimeter": (0.0, 400.0),
    "worst_area": (0.0, 8000.0),
    "worst_smoothness": (0.0, 0.5),
    "worst_compactness": (0.0, 2.0),
    "worst_concavity": (0.0, 2.0),
    "worst_concave_points": (0.0, 0.5),
    "worst_symmetry": (0.0, 1.0),
    "worst_fractal_dimension": (0.0, 0.5),
}
TARGET = "target"
COLUMNS = [*FEATURE_RANGES, TARGET]


def build_suite() -> Any:
    import importlib

    import great_expectations as gx

    gxe: Any = importlib.import_module("great_expectations.expectations")
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    suite.add_expectation(gxe.ExpectTableColumnsToMatchOrderedList(column_list=COLUMNS))
    suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=MIN_ROWS, max_value=MAX_ROWS))
    for column, (low, high) in FEATURE_RANGES.items():
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
        suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(column=column, type_="float64"))
        suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=TARGET))
    suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(column=TARGET, type_="int64"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=TARGET, value_set=[0, 1]))
    return suite


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    detail: str

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        return f"{self.expectation}{where}: {self.detail}"


@dataclass(frozen=True)
class ValidationReport:
    success: bool
    evaluated: int
    failures: tuple[Failure, ...]
    suite: str = SUITE_NAME

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "success": self.success,
            "evaluated_expectations": self.evaluated,
            "failed_expectations": [
                {"expectation": f.expectation, "column": f.column, "detail": f.detail} for f in self.failures
            ],
        }


def _detail(result: Any) -> str:
    info = result.result or {}
    parts = []
    for key in ("observed_value", "unexpected_count", "partial_unexpected_list", "details"):
        if info.get(key) not in (None, [], {}):
            parts.append(f"{key}={info[key]}")
    if result.exception_info and result.exception_info.get("raised_exception"):
        parts.append(f"error={result.exception_info.get('exception_message')}")
    return ", ".join(parts) or "failed"


def validate(frame: pd.DataFrame) -> ValidationReport:
    """Run the suite on a dataframe with an ephemeral Great Expectations context (no files, no network)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_pandas("training")
    batch_definition = source.add_dataframe_asset("training-data").add_batch_definition_whole_dataframe("all-rows")
    suite = context.suites.add(build_suite())
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
    failures = tuple(
        Failure(r.expectation_config.type, r.expectation_config.kwargs.get("column"), _detail(r))
        for r in result.results
        if not r.success and r.expectation_config is not None
    )
    return ValidationReport(success=bool(result.success), evaluated=len(result.results), failures=failures)
