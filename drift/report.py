"""Compare a capture window with a baseline: ``evaluate_drift(baseline, window, spec) -> DriftReport`` (no I/O).

Default thresholds: a feature breaches when PSI > 0.2, or the KS or chi-square p-value is below 0.01. The common
PSI reading (credit-risk practice, e.g. Alibaba Cloud PAI and MathWorks Risk Management documentation) is
< 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift; 0.2 flags the upper part of the moderate band.
Under no drift PSI is about (bins - 1) * (1/n_baseline + 1/n_window) on average (0.04 for 10 bins and 500 rows
against a large baseline), which is one reason for ``min_samples``.

Several p-value tests at 0.01 each raise false alarms for the window as a whole (30 correlated features of a
random split of the breast-cancer data: at least one KS p < 0.01 in 17 % of splits). ``DriftSpec.p_value_correction
= "bonferroni"`` compares each p-value with threshold / m, m the number of p-value tests in the spec, so the
thresholds become family-wise levels (0 of 200 splits flagged); the default ``"none"`` compares with the threshold.
A feature with fewer than ``min_samples`` non-missing window values is ``insufficient-data`` and never passes
silently. Every feature also breaches when its share of missing values in the window exceeds the baseline's by more
than ``max_missing_increase`` (judged once the window holds ``min_samples`` values, present or missing): a feature
that stops arriving changes the model's inputs even when the values that do arrive look like the baseline. The
window is ``unreadable-capture`` when more than ``max_unreadable_share`` of its captured lines could not be read as
the baseline's features: the lines left out are traffic nobody judged. The report's status is ``drift`` if any
adequately sampled feature breaches, else ``unreadable-capture``, else ``insufficient-data`` if any watched feature
lacks samples, else ``no-drift``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from drift.baseline import SCHEMA as BASELINE_SCHEMA
from drift.baseline import Baseline, CategoricalBaseline, NumericBaseline
from drift.capture import CaptureWindow
from drift.statistics import KSResult, bin_counts, chi_square_homogeneity, ks_2samp, population_stability_index

SCHEMA = "ml-governance-drift-report/1"
Statistic = Literal["psi", "ks", "chi2", "missing"]
Status = Literal["no-drift", "drift", "insufficient-data", "unreadable-capture"]
NUMERIC_DEFAULT: tuple[Statistic, ...] = ("psi", "ks")
CATEGORICAL_DEFAULT: tuple[Statistic, ...] = ("psi", "chi2")
Correction = Literal["none", "bonferroni"]


@dataclass(frozen=True)
class FeatureSpec:
    """What to check for one feature; ``statistics=None`` means psi+ks (numeric) or psi+chi2 (categorical)."""

    name: str
    statistics: tuple[Statistic, ...] | None = None
    psi_threshold: float = 0.2
    ks_p_value: float = 0.01
    chi2_p_value: float = 0.01
    max_missing_increase: float = 0.05

    def __post_init__(self) -> None:
        if self.statistics is not None and (not self.statistics or not set(self.statistics) <= {"psi", "ks", "chi2"}):
            raise ValueError(f"{self.name}: statistics must be a non-empty subset of psi, ks, chi2")
        if not 0 <= self.max_missing_increase <= 1:
            raise ValueError(f"{self.name}: max_missing_increase must lie in [0, 1]")
        if not self.psi_threshold > 0:
            raise ValueError(f"{self.name}: psi_threshold must be positive")
        if not (0 < self.ks_p_value < 1 and 0 < self.chi2_p_value < 1):
            raise ValueError(f"{self.name}: p-value thresholds must lie in (0, 1)")


@dataclass(frozen=True)
class DriftSpec:
    """The features to watch (with their checks) and the smallest window that can certify "no drift"."""

    features: tuple[FeatureSpec, ...]
    min_samples: int = 500
    p_value_correction: Correction = "none"
    max_unreadable_share: float = 0.01

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        if not names or len(set(names)) != len(names):
            raise ValueError("DriftSpec needs at least one feature and distinct names")
        if self.min_samples < 1:
            raise ValueError("min_samples must be at least 1")
        if not 0 <= self.max_unreadable_share <= 1:
            raise ValueError("max_unreadable_share must lie in [0, 1]")
        if self.p_value_correction not in ("none", "bonferroni"):
            raise ValueError("p_value_correction must be 'none' or 'bonferroni'")

    @classmethod
    def watching(
        cls,
        names: Iterable[str],
        *,
        min_samples: int = 500,
        p_value_correction: Correction = "none",
        max_unreadable_share: float = 0.01,
        **thresholds: Any,
    ) -> DriftSpec:
        """The same checks (``statistics``, ``psi_threshold``, ``ks_p_value``, ``chi2_p_value``,
        ``max_missing_increase``) for every name."""
        features = tuple(FeatureSpec(name, **thresholds) for name in names)
        return cls(features, min_samples, p_value_correction, max_unreadable_share)


@dataclass(frozen=True)
class CheckResult:
    statistic: Statistic
    value: float | None  # PSI, KS D, chi-square statistic or the window's missing share; None when there is nothing
    threshold: float
    breached: bool
    p_value: float | None = None
    effective_threshold: float | None = None  # p-value tests: threshold / m under the Bonferroni correction
    method: str | None = None  # KS: "exact" or "asymp"
    dof: int | None = None  # chi-square degrees of freedom
    baseline_value: float | None = None  # missing: the baseline's missing share

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "statistic": self.statistic,
            "value": self.value,
            "threshold": self.threshold,
            "breached": self.breached,
        }
        if self.statistic == "missing":
            out["rule"] = "value - baseline_value > threshold"
            out["baseline_value"] = self.baseline_value
            return out
        out["rule"] = "value > threshold" if self.statistic == "psi" else "p_value < effective_threshold"
        if self.statistic != "psi":
            out["p_value"] = self.p_value
            out["effective_threshold"] = self.effective_threshold
        if self.method is not None:
            out["method"] = self.method
        if self.dof is not None:
            out["dof"] = self.dof
        return out


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    kind: str
    status: Literal["ok", "breach", "insufficient-data"]
    baseline_count: int
    window_count: int
    window_missing: int
    checks: tuple[CheckResult, ...]

    @property
    def breached(self) -> bool:
        return self.status == "breach"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "breached": self.breached,
            "baseline_count": self.baseline_count,
            "window_count": self.window_count,
            "window_missing": self.window_missing,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class DriftReport:
    status: Status
    min_samples: int
    p_value_correction: Correction
    rows: int
    features: tuple[FeatureDrift, ...]
    window: Mapping[str, Any]
    baseline_metadata: Mapping[str, str]
    max_unreadable_share: float = 0.01

    @property
    def breached_features(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if f.breached)

    @property
    def insufficient_features(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if f.status == "insufficient-data")

    def to_json(self) -> str:
        doc = {
            "schema": SCHEMA,
            "status": self.status,
            "min_samples": self.min_samples,
            "p_value_correction": self.p_value_correction,
            "max_unreadable_share": self.max_unreadable_share,
            "rows": self.rows,
            "breached_features": list(self.breached_features),
            "insufficient_features": list(self.insufficient_features),
            "features": [f.to_dict() for f in self.features],
            "window": dict(self.window),
            "baseline": {"schema": BASELINE_SCHEMA, "metadata": dict(self.baseline_metadata)},
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _category_counts(
    feature: CategoricalBaseline, values: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int]:
    """Baseline and window counts over the baseline's categories plus ``__other__``; and the missing count."""
    index = {c: i for i, c in enumerate(feature.categories)}
    window = np.zeros(len(feature.categories) + 1)
    missing = 0
    for value in values.tolist():
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            missing += 1
        else:
            window[index.get(str(value), len(feature.categories))] += 1
    base = np.array([*feature.counts, feature.other_count], dtype=np.float64)
    keep = (base > 0) | (window > 0)
    return base[keep], window[keep], missing


