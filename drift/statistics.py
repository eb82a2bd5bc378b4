"""Drift statistics with numpy only: PSI, two-sample Kolmogorov-Smirnov, chi-square goodness of fit.

Accuracy against SciPy 1.17 (``tests/drift/test_statistics.py`` checks these bounds):

- ``ks_2samp``: the statistic is computed with the same operations as ``scipy.stats.ks_2samp`` and agrees to
  1e-12 (in practice bit for bit). The two-sided p-value follows SciPy's ``method="auto"``: exact lattice-path
  counting when both samples have at most 10,000 values, otherwise the asymptotic distribution, which SciPy takes
  as the one-sample Kolmogorov distribution ``kstwo`` at ``n = round(n1 * n2 / (n1 + n2))``. Agreement: relative
  1e-9 (absolute 1e-12) in both regimes. One deliberate shortcut: when both samples have at least 100 values and
  the asymptotic p-value is already below 1e-15, the exact count (whose cost grows with D: seconds for two samples
  of 10,000) is skipped and the asymptotic value is reported with ``method="asymp"``. A scan of the lattice for
  sizes 100 to 10,000 found the exact value there at most 2.5e-15, so the absolute difference stays under 3e-15.
  Smaller samples are always counted exactly: there the asymptotic value can be far too small (exact 0.029 for two
  samples of 4 at D = 1, where it gives 0).
- ``chi_square`` / ``chi_square_homogeneity``: the statistics of ``scipy.stats.chisquare`` and of
  ``scipy.stats.chi2_contingency(correction=False)`` on a 2 x k table, relative 1e-12; p-values via ``chi2_sf``.
- ``chi2_sf``: regularized upper incomplete gamma Q(k/2, x/2) by series / Lentz continued fraction; relative
  1e-12 against ``scipy.stats.chi2.sf`` (absolute 1e-300 for values that underflow).
- ``population_stability_index`` has no SciPy counterpart; its formula is documented on the function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from drift._kolmogorov import kolmogorov_sf
from drift._smirnov_exact import prob_outside_band, prob_outside_square

FloatArray = npt.NDArray[np.float64]

PSI_EPSILON = 1e-4
"""Floor for bin proportions in PSI: an empty bin counts as proportion 1e-4 (0.01 %), keeping ln(a/e) finite.
With the default 10 bins an empty baseline or window bin contributes at most about 0.1 * ln(0.1 / 1e-4) = 0.69."""

EXACT_MAX_N = 10_000
"""Largest sample size for which the exact KS p-value is computed (SciPy's ``MAX_AUTO_N``)."""

_EXACT_SKIP_BELOW = 1e-15
_EXACT_SKIP_MIN_N = 100  # below it the asymptotic tail is not close enough (see the module docstring)


@dataclass(frozen=True)
class KSResult:
    """Two-sided two-sample Kolmogorov-Smirnov test."""

    statistic: float
    p_value: float
    method: Literal["exact", "asymp"]


@dataclass(frozen=True)
class ChiSquareResult:
    """Pearson chi-square goodness-of-fit test of observed counts against expected proportions."""

    statistic: float
    p_value: float
    dof: int


def bin_counts(sorted_values: FloatArray, edges: FloatArray) -> npt.NDArray[np.int64]:
    """Counts per bin [edges[i], edges[i+1]) of already sorted finite values; ``edges`` includes the outer +/-inf."""
    inner = np.searchsorted(sorted_values, edges[1:-1], side="left")
    bounds = np.concatenate(([0], inner, [sorted_values.size]))
    return np.diff(bounds).astype(np.int64)


def population_stability_index(expected: npt.ArrayLike, actual: npt.ArrayLike, *, epsilon: float = PSI_EPSILON) -> float:
    """PSI = sum_i (a_i - e_i) * ln(a_i / e_i) over bins, with e_i, a_i the baseline and window proportions.

    ``expected`` and ``actual`` are counts (or proportions) per bin and are normalised here; a proportion below
    ``epsilon`` is raised to ``epsilon`` (no renormalisation), so empty bins give a large but finite term.
    Every term is >= 0, so PSI >= 0, and PSI == 0 when the two distributions are identical.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape or e.ndim != 1 or e.size == 0:
        raise ValueError("expected and actual must be 1-D arrays of the same non-zero length")
    if e.sum() <= 0 or a.sum() <= 0 or np.any(e < 0) or np.any(a < 0):
        raise ValueError("counts must be non-negative with a positive total")
    e = np.maximum(e / e.sum(), epsilon)
    a = np.maximum(a / a.sum(), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def _ks_statistic(x: FloatArray, y: FloatArray) -> float:
    """sup |F_x - F_y| over the pooled sample, computed exactly as SciPy does (x and y sorted)."""
    pooled = np.concatenate((x, y))
    diffs = np.searchsorted(x, pooled, side="right") / x.size - np.searchsorted(y, pooled, side="right") / y.size
    max_s = float(np.max(diffs))
    min_s = float(np.clip(-np.min(diffs), 0, 1))
    return min_s if min_s > max_s else max_s


def _asymptotic_p(n1: int, n2: int, d: float) -> float:
    big, small = max(n1, n2), min(n1, n2)
    en = float(big) * float(small) / (float(big) + float(small))
    return kolmogorov_sf(round(en), d)


def ks_2samp(x: npt.ArrayLike, y: npt.ArrayLike, *, assume_sorted: bool = False) -> KSResult:
    """Two-sided two-sample KS test, equal to ``scipy.stats.ks_2samp(x, y, method="auto")`` (see module docstring).

    Values must be finite (drop NaNs first). ``assume_sorted`` skips sorting when both inputs are sorted ascending.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or ys.ndim != 1 or xs.size == 0 or ys.size == 0:
        raise ValueError("ks_2samp needs two non-empty 1-D samples")
    if not assume_sorted:
        xs, ys = np.sort(xs), np.sort(ys)
    n1, n2 = xs.size, ys.size
    d = _ks_statistic(xs, ys)
    if max(n1, n2) <= EXACT_MAX_N:
        g = math.gcd(n1, n2)
        lcm = (n1 // g) * n2
        h = round(d * lcm)
        d = h / lcm
        if h == 0:
            return KSResult(d, 1.0, "exact")
        asymptotic = _asymptotic_p(n1, n2, d) if n1 * n2 >= 2 * (n1 + n2) else 1.0  # kstwo needs round(en) >= 1
        if asymptotic >= _EXACT_SKIP_BELOW or min(n1, n2) < _EXACT_SKIP_MIN_N:
            p = prob_outside_square(n1, h) if n1 == n2 else prob_outside_band(n1, n2, h)
            if 0.0 <= p <= 1.0:
                return KSResult(d, p, "exact")
        return KSResult(d, min(max(asymptotic, 0.0), 1.0), "asymp")
    return KSResult(d, _asymptotic_p(n1, n2, d), "asymp")


def chi2_sf(x: float, dof: float) -> float:
    """Survival function of the chi-square distribution, Q(dof/2, x/2), equal to ``scipy.stats.chi2.sf``."""
    if dof <= 0:
        raise ValueError("dof must be positive")
    if math.isnan(x):
        return math.nan
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    return _gamma_q(dof / 2.0, x / 2.0)


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma function Q(a, x) for a > 0, x > 0."""
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # series for P(a, x), then Q = 1 - P (Q is not small in this region)
        term = total = 1.0 / a
        denom = a
        for _ in range(100_000):
            denom += 1.0
            term *= x / denom
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return min(max(1.0 - total * math.exp(log_prefactor), 0.0), 1.0)
    # Continued fraction for Q(a, x) (modified Lentz), Numerical Recipes 6.2.7.
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    dd = 1.0 / b
    frac = dd
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        dd = an * dd + b
        dd = tiny if abs(dd) < tiny else dd
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        dd = 1.0 / dd
        delta = dd * c
        frac *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    if log_prefactor < -745.0:
        return 0.0
    return min(max(math.exp(log_prefactor) * frac, 0.0), 1.0)


def chi_square(observed: npt.ArrayLike, expected_proportions: npt.ArrayLike) -> ChiSquareResult:
    """Pearson's chi-square: sum (O_i - E_i)^2 / E_i with E_i = p_i * sum(O), dof = k - 1.

    Equal to ``scipy.stats.chisquare(observed, f_exp=p * observed.sum())``. All proportions must be positive.
    """
    obs = np.asarray(observed, dtype=np.float64)
    p = np.asarray(expected_proportions, dtype=np.float64)
    if obs.shape != p.shape or obs.ndim != 1 or obs.size < 2:
        raise ValueError("observed and expected_proportions must be 1-D with the same length >= 2")
    if np.any(p <= 0) or np.any(obs < 0) or obs.sum() <= 0:
        raise ValueError("expected proportions must be positive and observed counts non-negative with a positive total")
    expected = p / p.sum() * obs.sum()
    statistic = float(np.sum((obs - expected) ** 2 / expected))
    dof = obs.size - 1
    return ChiSquareResult(statistic, chi2_sf(statistic, dof), dof)


def chi_square_homogeneity(baseline_counts: npt.ArrayLike, window_counts: npt.ArrayLike) -> ChiSquareResult:
    """Two-sample chi-square test of homogeneity on the 2 x k table of counts (no continuity correction).

    Unlike the goodness-of-fit test it treats the baseline as a sample too, so a small baseline does not inflate
    the statistic. Categories empty in both samples are dropped; dof = (categories left) - 1. Equal to
    ``scipy.stats.chi2_contingency([baseline_counts, window_counts], correction=False)``.
    """
    table = np.vstack((np.asarray(baseline_counts, dtype=np.float64), np.asarray(window_counts, dtype=np.float64)))
    if table.ndim != 2 or table.shape[1] < 2 or np.any(table < 0):
        raise ValueError("need two equally long 1-D arrays of non-negative counts with at least 2 categories")
    table = table[:, table.sum(axis=0) > 0]
    rows = table.sum(axis=1)
    if table.shape[1] < 2 or np.any(rows <= 0):
        raise ValueError("each sample needs a positive total and at least 2 categories must be non-empty")
    expected = np.outer(rows, table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return ChiSquareResult(statistic, chi2_sf(statistic, dof), dof)
