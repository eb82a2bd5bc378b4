"""drift.report: no shift -> no breach; a known shift in named features -> exactly those flagged; small windows
-> insufficient-data.

Thresholds chosen for the shift/no-shift tests (``MONITOR``): PSI breach above 0.25 (the "significant shift" band
of the usual reading < 0.1 stable, 0.1-0.25 moderate, > 0.25 significant), KS and chi-square at a family-wise 0.01
with the Bonferroni correction over the watched features. Why: with about 285 rows per half, sampling noise alone
gives PSI around (bins - 1) * (1/n_baseline + 1/n_window) ~ 0.06 (single features reach 0.15-0.19), and 30
correlated KS tests at 0.01 each flag at least one feature in about 17 % of random splits of this dataset.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from drift.baseline import Baseline, build_baseline
from drift.capture import parse_capture
from drift.report import SCHEMA, DriftSpec, FeatureDrift, FeatureSpec, evaluate_drift
from drift.statistics import ks_2samp
from tests.drift.helpers import breast_cancer, capture_line, columns, csv_row, diabetes, split

SHIFTED = ("mean_radius", "worst_texture", "mean_smoothness")
MONITOR: dict[str, Any] = {"psi_threshold": 0.25, "p_value_correction": "bonferroni", "min_samples": 200}


def halves(seed: int = 7) -> tuple[list[str], Baseline, np.ndarray]:
    names, x = breast_cancer()
    base, window = split(x, seed)
    return names, build_baseline(columns(names, base)), window


def psi_of(feature: FeatureDrift) -> float:
    value = next(c.value for c in feature.checks if c.statistic == "psi")
    assert value is not None
    return value


def ks_p_of(feature: FeatureDrift) -> float:
    value = next(c.p_value for c in feature.checks if c.statistic == "ks")
    assert value is not None
    return value


@pytest.mark.parametrize("seed", range(20))
def test_no_shift_random_split_has_no_breach(seed: int) -> None:
    names, baseline, window = halves(seed)
    report = evaluate_drift(baseline, columns(names, window), DriftSpec.watching(names, **MONITOR))
    assert report.status == "no-drift"
    assert report.breached_features == ()
    assert all(psi_of(f) < 0.25 for f in report.features)  # nothing reads as a significant shift
    assert sum(psi_of(f) < 0.1 for f in report.features) >= 20  # most features read as stable


def test_uncorrected_p_values_raise_false_alarms_on_correlated_features() -> None:
    """Seed 2026 splits the tumour types unevenly: uncorrected, seven correlated features fall below p = 0.01."""
    names, baseline, window = halves(2026)
    report = evaluate_drift(baseline, columns(names, window), DriftSpec.watching(names, min_samples=200))
    assert report.status == "drift" and len(report.breached_features) == 7
    assert all(psi_of(f) < 0.2 for f in report.features)
    corrected = evaluate_drift(baseline, columns(names, window), DriftSpec.watching(names, **MONITOR))
    assert corrected.status == "no-drift"
    check = corrected.features[0].checks[1]
    assert check.threshold == 0.01 and check.effective_threshold == pytest.approx(0.01 / 30)


def test_no_shift_on_diabetes() -> None:
    """442 rows, 10 features, sex as a categorical: no breach on any of 20 random splits."""
    names, x = diabetes()
    for seed in range(20):
        base, window = split(x, seed)
        baseline = build_baseline(columns(names, base), categorical=["sex"])
        data = columns(names, window) | {"sex": window[:, names.index("sex")].astype(str)}
        report = evaluate_drift(baseline, data, DriftSpec.watching(names, **MONITOR))
        assert report.status == "no-drift", (seed, report.breached_features)
        assert [c.statistic for c in report.features[names.index("sex")].checks] == ["psi", "chi2", "missing"]


@pytest.mark.parametrize("seed", range(10))
def test_one_standard_deviation_shift_flags_exactly_the_shifted_features(seed: int) -> None:
    names, baseline, window = halves(seed)
    _, x = breast_cancer()
    shifted = window.copy()
    for name in SHIFTED:
        i = names.index(name)
        shifted[:, i] += x[:, i].std()
    report = evaluate_drift(baseline, columns(names, shifted), DriftSpec.watching(names, **MONITOR))
    assert report.status == "drift"
    assert set(report.breached_features) == set(SHIFTED)
    for feature in report.features:
        if feature.name in SHIFTED:
            assert psi_of(feature) > 0.25  # significant
            assert ks_p_of(feature) < 1e-6
        else:
            assert psi_of(feature) < 0.25 and not feature.breached


def test_end_to_end_from_capture_lines() -> None:
    names, baseline, window = halves()
    _, x = breast_cancer()
    shifted = window.copy()
    for name in SHIFTED:
        shifted[:, names.index(name)] += x[:, names.index(name)].std()
    lines = [capture_line(csv_row(row)) for row in shifted] + ["{broken"]
    capture = parse_capture(["\n".join(lines)], names)
    report = evaluate_drift(Baseline.from_json(baseline.to_json()), capture, DriftSpec.watching(names, **MONITOR))
    assert set(report.breached_features) == set(SHIFTED)
    doc = json.loads(report.to_json())
    assert doc["schema"] == SCHEMA == "ml-governance-drift-report/1"
    assert doc["window"]["skipped_lines"] == 1 and doc["rows"] == len(shifted)
    feature = next(f for f in doc["features"] if f["name"] == "mean_radius")
    assert feature["status"] == "breach" and feature["window_count"] == len(shifted)
    psi, ks, missing = feature["checks"]
    assert psi["statistic"] == "psi" and psi["threshold"] == 0.25 and psi["rule"] == "value > threshold"
    assert ks["statistic"] == "ks" and ks["threshold"] == 0.01 and ks["breached"] is True
    assert ks["method"] == "asymp" and ks["p_value"] < 1e-15  # far below 1e-15 the exact count is skipped
    assert ks["rule"] == "p_value < effective_threshold" and doc["p_value_correction"] == "bonferroni"
    assert missing == {
        "statistic": "missing",
        "value": 0.0,
        "baseline_value": 0.0,
        "threshold": 0.05,
        "breached": False,
        "rule": "value - baseline_value > threshold",
    }


def test_too_few_rows_is_insufficient_data_never_a_pass() -> None:
    names, baseline, window = halves()
    report = evaluate_drift(baseline, columns(names, window[:100]), DriftSpec.watching(names))  # min_samples 500
    assert report.status == "insufficient-data"
    assert set(report.insufficient_features) == set(names)
    assert all(not f.breached and f.window_count == 100 for f in report.features)
    assert all(c.value is not None for f in report.features for c in f.checks)  # statistics still shown

    lines = [capture_line(csv_row(row)) for row in window[:50]]
    from_capture = evaluate_drift(baseline, parse_capture(["\n".join(lines)], names), DriftSpec.watching(names))
    assert from_capture.status == "insufficient-data"


def test_empty_window_reports_no_values() -> None:
    names, baseline, _ = halves()
    report = evaluate_drift(baseline, parse_capture([], names), DriftSpec.watching(names[:2]))
    assert report.status == "insufficient-data"
    doc = json.loads(report.to_json())
    assert doc["features"][0]["checks"][0]["value"] is None and doc["rows"] == 0


def test_drift_outranks_insufficient_features() -> None:
    names, baseline, window = halves()
    data = columns(names, window)
    data["mean_radius"] = data["mean_radius"] + 50.0
    data["mean_texture"] = data["mean_texture"][:10]
    report = evaluate_drift(baseline, data, DriftSpec.watching(["mean_radius", "mean_texture"], min_samples=200))
    assert report.status == "drift"
    assert report.breached_features == ("mean_radius",) and report.insufficient_features == ("mean_texture",)


def test_missing_values_are_counted_apart() -> None:
    names, baseline, window = halves()
    column = window[:, 0].copy()
    column[:20] = np.nan
    report = evaluate_drift(baseline, {names[0]: column}, DriftSpec.watching(names[:1], min_samples=200))
    feature = report.features[0]
    assert feature.window_missing == 20 and feature.window_count == len(column) - 20


def test_categorical_chi_square_and_unseen_categories() -> None:
    rng = np.random.default_rng(1)
    colors = ["red", "green", "blue"]
    baseline = build_baseline({"color": list(rng.choice(colors, 5_000, p=[0.5, 0.3, 0.2]))})
    same = {"color": np.array(rng.choice(colors, 2_000, p=[0.5, 0.3, 0.2]), dtype=object)}
    moved = {"color": np.array(rng.choice(colors, 2_000, p=[0.3, 0.3, 0.4]), dtype=object)}
    unseen = {"color": np.array(list(rng.choice(colors, 1_900, p=[0.5, 0.3, 0.2])) + ["purple"] * 100, dtype=object)}
    spec = DriftSpec.watching(["color"])
    assert evaluate_drift(baseline, same, spec).status == "no-drift"
    assert evaluate_drift(baseline, moved, spec).status == "drift"
    report = evaluate_drift(baseline, unseen, spec)
    chi2 = report.features[0].checks[1]
    assert report.status == "drift" and chi2.statistic == "chi2" and chi2.dof == 3
    assert chi2.p_value is not None and chi2.p_value < 1e-10


def test_per_feature_statistics_and_thresholds() -> None:
    names, baseline, window = halves()
    spec = DriftSpec(
        (
            FeatureSpec("mean_radius", statistics=("psi",), psi_threshold=0.01),
            FeatureSpec("mean_texture", statistics=("ks", "chi2"), ks_p_value=0.5, chi2_p_value=0.001),
        ),
        min_samples=200,
    )
    report = evaluate_drift(baseline, columns(names, window), spec)
    radius, texture = report.features
    assert [c.statistic for c in radius.checks] == ["psi", "missing"] and radius.breached  # any noise exceeds 0.01
    assert [c.statistic for c in texture.checks] == ["ks", "chi2", "missing"]
    assert texture.checks[1].dof == 9


def test_large_window_uses_the_asymptotic_ks_on_the_reservoir() -> None:
    names, x = breast_cancer()
    rng = np.random.default_rng(4)
    big = x[rng.integers(0, len(x), 40_000)]
    baseline = build_baseline(columns(names, big[:20_000]))
    window = big[20_000:]
    report = evaluate_drift(baseline, columns(names, window), DriftSpec.watching(names[:3]))
    ks = report.features[0].checks[1]
    reference = ks_2samp(baseline[names[0]].reservoir, window[:, 0])  # type: ignore[union-attr]
    assert ks.method == "asymp" and ks.value == reference.statistic and ks.p_value == reference.p_value
    assert report.status == "no-drift"


def test_spec_validation() -> None:
    names, baseline, window = halves()
    with pytest.raises(ValueError, match="not in the baseline"):
        evaluate_drift(baseline, columns(names, window), DriftSpec.watching(["nope"]))
    categorical = build_baseline({"c": ["x", "y"] * 10})
    with pytest.raises(ValueError, match="KS test needs a numeric"):
        evaluate_drift(categorical, {"c": np.array(["x"] * 5, dtype=object)}, DriftSpec((FeatureSpec("c", statistics=("ks",)),)))
    with pytest.raises(ValueError, match="subset"):
        FeatureSpec("x", statistics=("mean",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        FeatureSpec("x", ks_p_value=1.5)
    with pytest.raises(ValueError, match="distinct"):
        DriftSpec.watching(["a", "a"])
    with pytest.raises(ValueError, match="min_samples"):
        DriftSpec.watching(["a"], min_samples=0)


def test_a_feature_that_stops_arriving_drifts_even_when_what_arrives_looks_the_same() -> None:
    """Three requests in four no longer send mean_radius (a client change the model imputes over): the values that do
    arrive are the held-out half's own, so only the share of missing values can tell."""
    names, baseline, window = halves()
    gone = window.copy()
    gone[np.arange(len(gone)) % 4 != 0, names.index("mean_radius")] = np.nan
    report = evaluate_drift(baseline, columns(names, gone), DriftSpec.watching(names, **MONITOR | {"min_samples": 100}))
    assert report.status == "drift" and report.breached_features == ("mean_radius",)
    radius = report.features[names.index("mean_radius")]
    missing = next(c for c in radius.checks if c.statistic == "missing")
    assert missing.breached and missing.value == pytest.approx(0.75, abs=0.01) and missing.baseline_value == 0.0
    assert not any(c.breached for c in radius.checks if c.statistic != "missing")  # what arrives has not moved


