"""Per-feature drift baseline, built at model registration from the training data and stored as JSON.

A numeric feature keeps its row count, quantile bin edges (outer edges -inf/+inf, bins are [e_i, e_i+1)), the
baseline count per bin (for PSI), min/max/mean/std, and a seeded reservoir sample (for the KS test). A
categorical feature keeps the counts of its ``top_n`` most frequent categories plus an ``__other__`` count.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from drift._codec import encode_sorted
from drift.statistics import bin_counts

FloatArray = npt.NDArray[np.float64]

SCHEMA = "ml-governance-drift-baseline/1"
OTHER = "__other__"
DEFAULT_BINS = 10
DEFAULT_RESERVOIR_SIZE = 10_000
DEFAULT_TOP_N = 20


class Reservoir:
    """Uniform sample of at most ``size`` values from a stream (Vitter's algorithm R), seeded and deterministic."""

    def __init__(self, size: int = DEFAULT_RESERVOIR_SIZE, seed: int = 0) -> None:
        if size < 1:
            raise ValueError("reservoir size must be at least 1")
        self._size = size
        self._rng = np.random.default_rng(seed)
        self._buffer = np.empty(size, dtype=np.float64)
        self._seen = 0

    def extend(self, values: npt.ArrayLike) -> None:
        chunk = np.asarray(values, dtype=np.float64).ravel()
        fill = max(0, min(self._size - self._seen, chunk.size))
        self._buffer[self._seen : self._seen + fill] = chunk[:fill]
        rest = chunk[fill:]
        if rest.size:
            positions = np.arange(self._seen + fill, self._seen + chunk.size, dtype=np.int64)
            slots = self._rng.integers(0, positions + 1)  # item t replaces slot j ~ U{0..t} when j < size
            hit = slots < self._size
            slots, chosen = slots[hit][::-1], rest[hit][::-1]
            unique, first = np.unique(slots, return_index=True)  # reversed: first occurrence = last replacement
            self._buffer[unique] = chosen[first]
        self._seen += chunk.size

    def sorted_sample(self) -> FloatArray:
        return np.sort(self._buffer[: min(self._seen, self._size)])


@dataclass(frozen=True, eq=False)
class NumericBaseline:
    name: str
    count: int
    missing: int
    minimum: float
    maximum: float
    mean: float
    std: float
    edges: FloatArray  # ascending, edges[0] == -inf, edges[-1] == +inf
    bin_counts: npt.NDArray[np.int64]
    reservoir: FloatArray  # sorted
    kind: str = field(default="numeric", init=False)

    def to_dict(self) -> dict[str, Any]:
        inner = [float(e) for e in self.edges[1:-1]]
        return {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "min": self.minimum,
            "max": self.maximum,
            "mean": self.mean,
            "std": self.std,
            "bin_edges": ["-inf", *inner, "+inf"],
            "bin_counts": [int(c) for c in self.bin_counts],
            "reservoir": encode_sorted(self.reservoir),
        }


@dataclass(frozen=True)
class CategoricalBaseline:
    name: str
    count: int
    missing: int
    categories: tuple[str, ...]  # most frequent first
    counts: tuple[int, ...]
    other_count: int
    kind: str = field(default="categorical", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "categories": list(self.categories),
            "counts": list(self.counts),
            "other_count": self.other_count,
        }


FeatureBaseline = NumericBaseline | CategoricalBaseline


@dataclass(frozen=True, eq=False)
class Baseline:
    features: tuple[FeatureBaseline, ...]
    config: Mapping[str, int]
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> FeatureBaseline:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def to_json(self) -> str:
        """Deterministic JSON: sorted object keys, features in model-input order, finite floats only."""
        doc = {
            "schema": SCHEMA,
            "config": dict(self.config),
            "metadata": dict(self.metadata),
            "features": [f.to_dict() for f in self.features],
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Baseline:
        from drift._baseline_json import parse_baseline

        return parse_baseline(json.loads(text))


def _numeric(
    name: str, raw: npt.ArrayLike, *, bins: int, edges: Sequence[float] | None, reservoir_size: int, seed: int
) -> NumericBaseline:
    values = np.asarray(raw, dtype=np.float64).ravel()
    finite = np.sort(values[np.isfinite(values)])
    if finite.size == 0:
        raise ValueError(f"feature {name!r} has no finite values")
    if edges is None:
        inner = np.unique(np.quantile(finite, np.arange(1, bins) / bins))
    else:
        inner = np.asarray(edges, dtype=np.float64)
        if inner.ndim != 1 or not np.all(np.isfinite(inner)) or np.any(np.diff(inner) <= 0):
            raise ValueError(f"explicit edges for {name!r} must be finite and strictly increasing")
    all_edges = np.concatenate(([-math.inf], inner, [math.inf]))
    sampler = Reservoir(reservoir_size, seed)
    sampler.extend(values[np.isfinite(values)])
    reservoir = sampler.sorted_sample()
    counts = bin_counts(finite, all_edges)
    for array in (all_edges, counts, reservoir):
        array.setflags(write=False)
    return NumericBaseline(
        name=name,
        count=int(finite.size),
        missing=int(values.size - finite.size),
        minimum=float(finite[0]),
        maximum=float(finite[-1]),
        mean=float(np.mean(finite)),
        std=float(np.std(finite)),
        edges=all_edges,
        bin_counts=counts,
        reservoir=reservoir,
    )


def _categorical(name: str, raw: Iterable[object], top_n: int) -> CategoricalBaseline:
    items = list(raw)
    present = [str(v) for v in items if v is not None and v != "" and not (isinstance(v, float) and math.isnan(v))]
    ranked = sorted(Counter(present).items(), key=lambda kv: (-kv[1], kv[0]))
    if not present:
        raise ValueError(f"feature {name!r} has no values")  # nothing to compare a window with
    top = [(c, n) for c, n in ranked[:top_n] if c != OTHER]
    kept = sum(n for _, n in top)
    return CategoricalBaseline(
        name=name,
        count=len(present),
        missing=len(items) - len(present),
        categories=tuple(c for c, _ in top),
        counts=tuple(n for _, n in top),
        other_count=len(present) - kept,
    )


def _is_categorical(values: object) -> bool:
    if isinstance(values, np.ndarray):
        return values.dtype.kind in "OUS"
    return any(isinstance(v, str) for v in values) if isinstance(values, Sequence) else False


def build_baseline(
    data: Mapping[str, npt.ArrayLike | Sequence[str | None]],
    *,
    bins: int = DEFAULT_BINS,
    edges: Mapping[str, Sequence[float]] | None = None,
    reservoir_size: int = DEFAULT_RESERVOIR_SIZE,
    seed: int = 0,
    top_n: int = DEFAULT_TOP_N,
    categorical: Iterable[str] = (),
    metadata: Mapping[str, str] | None = None,
) -> Baseline:
    """Baseline for every feature of ``data`` (feature name -> 1-D numeric array, or strings for categoricals).

    A feature is categorical when named in ``categorical`` or when its values are strings. Numeric features get
    ``bins`` quantile bins (tied quantiles merge, so a feature may get fewer) unless ``edges`` gives explicit
    interior edges for it; the reservoir for feature number i is seeded with ``seed + i``.
    """
    if bins < 1 or top_n < 1:
        raise ValueError("bins and top_n must be at least 1")
    forced = set(categorical)
    features: list[FeatureBaseline] = []
    for index, (name, values) in enumerate(data.items()):
        if name in forced or _is_categorical(values):
            features.append(_categorical(name, np.asarray(values, dtype=object).ravel().tolist(), top_n))
        else:
            explicit = (edges or {}).get(name)
            features.append(
                _numeric(name, np.asarray(values), bins=bins, edges=explicit, reservoir_size=reservoir_size, seed=seed + index)
            )
    config = {"bins": bins, "reservoir_size": reservoir_size, "seed": seed, "top_n": top_n}
    return Baseline(tuple(features), config, dict(metadata or {}))


def read_csv_columns(
    source: str | os.PathLike[str] | bytes, features: Sequence[str], *, categorical: Iterable[str] = ()
) -> dict[str, FloatArray | list[str]]:
    """Read the named columns of a CSV with a header row (a path, or the file's bytes), with the stdlib csv module.

    Numeric columns become float64 arrays (an empty cell is NaN; anything else unparsable raises ValueError
    naming the row); columns named in ``categorical`` stay lists of strings.
    """
    if isinstance(source, bytes):
        handle: io.TextIOBase = io.StringIO(source.decode("utf-8-sig"), newline="")
    else:
        handle = open(source, encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed below)
    try:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError("CSV has no header row")
        missing = [f for f in features if f not in header]
        if missing:
            raise ValueError(f"CSV lacks columns {missing}")
        positions = [header.index(f) for f in features]
        cells: list[list[str]] = [[] for _ in features]
        for row_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"CSV row {row_number} has {len(row)} fields, the header has {len(header)}")
            for column, position in zip(cells, positions, strict=True):
                column.append(row[position])
    finally:
        handle.close()
    wanted = set(categorical)
    out: dict[str, FloatArray | list[str]] = {}
    for name, column in zip(features, cells, strict=True):
        if name in wanted:
            out[name] = column
            continue
        try:
            out[name] = np.array([float(c) if c.strip() else math.nan for c in column], dtype=np.float64)
        except ValueError as exc:
            bad = next(i for i, c in enumerate(column) if c.strip() and not _parses(c))
            raise ValueError(f"CSV row {bad + 2} column {name!r}: {column[bad]!r} is not a number") from exc
    return out


def _parses(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
