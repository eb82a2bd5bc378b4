"""Decoding one captured request payload (``captureData.endpointInput``) into rows of feature values.

SageMaker writes ``encoding`` "CSV" or "JSON" when the request's content type is listed in the endpoint's
``CaptureContentTypeHeader`` (``CsvContentTypes`` / ``JsonContentTypes``), and "BASE64" otherwise; a BASE64
payload is read as CSV or JSON according to ``observedContentType``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import math
from collections.abc import Sequence
from typing import Any, Literal

Format = Literal["csv", "json", "jsonlines"]
Row = list[Any]


class MalformedPayload(ValueError):
    """A captured request that cannot be turned into rows; ``reason`` is a short stable code for the report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _format_of(content_type: str) -> Format | None:
    lowered = content_type.lower()
    if "csv" in lowered:
        return "csv"
    if "jsonlines" in lowered or "x-ndjson" in lowered:
        return "jsonlines"
    if "json" in lowered:
        return "json"
    return None


def decode_input(endpoint_input: Any) -> tuple[Format, str]:
    """The payload text and how to read it, from an ``endpointInput`` object."""
    if not isinstance(endpoint_input, dict):
        raise MalformedPayload("no-endpoint-input")
    data = endpoint_input.get("data")
    if not isinstance(data, str):
        raise MalformedPayload("missing-data")
    encoding = str(endpoint_input.get("encoding", "")).upper()
    by_type = _format_of(str(endpoint_input.get("observedContentType", "")))
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise MalformedPayload("invalid-base64") from exc
        fmt = by_type
    elif encoding == "CSV":
        fmt = "csv"
    elif encoding == "JSON":
        fmt = by_type if by_type in ("json", "jsonlines") else "json"
    elif encoding == "":
        fmt = by_type
    else:
        raise MalformedPayload("unsupported-encoding")
    if fmt is None:
        raise MalformedPayload("unsupported-content-type")
    return fmt, data


def csv_rows(text: str) -> list[list[str]]:
    """Rows of a (possibly multi-row) CSV payload; blank lines are ignored."""
    if '"' in text:
        rows = [row for row in csv.reader(text.splitlines()) if row]
    else:
        rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if not rows:
        raise MalformedPayload("empty-payload")
    return rows


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def _rows_of(items: list[Any]) -> list[Any]:
    if not items:
        raise MalformedPayload("empty-payload")
    if all(_is_scalar(v) for v in items):
        return [items]  # one flat row
    rows: list[Any] = []
    for item in items:
        if isinstance(item, dict) and "features" in item and isinstance(item["features"], list):
            rows.append(item["features"])
        elif isinstance(item, list | dict):
            rows.append(item)
        else:
            raise MalformedPayload("unrecognized-json-shape")
    return rows


def json_rows(document: Any, features: Sequence[str]) -> list[Any]:
    """Rows (lists, or dicts keyed by feature name) from the JSON shapes inference requests commonly use:
    ``{"instances": [...]}``, ``{"features": [...]}``, ``{"instances": [{"features": [...]}]}``, a list of lists,
    a list of dicts, one flat list, or one dict keyed by feature name."""
    if isinstance(document, dict):
        for key in ("instances", "features"):
            if key in document:
                inner = document[key]
                if not isinstance(inner, list):
                    raise MalformedPayload("unrecognized-json-shape")
                return _rows_of(inner)
        if features and any(f in document for f in features):
            return [document]  # a feature it leaves out is missing, as a null would be
        raise MalformedPayload("unrecognized-json-shape")
    if isinstance(document, list):
        return _rows_of(document)
    raise MalformedPayload("unrecognized-json-shape")


def parse_json_payload(fmt: Format, text: str, features: Sequence[str]) -> list[Any]:
    try:
        if fmt == "jsonlines":
            rows: list[Any] = []
            for line in text.splitlines():
                if line.strip():
                    rows.extend(json_rows(json.loads(line), features))
            if not rows:
                raise MalformedPayload("empty-payload")
            return rows
        return json_rows(json.loads(text), features)
    except json.JSONDecodeError as exc:
        raise MalformedPayload("invalid-json-payload") from exc
    except RecursionError as exc:
        raise MalformedPayload("invalid-json-payload") from exc


def to_number(value: Any) -> float:
    """A numeric feature value: numbers, numeric strings; None and "" are missing (NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise MalformedPayload("non-numeric-value")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if not value.strip():
            return math.nan
        try:
            return float(value)
        except ValueError as exc:
            raise MalformedPayload("non-numeric-value") from exc
    raise MalformedPayload("non-numeric-value")


def to_category(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise MalformedPayload("non-scalar-category")


def row_values(row: Any, features: Sequence[str], categorical: frozenset[str]) -> list[float | str | None]:
    """Typed values of one row in model-input order; raises MalformedPayload when it does not fit."""
    if isinstance(row, dict):
        if not any(f in row for f in features):
            raise MalformedPayload("missing-feature")
        cells = [row.get(f) for f in features]  # a key left out is how many clients send no value: missing
    elif isinstance(row, list):
        if len(row) != len(features):
            raise MalformedPayload("wrong-field-count")
        cells = row
    else:
        raise MalformedPayload("unrecognized-json-shape")
    return [to_category(c) if f in categorical else to_number(c) for f, c in zip(features, cells, strict=True)]