def test_a_feature_mostly_missing_drifts_even_below_min_samples_of_values() -> None:
    """71 values of 285 requests: too few values to compare, but enough requests to see the feature is gone."""
    names, baseline, window = halves()
    gone = window.copy()
    gone[np.arange(len(gone)) % 4 != 0, names.index("mean_radius")] = np.nan
    report = evaluate_drift(baseline, columns(names, gone), DriftSpec.watching(names, **MONITOR))  # min_samples 200
    radius = report.features[names.index("mean_radius")]
    assert radius.window_count < 200 and radius.status == "breach" and report.status == "drift"


def test_missing_values_within_the_tolerance_do_not_drift() -> None:
    names, baseline, window = halves()
    some = window.copy()
    some[:10, names.index("mean_radius")] = np.nan  # 3.5 % of the window
    report = evaluate_drift(baseline, columns(names, some), DriftSpec.watching(names, **MONITOR))
    assert report.status == "no-drift"
    strict = DriftSpec.watching(names, **MONITOR | {"max_missing_increase": 0.02})
    assert evaluate_drift(baseline, columns(names, some), strict).breached_features == ("mean_radius",)


def test_a_window_mostly_unreadable_is_never_a_pass() -> None:
    """Three requests in four come from a client that appends a field: their lines are skipped, and the rest must not
    certify the window (the skipped ones are shifted, the rest is the held-out half's own traffic)."""
    names, baseline, window = halves()
    _, x = breast_cancer()
    shifted = window.copy()
    for name in SHIFTED:
        shifted[:, names.index(name)] += x[:, names.index(name)].std()
    ordinary = [capture_line(csv_row(row)) for row in window]
    appended = [capture_line(csv_row(row) + ",v2") for row in shifted] * 3
    capture = parse_capture(["\n".join(ordinary + appended)], names)
    report = evaluate_drift(baseline, capture, DriftSpec.watching(names, **MONITOR))
    assert report.status == "unreadable-capture" and report.breached_features == ()
    assert json.loads(report.to_json())["window"]["skip_reasons"] == {"wrong-field-count": 3 * len(shifted)}
    tolerant = DriftSpec.watching(names, **MONITOR | {"max_unreadable_share": 0.95})
    assert evaluate_drift(baseline, capture, tolerant).status == "no-drift"
    one_bad_line = parse_capture(["\n".join([capture_line(csv_row(row)) for row in window] + ["{broken"])], names)
    assert evaluate_drift(baseline, one_bad_line, DriftSpec.watching(names, **MONITOR)).status == "no-drift"  # 1 of 286
