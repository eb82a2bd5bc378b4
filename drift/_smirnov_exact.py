"""Exact two-sided p-value of the two-sample Kolmogorov-Smirnov statistic by lattice-path counting (numpy only).

A pair of samples of sizes n1 and n2 corresponds to a monotone lattice path from (0, 0) to (n1, n2); under the null
hypothesis every path is equally likely, and D >= h / lcm(n1, n2) exactly when the path leaves the band
``|x/n1 - y/n2| < h / lcm``. Both functions return that proportion of paths; they are the two cases SciPy's
``ks_2samp(method="exact")`` computes (Hodges 1958; Viehmann 2021, arXiv:2102.08037, for the recursion on 1 - p).
"""

from __future__ import annotations

import math

import numpy as np


def prob_outside_square(n: int, h: int) -> float:
    """Pr(D >= h/n) for two samples of the same size n (alternating reflection sum, Horner form)."""
    total = 0.0
    for k in range(n // h, -1, -1):
        j = np.arange(h, dtype=np.float64)
        factor = float(np.prod((n - k * h - j) / (n + k * h + j + 1)))
        total = factor * (1.0 - total)
    return 2.0 * total


def prob_outside_band(n1: int, n2: int, h: int) -> float:
    """Pr(D >= h/lcm(n1, n2)) for two samples of different sizes.

    ``A(i, j)`` is the probability that a uniformly random path from (0, 0) to (i, j) has left the band; it obeys
    ``A(i, j) = (i A(i-1, j) + j A(i, j-1)) / (i + j)`` inside the band and is 1 outside it. The outer loop runs
    over the smaller sample; the first-order recursion along each column is solved in closed form in log space
    (a running log-sum-exp), so the Python-level work is one numpy pass per column.
    """
    small, large = sorted((n1, n2))
    g = math.gcd(small, large)
    c_small, c_large = small // g, large // g  # inside the band: |c_large * i - c_small * j| < h
    column = np.ones(large + 1)
    lo, hi = 0, min(math.ceil(h / c_small), large + 1)
    column[lo:hi] = 0.0
    with np.errstate(divide="ignore"):
        for i in range(1, small + 1):
            prev_lo, prev_hi = lo, hi
            lo = min(max((c_large * i - h) // c_small + 1, 0), large)
            hi = min(-((-(c_large * i + h)) // c_small), large + 1)
            if hi <= lo:
                return 1.0
            j = np.arange(lo, hi, dtype=np.float64)
            new = np.empty(hi - lo)
            carried = column[lo:hi] * i / (i + j)  # i * A(i-1, j) / (i + j)
            if lo == 0:
                new[0] = column[0]
                start, initial = 1, float(column[0])
            else:
                start, initial = 0, 1.0  # the cell below the band has certainly left it
            if start < hi - lo:
                js = j[start:]
                log_prod = np.cumsum(np.log(js / (i + js)))  # log of prod_{l <= j} l / (i + l)
                logs = np.empty(js.size + 1)
                logs[0] = math.log(initial) if initial > 0 else -math.inf
                logs[1:] = np.log(carried[start:]) - log_prod
                new[start:] = np.exp(log_prod + np.logaddexp.accumulate(logs)[1:])
            column[prev_lo:prev_hi] = 1.0
            column[lo:hi] = new
    return float(column[large])
