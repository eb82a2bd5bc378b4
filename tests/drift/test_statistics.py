"""drift.statistics against SciPy's reference values, on data scikit-learn ships, plus property tests.

Tolerances (documented in drift/statistics.py): KS statistic 1e-12 absolute; KS p-value 1e-9 relative or 1e-12
absolute; chi-square survival function 1e-10 relative or 1e-300 absolute.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from drift._kolmogorov import kolmogorov_sf
from drift.statistics import (
    PSI_EPSILON,
    bin_counts,
    chi2_sf,
    chi_square,
    chi_square_homogeneity,
    ks_2samp,
    population_stability_index,
)
from tests.drift.helpers import breast_cancer, diabetes, split

KS_P_RTOL, KS_P_ATOL = 1e-9, 1e-12


def scipy_ks(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ks_2samp(x, y, method="auto")
    return float(result.statistic), float(result.pvalue)


def assert_ks_matches(x: np.ndarray, y: np.ndarray, method: str | None = None) -> None:
    ours = ks_2samp(x, y)
    statistic, p_value = scipy_ks(x, y)
    assert abs(ours.statistic - statistic) <= 1e-12
    assert ours.p_value == pytest.approx(p_value, rel=KS_P_RTOL, abs=KS_P_ATOL)
    if method is not None and p_value >= 1e-15:  # below 1e-15 the exact count is skipped on purpose
        assert ours.method == method


def test_ks_matches_scipy_exact_regime_on_breast_cancer_halves() -> None:
    """284 vs 285 rows: SciPy counts lattice paths exactly (unequal sizes)."""
    names, x = breast_cancer()
    base, window = split(x)
    for i in range(len(names)):
        assert_ks_matches(base[:, i], window[:, i], "exact")


def test_ks_matches_scipy_exact_regime_equal_sizes_and_shifted() -> None:
    names, x = breast_cancer()
    base, window = split(x)
    sd = x.std(axis=0)
    for i in range(len(names)):
        assert_ks_matches(base[:, i], window[:284, i], "exact")  # equal sizes: the reflection formula
        assert_ks_matches(base[:, i], window[:, i] + 0.3 * sd[i], "exact")  # small p-values


def test_ks_matches_scipy_asymptotic_regime_on_resampled_breast_cancer() -> None:
    """A 10,000-value baseline against 25,000 window rows resampled from the data: SciPy's asymptotic branch."""
    names, x = breast_cancer()
    rng = np.random.default_rng(3)
    sd = x.std(axis=0)
    for i in range(len(names)):
        reservoir = rng.choice(x[:, i], size=10_000)
        window = rng.choice(x[:, i], size=25_000) + rng.choice([0.0, 0.02, 0.05]) * sd[i]
        assert_ks_matches(reservoir, window, "asymp")


@pytest.mark.parametrize("n1,n2", [(10_000, 2_000), (600, 9_000), (10_000, 10_000), (9_999, 10_000), (50, 20_000), (12_000, 700)])
def test_ks_matches_scipy_across_sizes(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1 + n2)
    for shift in (0.0, 0.03, 0.08, 0.15):
        assert_ks_matches(rng.normal(size=n1), rng.normal(loc=shift, size=n2))


def test_kolmogorov_distribution_matches_scipy_kstwo_over_all_branches() -> None:
    rng = np.random.default_rng(11)
    for n in (1, 2, 7, 60, 140, 141, 500, 4_761, 10_000, 120_000):
        points = 10 if n > 10_000 else 60
        grid = np.concatenate(
            (rng.uniform(0, 1, points // 3), rng.uniform(0, 4 / math.sqrt(n), points), [0.5, 1 / n, 0.5 / n, 1 - 1 / n])
        )
        for d in grid:
            assert kolmogorov_sf(n, float(d)) == pytest.approx(float(stats.kstwo.sf(d, n)), rel=KS_P_RTOL, abs=KS_P_ATOL), (n, d)


def test_ks_skips_exact_count_only_when_p_is_negligible() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=9_000), rng.normal(loc=0.5, size=8_000)
    ours = ks_2samp(x, y)
    _, reference = scipy_ks(x, y)
    assert ours.method == "asymp"
    assert ours.p_value < 1e-15
    assert reference < 1e-15


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=80),
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=80),
)
def test_ks_property_matches_scipy_and_is_bounded(xs: list[float], ys: list[float]) -> None:
    x, y = np.array(xs), np.array(ys)
    ours = ks_2samp(x, y)
    assert 0.0 <= ours.statistic <= 1.0
    assert 0.0 <= ours.p_value <= 1.0
    assert ks_2samp(y, x).statistic == ours.statistic
    statistic, p_value = scipy_ks(x, y)
    assert abs(ours.statistic - statistic) <= 1e-12
    assert ours.p_value == pytest.approx(p_value, rel=KS_P_RTOL, abs=KS_P_ATOL)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_ks_of_a_sample_with_itself_is_zero(xs: list[float]) -> None:
    result = ks_2samp(np.array(xs), np.array(xs))
    assert result.statistic == 0.0
    assert result.p_value == 1.0


def test_chi_square_matches_scipy_on_diabetes_sex_and_binned_breast_cancer() -> None:
    names, x = diabetes()
    base, window = split(x)
    sex = names.index("sex")
    categories = np.unique(x[:, sex])
    expected = np.array([(base[:, sex] == c).sum() for c in categories], dtype=np.float64)
    observed = np.array([(window[:, sex] == c).sum() for c in categories], dtype=np.float64)
    ours = chi_square(observed, expected / expected.sum())
    reference = stats.chisquare(observed, f_exp=expected / expected.sum() * observed.sum())
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-10)

    bc_names, bc = breast_cancer()
    base, window = split(bc)
    for i in range(len(bc_names)):
        edges = np.concatenate(([-np.inf], np.quantile(base[:, i], np.arange(1, 10) / 10), [np.inf]))
        edges = np.unique(edges)
        e = bin_counts(np.sort(base[:, i]), edges).astype(np.float64)
        o = bin_counts(np.sort(window[:, i] * 1.05), edges).astype(np.float64)
        ours = chi_square(o, e / e.sum())
        reference = stats.chisquare(o, f_exp=e / e.sum() * o.sum())
        assert ours.statistic == pytest.approx(reference.statistic, rel=1e-12)
        assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-10, abs=1e-300)
        assert ours.dof == len(o) - 1


