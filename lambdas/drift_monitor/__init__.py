"""Drift monitor: on each drift-job endpoint's schedule, its captured traffic is compared with the baseline of the version it serves."""
