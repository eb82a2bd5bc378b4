"""Input drift detection for SageMaker endpoints without SageMaker Model Monitor (numpy only at run time).

- ``drift.baseline``: per-feature baseline from the training data (quantile bins, reservoir sample, category
  frequencies), stored as versioned JSON at model registration.
- ``drift.capture``: SageMaker data capture JSON Lines -> a column-oriented window; capture key layout by hour.
- ``drift.statistics``: PSI, two-sample Kolmogorov-Smirnov (statistic and p-value as SciPy computes them),
  chi-square goodness of fit with a numpy-only survival function.
- ``drift.report``: ``evaluate_drift(baseline, window, spec)`` -> ``DriftReport`` with per-feature breaches.
"""
