"""How every benchmark prints a figure: its value, the baseline measured in the same run, the ratio, the goal."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass


def machine() -> str:
    """What the figures were measured on: CPUs, Python, OS."""
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {platform.system()} {platform.release()}"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    goal: str = "—"
    """``≤ 1.10× baseline``, ``≤ 2 s``, or ``—`` (reported, no goal)."""
    goal_ratio: float | None = None
    goal_value: float | None = None

    @property
    def ratio(self) -> float | None:
        return None if self.baseline in (None, 0) else self.value / self.baseline  # type: ignore[operator]

    @property
    def met(self) -> bool | None:
        if self.goal_ratio is not None and self.ratio is not None:
            return self.ratio <= self.goal_ratio
        if self.goal_value is not None:
            return self.value <= self.goal_value
        return None

    def cells(self) -> list[str]:
        def fmt(v: float | None) -> str:
            if v is None:
                return "—"
            if self.unit == "ms" and v < 10:
                return f"{v:.3f} ms"
            return f"{v:.0f} {self.unit}" if self.unit in ("ms", "MiB", "M instr.") else f"{v:.2f} {self.unit}"

        baseline = "—" if self.baseline is None else f"{fmt(self.baseline)} ({self.baseline_name})"
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}×"
        verdict = {True: "met", False: "not met", None: ""}[self.met]
        return [self.name, fmt(self.value), baseline, ratio, f"{self.goal} {verdict}".strip()]


def print_figures(title: str, command: str, figures: list[Figure]) -> None:
    print(f"{title} — `{command}` — {machine()}")
    print("| figure | value | baseline (same run) | ratio | goal |")
    print("|---|---:|---:|---:|---|")
    for figure in figures:
        print("| " + " | ".join(figure.cells()) + " |", flush=True)
    print()
