"""Survival function of the one-sample two-sided Kolmogorov statistic D_n (numpy only).

``kolmogorov_sf(n, d)`` is Pr(D_n >= d), the quantity ``scipy.stats.kstwo.sf(d, n)`` returns. The two-sample
Kolmogorov-Smirnov test uses it with ``n = round(n1 * n2 / (n1 + n2))`` when the samples are too large for the
exact lattice-path count (``scipy.stats.ks_2samp(method="asymp")`` does the same).

Method selection follows Simard & L'Ecuyer, "Computing the Two-Sided Kolmogorov-Smirnov Distribution", Journal of
Statistical Software 39(11), 2011, with SciPy's cut-offs so that the values agree:

- Ruben-Gambino closed forms for n*d <= 1 and n*d >= n - 1;
- twice the one-sided Smirnov tail (Birnbaum-Tingey sum) for d >= 0.5 and for the upper tail (n*d^2 >= 2.2);
- the Durbin matrix (Marsaglia-Tsang-Wang evaluation) for small n*d^1.5;
- the Pelz-Good asymptotic series otherwise.

SciPy uses Pomeranz's recursion for n <= 140 and 0.754693 < n*d^2 <= 4; both it and the Durbin matrix are exact,
so the Durbin matrix is used there too (agreement to about 1e-12).
"""

from __future__ import annotations

import math

import numpy as np

_SCALE_EXP = 128
_SCALE_UP = 2.0**_SCALE_EXP
_LOG_2PI = math.log(2 * math.pi)
_MIN_LOG = -708.3964185322641  # log of the smallest normal double
# Bernoulli-number coefficients of the Stirling series for log(n!) (B_2j / (2j (2j - 1)), highest order first).
_STIRLING = (
    -2.955065359477124183e-2,
    6.4102564102564102564e-3,
    -1.9175269175269175269e-3,
    8.4175084175084175084e-4,
    -5.952380952380952381e-4,
    7.9365079365079365079e-4,
    -2.7777777777777777778e-3,
    8.3333333333333333333e-2,
)


def _log_factorial_over_power(n: int) -> float:
    """log(n! / n**n), with n*log(n) cancelled analytically for large n."""
    if n <= 140:
        return float(np.sum(np.log(np.arange(1, n + 1) / n)))
    r = 1.0 / n
    return math.log(n) / 2 - n + _LOG_2PI / 2 + r * float(np.polyval(_STIRLING, r * r))


def _clip(p: float) -> float:
    return min(max(p, 0.0), 1.0)


def smirnov_sf(n: int, d: float) -> float:
    """Pr(D_n^+ >= d), the one-sided Smirnov tail, by the Birnbaum-Tingey sum evaluated in log space."""
    if n == 1:
        return 1.0 - d
    if d <= 0.0:
        return 1.0
    if d >= 1.0:
        return 0.0
    nd = n * d
    if nd <= 1.0:  # at most one term of the complementary sum: cdf = d * (1 + d)^(n-1)
        return _clip(1.0 - d * (1.0 + d) ** (n - 1))
    if -2.0 * n * d * d < _MIN_LOG:
        return 0.0
    if nd >= n - 1:
        return (1.0 - d) ** n
    if n > 1_000_000:  # SciPy's approximation for very large n
        return _clip(math.exp(-((6.0 * nd + 1) ** 2) / 18.0 / n))
    v = np.arange(0, math.floor(n * (1.0 - d)) + 1, dtype=np.float64)
    rest = (n * (1.0 - d) - v) / n  # 1 - d - v/n, exactly 0 for the last term when n*d is an integer
    keep = rest > 0
    v, rest = v[keep], rest[keep]
    log_binom = math.lgamma(n + 1) - np.array([math.lgamma(k + 1) + math.lgamma(n - k + 1) for k in v.tolist()])
    log_terms = log_binom + math.log(d) + (v - 1) * np.log(d + v / n) + (n - v) * np.log(rest)
    top = float(np.max(log_terms))
    return _clip(math.exp(top) * float(np.sum(np.exp(log_terms - top))))


