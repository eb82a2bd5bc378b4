"""Validating reader for the baseline JSON document (the inverse of ``Baseline.to_json``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from drift._codec import decode_sorted
from drift.baseline import SCHEMA, Baseline, CategoricalBaseline, FeatureBaseline, NumericBaseline


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"invalid drift baseline: {message}")


def _int(obj: dict[str, Any], key: str, where: str) -> int:
    value: Any = obj.get(key)
    _require(
        isinstance(value, int) and not isinstance(value, bool) and value >= 0, f"{where}.{key} must be a non-negative integer"
    )
    return int(value)


def _float(obj: dict[str, Any], key: str, where: str) -> float:
    value: Any = obj.get(key)
    _require(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
        f"{where}.{key} must be a finite number",
    )
    return float(value)


def _numeric(obj: dict[str, Any], where: str) -> NumericBaseline:
    raw_edges: Any = obj.get("bin_edges")
    _require(isinstance(raw_edges, list) and len(raw_edges) >= 2, f"{where}.bin_edges must be a list")
    _require(raw_edges[0] == "-inf" and raw_edges[-1] == "+inf", f"{where}.bin_edges must start with '-inf' and end with '+inf'")
    inner = raw_edges[1:-1]
    _require(
        all(isinstance(e, int | float) and not isinstance(e, bool) and math.isfinite(e) for e in inner),
        f"{where}.bin_edges must be finite inside",
    )
    edges = np.array([-math.inf, *inner, math.inf], dtype=np.float64)
    _require(bool(np.all(np.diff(edges) > 0)), f"{where}.bin_edges must be strictly increasing")
    counts: Any = obj.get("bin_counts")
    _require(
        isinstance(counts, list) and len(counts) == len(edges) - 1 and all(isinstance(c, int) and c >= 0 for c in counts),
        f"{where}.bin_counts must hold one non-negative integer per bin",
    )
    count = _int(obj, "count", where)
    _require(sum(counts) == count, f"{where}.bin_counts must add up to count")
    try:
        reservoir = decode_sorted(obj.get("reservoir"))
    except ValueError as exc:
        raise ValueError(f"invalid drift baseline: {where}.reservoir: {exc}") from exc
    _require(0 < reservoir.size <= count, f"{where}.reservoir must hold between 1 and count values")
    reservoir.setflags(write=False)
    edges.setflags(write=False)
    bins = np.array(counts, dtype=np.int64)
    bins.setflags(write=False)
    return NumericBaseline(
        name=str(obj["name"]),
        count=count,
        missing=_int(obj, "missing", where),
        minimum=_float(obj, "min", where),
        maximum=_float(obj, "max", where),
        mean=_float(obj, "mean", where),
        std=_float(obj, "std", where),
        edges=edges,
        bin_counts=bins,
        reservoir=reservoir,
    )


def _categorical(obj: dict[str, Any], where: str) -> CategoricalBaseline:
    categories: Any = obj.get("categories")
    counts: Any = obj.get("counts")
    _require(isinstance(categories, list) and all(isinstance(c, str) for c in categories), f"{where}.categories must be strings")
    _require(len(set(categories)) == len(categories), f"{where}.categories must be distinct")
    _require(
        isinstance(counts, list) and len(counts) == len(categories) and all(isinstance(c, int) and c >= 0 for c in counts),
        f"{where}.counts must hold one non-negative integer per category",
    )
    other = _int(obj, "other_count", where)
    count = _int(obj, "count", where)
    _require(sum(counts) + other == count, f"{where}: counts and other_count must add up to count")
    _require(count > 0, f"{where}.count must be positive: a feature with no values cannot be compared")
    return CategoricalBaseline(
        name=str(obj["name"]),
        count=count,
        missing=_int(obj, "missing", where),
        categories=tuple(categories),
        counts=tuple(int(c) for c in counts),
        other_count=other,
    )


def parse_baseline(doc: Any) -> Baseline:
    _require(isinstance(doc, dict), "document must be an object")
    _require(doc.get("schema") == SCHEMA, f"schema must be {SCHEMA!r}, got {doc.get('schema')!r}")
    config: Any = doc.get("config")
    metadata: Any = doc.get("metadata", {})
    raw_features: Any = doc.get("features")
    _require(isinstance(config, dict) and all(isinstance(v, int) for v in config.values()), "config must map names to integers")
    _require(
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()), "metadata must map names to strings"
    )
    _require(isinstance(raw_features, list), "features must be a list")
    features: list[FeatureBaseline] = []
    for index, obj in enumerate(raw_features):
        where = f"features[{index}]"
        _require(isinstance(obj, dict) and isinstance(obj.get("name"), str) and obj["name"], f"{where} needs a name")
        kind = obj.get("kind")
        if kind == "numeric":
            features.append(_numeric(obj, where))
        elif kind == "categorical":
            features.append(_categorical(obj, where))
        else:
            raise ValueError(f"invalid drift baseline: {where}.kind must be 'numeric' or 'categorical', got {kind!r}")
    names = [f.name for f in features]
    _require(len(set(names)) == len(names), "feature names must be distinct")
    return Baseline(tuple(features), dict(config), dict(metadata))
