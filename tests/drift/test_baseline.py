"""drift.baseline: construction, the JSON round trip, the reservoir, the CSV reader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift._codec import decode_sorted, encode_sorted
from drift.baseline import (
    OTHER,
    SCHEMA,
    Baseline,
    CategoricalBaseline,
    NumericBaseline,
    Reservoir,
    build_baseline,
    read_csv_columns,
)
from tests.drift.helpers import breast_cancer, columns, diabetes


def numeric(baseline: Baseline, name: str) -> NumericBaseline:
    feature = baseline[name]
    assert isinstance(feature, NumericBaseline)
    return feature


def test_numeric_baseline_on_breast_cancer() -> None:
    names, x = breast_cancer()
    baseline = build_baseline(columns(names, x))
    assert baseline.names == tuple(names)
    radius = numeric(baseline, "mean_radius")
    column = x[:, 0]
    assert radius.count == 569 and radius.missing == 0
    assert radius.minimum == column.min() and radius.maximum == column.max()
    assert radius.mean == pytest.approx(column.mean()) and radius.std == pytest.approx(column.std())
    assert radius.edges[0] == -math.inf and radius.edges[-1] == math.inf
    np.testing.assert_allclose(radius.edges[1:-1], np.quantile(column, np.arange(1, 10) / 10))
    assert radius.bin_counts.sum() == 569
    assert np.all(np.abs(radius.bin_counts - 56.9) <= 3)  # deciles: about a tenth each
    np.testing.assert_array_equal(radius.reservoir, np.sort(column))  # fewer rows than the reservoir holds


def test_round_trip_through_json_is_exact_and_stable() -> None:
    names, x = breast_cancer()
    baseline = build_baseline(
        columns(names, x), reservoir_size=400, metadata={"model_package": "arn:aws:sagemaker:eu-west-1:1:model-package/p/1"}
    )
    text = baseline.to_json()
    doc = json.loads(text)
    assert doc["schema"] == SCHEMA == "ml-governance-drift-baseline/1"
    assert list(doc) == sorted(doc)  # stable key order
    assert doc["features"][0]["bin_edges"][0] == "-inf" and doc["features"][0]["bin_edges"][-1] == "+inf"
    again = Baseline.from_json(text)
    assert again.to_json() == text
    assert again.metadata == baseline.metadata
    for name in names:
        before, after = numeric(baseline, name), numeric(again, name)
        np.testing.assert_array_equal(after.reservoir, before.reservoir)
        np.testing.assert_array_equal(after.edges, before.edges)
        np.testing.assert_array_equal(after.bin_counts, before.bin_counts)
        assert (after.count, after.mean, after.std, after.minimum, after.maximum) == (
            before.count,
            before.mean,
            before.std,
            before.minimum,
            before.maximum,
        )


def test_baseline_size_stays_small() -> None:
    """30 features x 10,000 reservoir values of 4-decimal data stay within a few hundred KB."""
    rng = np.random.default_rng(0)
    names, x = breast_cancer()
    big = {name: np.round(rng.choice(x[:, i], 50_000) * rng.uniform(0.9, 1.1, 50_000), 4) for i, name in enumerate(names)}
    text = build_baseline(big).to_json()
    assert len(text) < 400_000
    assert len(build_baseline(columns(names, x)).to_json()) < 60_000


def test_categorical_baseline_top_n_and_other() -> None:
    values = ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 5 + [None, ""]
    baseline = build_baseline({"color": values}, top_n=2)
    feature = baseline["color"]
    assert isinstance(feature, CategoricalBaseline)
    assert feature.categories == ("a", "b") and feature.counts == (50, 30)
    assert feature.other_count == 20 and feature.count == 100 and feature.missing == 2
    again = Baseline.from_json(baseline.to_json())["color"]
    assert again == feature
    assert OTHER == "__other__"


def test_forced_categorical_and_explicit_edges() -> None:
    names, x = diabetes()
    data = columns(names, x)
    baseline = build_baseline(data, categorical=["sex"], edges={"age": [30.0, 50.0, 70.0]})
    assert isinstance(baseline["sex"], CategoricalBaseline)
    assert set(baseline["sex"].categories) == {"1.0", "2.0"}
    assert numeric(baseline, "age").edges.tolist() == [-math.inf, 30.0, 50.0, 70.0, math.inf]
    with pytest.raises(ValueError, match="strictly increasing"):
        build_baseline(data, edges={"age": [50.0, 30.0]})


def test_missing_values_and_constant_features() -> None:
    baseline = build_baseline({"x": np.array([1.0, np.nan, 3.0, 2.0]), "k": np.full(10, 4.0)})
    assert numeric(baseline, "x").missing == 1 and numeric(baseline, "x").count == 3
    constant = numeric(baseline, "k")
    assert constant.edges.tolist() == [-math.inf, 4.0, math.inf] and constant.bin_counts.tolist() == [0, 10]
    with pytest.raises(ValueError, match="no finite values"):
        build_baseline({"x": np.array([np.nan])})
    with pytest.raises(ValueError, match="'segment' has no values"):  # every later window would have nothing to meet
        build_baseline({"x": np.arange(3.0), "segment": [None, "", None]}, categorical=["segment"])


def test_reservoir_is_bounded_seeded_and_uniform() -> None:
    values = np.arange(100_000, dtype=np.float64)
    first = Reservoir(1_000, seed=42)
    for chunk in np.array_split(values, 7):
        first.extend(chunk)
    second = Reservoir(1_000, seed=42)
    for chunk in np.array_split(values, 7):
        second.extend(chunk)
    sample = first.sorted_sample()
    assert sample.size == 1_000 and len(set(sample.tolist())) == 1_000
    np.testing.assert_array_equal(sample, second.sorted_sample())
    assert not np.array_equal(sample, _sample(values, seed=43))
    # uniform: every tenth of the stream holds about a tenth of the sample
    per_decile = np.bincount((sample // 10_000).astype(int), minlength=10)
    assert per_decile.min() > 60 and per_decile.max() < 140


def _sample(values: np.ndarray, seed: int) -> np.ndarray:
    reservoir = Reservoir(1_000, seed=seed)
    reservoir.extend(values)
    return reservoir.sorted_sample()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=300))
def test_sample_codec_is_lossless(values: list[float]) -> None:
    ordered = np.sort(np.array(values, dtype=np.float64))
    encoded = json.loads(json.dumps(encode_sorted(ordered)))
    assert decode_sorted(encoded).tobytes() == ordered.tobytes()


def test_negative_zero_keeps_its_sign() -> None:
    """Hypothesis found it: the decimal codec scaled -0.0 to the integer 0."""
    ordered = np.array([-1.5, -0.0, 0.0, 2.25])
    assert decode_sorted(json.loads(json.dumps(encode_sorted(ordered)))).tobytes() == ordered.tobytes()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema="ml-governance-drift-baseline/2"), "schema"),
        (lambda d: d["features"][0].update(bin_edges=[0.0, 1.0]), "-inf"),
        (lambda d: d["features"][0]["bin_counts"].append(1), "one non-negative integer per bin"),
        (lambda d: d["features"][0].update(count=1), "add up"),
        (lambda d: d["features"][0]["reservoir"].update(data="!!"), "corrupt"),
        (lambda d: d["features"][0].update(kind="text"), "kind"),
        (lambda d: d["features"].append(d["features"][0]), "distinct"),
        (lambda d: d["features"][0].update(mean=None), "finite number"),
        (
            lambda d: d["features"].append(
                {"name": "k", "kind": "categorical", "count": 0, "missing": 5, "categories": [], "counts": [], "other_count": 0}
            ),
            "count must be positive",
        ),
    ],
)
def test_from_json_rejects_malformed_documents(mutate: object, message: str) -> None:
    doc = json.loads(build_baseline({"x": np.arange(100.0)}).to_json())
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        Baseline.from_json(json.dumps(doc))


def test_read_csv_columns_from_bytes_and_path(tmp_path: Path) -> None:
    content = b"id,age,color,income\n1,34,red,1000.5\n2,,blue,2000\n3,51,red,\n"
    out = read_csv_columns(content, ["age", "income", "color"], categorical=["color"])
    np.testing.assert_array_equal(out["age"], [34.0, np.nan, 51.0])
    np.testing.assert_array_equal(out["income"], [1000.5, 2000.0, np.nan])
    assert out["color"] == ["red", "blue", "red"]
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    assert read_csv_columns(path, ["age"])["age"].tolist()[0] == 34.0  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="lacks columns"):
        read_csv_columns(content, ["height"])
    with pytest.raises(ValueError, match="row 2 column 'color'"):
        read_csv_columns(content, ["color"])


def test_csv_to_baseline_pipeline(tmp_path: Path) -> None:
    names, x = diabetes()
    lines = [",".join(names)] + [",".join(f"{v:g}" for v in row) for row in x]
    data = read_csv_columns("\n".join(lines).encode(), names)
    baseline = build_baseline(data)
    assert numeric(baseline, "bmi").count == 442
    assert json.loads(baseline.to_json())["features"][2]["reservoir"]["codec"] == "decimal-delta-zlib"
