"""Read metric values from an evaluation report in SageMaker's model quality JSON format.

    {"binary_classification_metrics": {"auc": {"value": 0.91, "standard_deviation": 0.01}, ...}}

Any top-level section whose name ends in ``_metrics`` is read. The pipeline's evaluation
step writes this format and the approval gate reads it, through this one function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the pipeline's evaluate step imports this module without pydantic
    from policies.model import MetricThreshold


class ReportError(ValueError):
    """The report is not an evaluation report the gate can read."""


def metrics_from_report(document: Any) -> dict[str, float]:
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise ReportError(f"the evaluation report is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ReportError("the evaluation report must be a JSON object of *_metrics sections")
    found: dict[str, float] = {}
    sections = [key for key in document if isinstance(key, str) and key.endswith("_metrics")]
    if not sections:
        raise ReportError("the evaluation report has no *_metrics section (SageMaker model quality format)")
    for section in sections:
        entries = document[section]
        if not isinstance(entries, dict):
            raise ReportError(f"{section} must map metric names to {{'value': number}}")
        for name, entry in entries.items():
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ReportError(f"{section}.{name}.value must be a finite number, got {value!r}")
            if name in found:
                raise ReportError(f"metric {name!r} appears in more than one section")
            found[str(name)] = float(value)
    return found


def evaluation_report(section: str, metrics: dict[str, float], deviations: dict[str, float] | None = None) -> dict[str, Any]:
    """Build a report in the same format (used by the pipeline's evaluation step)."""
    deviations = deviations or {}
    return {
        section: {
            name: {"value": value, **({"standard_deviation": deviations[name]} if name in deviations else {})}
            for name, value in sorted(metrics.items())
        }
    }


@dataclass(frozen=True)
class MetricCheck:
    """One required metric against its bound: the gate, the pipeline and `run-local` read the same result."""

    name: str
    threshold: MetricThreshold
    value: float | None

    @property
    def ok(self) -> bool:
        return self.value is not None and self.threshold.admits(self.value)

    @property
    def problem(self) -> str | None:
        if self.value is None:
            return f"{self.name} is missing from the evaluation report (required {self.threshold.describe()})"
        if not self.threshold.admits(self.value):
            return f"{self.name} = {self.value:g} does not meet {self.threshold.describe()}"
        return None


def check_metrics(required: Mapping[str, MetricThreshold], metrics: Mapping[str, float]) -> list[MetricCheck]:
    """Each required metric, in the order given, with the reported value (None when missing)."""
    return [MetricCheck(name, threshold, metrics.get(name)) for name, threshold in required.items()]