def _wanted(spec: FeatureSpec, kind: str) -> tuple[Statistic, ...]:
    wanted = spec.statistics or (NUMERIC_DEFAULT if kind == "numeric" else CATEGORICAL_DEFAULT)
    if "ks" in wanted and kind != "numeric":
        raise ValueError(f"{spec.name}: the KS test needs a numeric feature")
    return wanted


def _checks(
    spec: FeatureSpec,
    wanted: tuple[Statistic, ...],
    base: npt.NDArray[np.float64],
    counts: npt.NDArray[np.float64],
    *,
    ks: Callable[[], KSResult] | None,
    tests: int,
) -> list[CheckResult]:
    empty = counts.sum() == 0
    results: list[CheckResult] = []
    for statistic in wanted:
        if statistic == "psi":
            psi = None if empty else population_stability_index(base, counts)
            results.append(CheckResult("psi", psi, spec.psi_threshold, psi is not None and psi > spec.psi_threshold))
        elif statistic == "ks":
            limit = spec.ks_p_value / tests
            result = None if empty or ks is None else ks()
            if result is None:
                results.append(CheckResult("ks", None, spec.ks_p_value, False, None, limit))
            else:
                breached = result.p_value < limit
                results.append(
                    CheckResult("ks", result.statistic, spec.ks_p_value, breached, result.p_value, limit, result.method)
                )
        else:
            limit = spec.chi2_p_value / tests
            if empty or np.count_nonzero((base > 0) | (counts > 0)) < 2:
                results.append(CheckResult("chi2", None, spec.chi2_p_value, False, None, limit))
                continue
            chi = chi_square_homogeneity(base, counts)
            breached = chi.p_value < limit
            results.append(CheckResult("chi2", chi.statistic, spec.chi2_p_value, breached, chi.p_value, limit, dof=chi.dof))
    return results