def _durbin_cdf(n: int, d: float) -> float:
    """Pr(D_n < d) by Durbin's matrix, raised to the n-th power by squaring with explicit exponent tracking."""
    nd = n * d
    k = math.ceil(nd)
    h = k - nd
    m = 2 * k - 1
    powers = np.arange(1, m + 1)
    factorials = np.cumprod(np.concatenate(([1.0], powers[:-1].astype(np.float64))))  # (j-1)! for j = 1..m
    inv_fact = 1.0 / np.concatenate((factorials[1:], [factorials[-1] * m]))  # 1/j!
    v = (1.0 - h**powers) * inv_fact
    v[-1] = (1.0 + max(2 * h - 1.0, 0.0) ** m - 2 * h**m) * inv_fact[-1]
    w = 1.0 / factorials  # 1/(j-1)! for j = 1..m, i.e. 1/0!, 1/1!, ...
    mat = np.zeros((m, m))
    for i in range(1, m):
        mat[i - 1 :, i] = w[: m - i + 1]
    mat[:, 0] = v
    mat[-1, :] = v[::-1]
    result = np.eye(m)
    exponent = 0
    mat_exponent = 0
    remaining = n
    while remaining > 0:
        if remaining % 2:
            result = result @ mat
            exponent += mat_exponent
        mat = mat @ mat
        mat_exponent *= 2
        if abs(mat[k - 1, k - 1]) > _SCALE_UP:
            mat /= _SCALE_UP
            mat_exponent += _SCALE_EXP
        remaining //= 2
    p = float(result[k - 1, k - 1])
    if p <= 0.0:
        return 0.0
    return _clip(math.exp(math.log(p) + exponent * math.log(2.0) + _log_factorial_over_power(n)))


def _pelz_good_cdf(n: int, d: float) -> float:
    """Pelz-Good (1976) asymptotic series for Pr(D_n <= d), four terms in powers of n^(-1/2)."""
    z = math.sqrt(n) * d
    z2, z3, z4, z6 = z * z, z**3, z**4, z**6
    pi2, pi4, pi6 = math.pi**2, math.pi**4, math.pi**6
    qlog = -pi2 / 8 / z2
    if qlog < -708.0:
        return 0.0
    q = math.exp(qlog)
    maxk = math.ceil(16 * z / math.pi)
    ks = np.arange(maxk, 0, -1)
    odd = (2 * ks - 1).astype(np.float64)
    o2, o4, o6 = odd**2, odd**4, odd**6
    coeffs = np.stack(
        (
            np.ones_like(odd),
            -z2 + (pi2 / 4) * o2,
            (6 * z6 + 2 * z4) + (2 * z4 - 5 * z2) * pi2 / 4 * o2 + pi4 * (1 - 2 * z2) / 16 * o4,
            (-30 * z6 - 90 * z**8)
            + pi2 * (135 * z4 - 96 * z6) / 4 * o2
            + pi4 * (-60 * z2 + 212 * z4) / 16 * o4
            + pi6 * (5 - 30 * z2) / 64 * o6,
        )
    )
    terms = np.zeros(4)
    for col, k in enumerate(ks.tolist()):  # Horner over q^(8k): sum_k c_k q^((2k-1)^2)
        terms = terms * q ** (8 * k) + coeffs[:, col]
    terms *= q * math.sqrt(2 * math.pi) / np.array([z, 6 * z4, 72 * z**7, 6480 * z**10])
    q2 = math.exp(-pi2 / 2 / z2)
    k_sq = (ks**2).astype(np.float64)
    q_pow = q2**k_sq
    terms[2] += float(np.sum(k_sq * q_pow)) * pi2 * math.sqrt(2 * math.pi) / (-36 * z3)
    sqrt3z = math.sqrt(3) * z
    kpi = math.pi * ks
    terms[3] += float(np.sum((sqrt3z + kpi) * (sqrt3z - kpi) * k_sq * q_pow)) * pi2 * math.sqrt(2 * math.pi) / (216 * z6)
    terms /= np.power(float(n), np.arange(4) / 2.0)
    return float(np.sum(terms))


def kolmogorov_sf(n: int, d: float) -> float:
    """Pr(D_n >= d) for the two-sided one-sample statistic; matches ``scipy.stats.kstwo.sf(d, n)``."""
    if n <= 0:
        raise ValueError("n must be positive")
    if d >= 1.0:
        return 0.0
    if d <= 0.0:
        return 1.0
    t = n * d
    if t <= 1.0:
        if t <= 0.5:
            return 1.0
        return _clip(1.0 - math.exp(_log_factorial_over_power(n) + n * math.log(2 * t - 1)))
    if t >= n - 1:
        return _clip(2 * (1.0 - d) ** n)
    if d >= 0.5:
        return _clip(2 * smirnov_sf(n, d))
    nd2 = t * d
    if n <= 140:
        if nd2 <= 4:
            return _clip(1.0 - _durbin_cdf(n, d))
        return _clip(2 * smirnov_sf(n, d))
    if nd2 >= 370.0:
        return 0.0
    if nd2 >= 2.2:
        return _clip(2 * smirnov_sf(n, d))
    if n <= 100_000 and n * d**1.5 <= 1.4:
        return _clip(1.0 - _durbin_cdf(n, d))
    return _clip(1.0 - _pelz_good_cdf(n, d))