def test_chi_square_homogeneity_matches_scipy_contingency() -> None:
    names, x = diabetes()
    base, window = split(x)
    for name in ("sex", "age", "s4"):
        column = names.index(name)
        categories = np.unique(np.round(x[:, column]))
        b = np.array([(np.round(base[:, column]) == c).sum() for c in categories])
        w = np.array([(np.round(window[:, column]) == c).sum() for c in categories])
        ours = chi_square_homogeneity(b, w)
        keep = (b + w) > 0
        reference = stats.chi2_contingency(np.vstack((b[keep], w[keep])), correction=False)
        assert ours.statistic == pytest.approx(reference.statistic, rel=1e-12)
        assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-10)
        assert ours.dof == reference.dof
    assert chi_square_homogeneity([10, 0, 5], [3, 0, 9]).dof == 1  # an empty category is dropped
    with pytest.raises(ValueError, match="positive total"):
        chi_square_homogeneity([0, 0], [1, 2])


@pytest.mark.parametrize("dof", [1, 2, 3, 5, 9, 30, 101, 1_000, 20_000])
def test_chi2_survival_function_matches_scipy(dof: int) -> None:
    rng = np.random.default_rng(dof)
    grid = np.concatenate((rng.uniform(0, 3 * dof + 30, 200), [1e-8, 0.5, dof - 1, dof, dof + 1, 10 * dof + 500]))
    for value in grid:
        assert chi2_sf(float(value), dof) == pytest.approx(float(stats.chi2.sf(value, dof)), rel=1e-10, abs=1e-300), value


def test_chi2_edges() -> None:
    assert chi2_sf(0.0, 3) == 1.0
    assert chi2_sf(-1.0, 3) == 1.0
    assert chi2_sf(math.inf, 3) == 0.0
    with pytest.raises(ValueError, match="dof"):
        chi2_sf(1.0, 0)


def test_psi_by_hand() -> None:
    """PSI = sum (a_i - e_i) ln(a_i / e_i) on proportions.

    e = (0.5, 0.3, 0.2), a = (0.4, 0.3, 0.3):
    (0.4 - 0.5) ln(0.4/0.5) + 0 + (0.3 - 0.2) ln(0.3/0.2) = 0.1 ln(1.25) + 0.1 ln(1.5) = 0.0628608659...
    """
    assert population_stability_index([50, 30, 20], [40, 30, 30]) == pytest.approx(
        0.1 * math.log(1.25) + 0.1 * math.log(1.5), rel=1e-14
    )
    assert population_stability_index([50, 30, 20], [40, 30, 30]) == pytest.approx(0.06286086594223741, rel=1e-12)


def test_psi_empty_bin_uses_epsilon() -> None:
    """An empty baseline bin counts as proportion 1e-4: (0.1 - 1e-4) ln(0.1 / 1e-4) plus the other bins' terms."""
    expected = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.1 - PSI_EPSILON) * math.log(0.1 / PSI_EPSILON)
    assert population_stability_index([50, 50, 0], [50, 40, 10]) == pytest.approx(expected, rel=1e-12)


def test_psi_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same non-zero length"):
        population_stability_index([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="positive total"):
        population_stability_index([0, 0], [1, 2])


counts = st.lists(st.integers(0, 10_000), min_size=1, max_size=30).filter(lambda c: sum(c) > 0)


@given(counts, st.data())
def test_psi_is_non_negative(expected: list[int], data: st.DataObject) -> None:
    actual = data.draw(
        st.lists(st.integers(0, 10_000), min_size=len(expected), max_size=len(expected)).filter(lambda c: sum(c) > 0)
    )
    assert population_stability_index(expected, actual) >= 0.0


@given(counts, st.integers(1, 50))
def test_psi_of_a_distribution_with_itself_is_zero(expected: list[int], scale: int) -> None:
    assert population_stability_index(expected, expected) == 0.0
    assert population_stability_index(expected, [c * scale for c in expected]) == pytest.approx(0.0, abs=1e-12)


@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=300))
def test_bin_counts_match_numpy_digitize(values: list[float]) -> None:
    edges = np.array([-np.inf, -10.0, 0.0, 0.5, 10.0, np.inf])
    arr = np.array(values)
    reference = np.bincount(np.digitize(arr, edges[1:-1], right=False), minlength=5)
    assert bin_counts(np.sort(arr), edges).tolist() == reference.tolist()


@pytest.mark.parametrize(("n1", "n2"), [(4, 4), (5, 5), (3, 7), (20, 25), (60, 60), (99, 10_000)])
def test_ks_fully_separated_small_samples_get_their_exact_p_value(n1: int, n2: int) -> None:
    """D = 1: the asymptotic tail says about 0, the exact value is 2 / C(n1 + n2, n1) (0.029 for two samples of 4)."""
    x, y = np.arange(n1, dtype=np.float64), np.arange(n2, dtype=np.float64) + 1e6
    result = ks_2samp(x, y)
    expected = stats.ks_2samp(x, y).pvalue
    assert result.statistic == 1.0 and result.method == "exact"
    assert result.p_value == pytest.approx(expected, rel=1e-9, abs=1e-300)