def _feature(
    spec: FeatureSpec, baseline: Baseline, column: npt.NDArray[Any] | None, min_samples: int, tests: int
) -> FeatureDrift:
    feature = baseline[spec.name]
    wanted = _wanted(spec, feature.kind)
    raw = np.asarray(
        column if column is not None else np.empty(0), dtype=np.float64 if isinstance(feature, NumericBaseline) else object
    )
    if isinstance(feature, NumericBaseline):
        missing = int(np.count_nonzero(np.isnan(raw)))
        valid = np.sort(raw)[: raw.size - missing]  # NaN sorts last
        base = feature.bin_counts.astype(np.float64)
        counts = bin_counts(valid, feature.edges).astype(np.float64)
        checks = _checks(
            spec, wanted, base, counts, ks=lambda: ks_2samp(feature.reservoir, valid, assume_sorted=True), tests=tests
        )
        n = int(valid.size)
    else:
        base, counts, missing = _category_counts(feature, raw)
        checks = _checks(spec, wanted, base, counts, ks=None, tests=tests)
        n = int(counts.sum())
    if n < min_samples:
        checks = [replace(c, breached=False) for c in checks]
    checks.append(_missing_check(spec, feature, n, int(missing), min_samples))
    status: Literal["ok", "breach", "insufficient-data"] = (
        "breach" if any(c.breached for c in checks) else "insufficient-data" if n < min_samples else "ok"
    )
    return FeatureDrift(spec.name, feature.kind, status, feature.count, n, int(missing), tuple(checks))


def _missing_check(
    spec: FeatureSpec, feature: NumericBaseline | CategoricalBaseline, present: int, missing: int, min_samples: int
) -> CheckResult:
    """The window's share of missing values against the baseline's; judged once the window holds ``min_samples`` values."""
    baseline_total = feature.count + feature.missing
    baseline_share = feature.missing / baseline_total if baseline_total else 0.0
    total = present + missing
    share = missing / total if total else None
    breached = share is not None and total >= min_samples and share - baseline_share > spec.max_missing_increase
    return CheckResult("missing", share, spec.max_missing_increase, breached, baseline_value=baseline_share)


def evaluate_drift(baseline: Baseline, window: CaptureWindow | Mapping[str, npt.ArrayLike], spec: DriftSpec) -> DriftReport:
    """Per-feature statistics and breaches for the watched features, and an overall status (see module docstring)."""
    missing = [f.name for f in spec.features if f.name not in baseline.names]
    if missing:
        raise ValueError(f"features {missing} are not in the baseline")
    tests = 1
    if spec.p_value_correction == "bonferroni":
        wanted = [_wanted(f, baseline[f.name].kind) for f in spec.features]
        tests = max(1, sum(1 for statistics in wanted for s in statistics if s != "psi"))
    columns: Mapping[str, Any] = window.columns if isinstance(window, CaptureWindow) else window
    features = tuple(_feature(f, baseline, columns.get(f.name), spec.min_samples, tests) for f in spec.features)
    if isinstance(window, CaptureWindow):
        rows, summary = window.rows, window.summary()
    else:
        rows = max((int(np.asarray(v).size) for v in columns.values()), default=0)
        summary = {"rows": rows}
    judged = window.lines - window.out_of_window if isinstance(window, CaptureWindow) else 0
    unreadable = window.skipped_lines if isinstance(window, CaptureWindow) else 0
    if any(f.breached for f in features):
        status: Status = "drift"
    elif judged > 0 and unreadable / judged > spec.max_unreadable_share:
        status = "unreadable-capture"
    elif any(f.status == "insufficient-data" for f in features):
        status = "insufficient-data"
    else:
        status = "no-drift"
    return DriftReport(
        status,
        spec.min_samples,
        spec.p_value_correction,
        rows,
        features,
        summary,
        dict(baseline.metadata),
        spec.max_unreadable_share,
    )


__all__ = ["CheckResult", "DriftReport", "DriftSpec", "FeatureDrift", "FeatureSpec", "evaluate_drift"]
