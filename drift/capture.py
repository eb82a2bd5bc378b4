"""SageMaker data capture files (JSON Lines) -> a column-oriented window of model inputs.

Each line of a capture file is one captured invocation::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "1.0,2.0,3.0", "encoding": "CSV"},
                     "endpointOutput": {...}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-11-20T10:00:00Z"}, "eventVersion": "0"}

Files live under ``{DestinationS3Uri}/{endpoint}/{variant}/{yyyy}/{mm}/{dd}/{hh}/{file}.jsonl`` (UTC hour of the
invocation). A line that cannot be read is counted with a reason and skipped as a whole (all of its rows), never
raised; only the S3 listing and reading are left to the caller.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from drift._payload import MalformedPayload, csv_rows, decode_input, parse_json_payload, row_values, to_number

MAX_EXAMPLES = 10


@dataclass(frozen=True, eq=False)
class CaptureWindow:
    """Captured model inputs by feature (float64 arrays, NaN = missing; object arrays of str for categoricals)."""

    features: tuple[str, ...]
    columns: Mapping[str, npt.NDArray[Any]]
    rows: int
    lines: int
    skipped_lines: int
    skip_reasons: Mapping[str, int]
    out_of_window: int = 0
    examples: tuple[str, ...] = ()
    first_inference_time: str | None = None
    last_inference_time: str | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts for the drift report."""
        return {
            "rows": self.rows,
            "lines": self.lines,
            "skipped_lines": self.skipped_lines,
            "skip_reasons": dict(sorted(self.skip_reasons.items())),
            "out_of_window": self.out_of_window,
            "examples": list(self.examples),
            "first_inference_time": self.first_inference_time,
            "last_inference_time": self.last_inference_time,
        }


class _Column:
    """A growable column: amortised doubling, trimmed to size on read (large buffers, no heap of small chunks)."""

    def __init__(self, dtype: Any) -> None:
        self._buffer: npt.NDArray[Any] = np.empty(0, dtype=dtype)
        self._size = 0

    def extend(self, values: npt.NDArray[Any]) -> None:
        needed = self._size + values.size
        if needed > self._buffer.size:
            grown = np.empty(max(needed, 2 * self._buffer.size, 1024), dtype=self._buffer.dtype)
            grown[: self._size] = self._buffer[: self._size]
            self._buffer = grown
        self._buffer[self._size : needed] = values
        self._size = needed

    def array(self) -> npt.NDArray[Any]:
        if self._buffer.size != self._size:
            self._buffer = self._buffer[: self._size].copy()
        return self._buffer


@dataclass
class _Pending:
    """CSV rows of numeric-only features awaiting one vectorised conversion, with the lines they came from."""

    texts: list[str] = field(default_factory=list)
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # (label, first row, end row)


class CaptureParser:
    """Accumulates capture files into a :class:`CaptureWindow`; feed one file (its text or bytes) at a time.

    ``start``/``end`` (timezone-aware) keep only invocations with ``start <= inferenceTime < end``; records
    outside are counted in ``out_of_window``, records without a readable time are kept.
    """

    def __init__(
        self,
        features: Sequence[str],
        *,
        categorical: Iterable[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> None:
        if not features or len(set(features)) != len(features):
            raise ValueError("features must be a non-empty list of distinct names")
        self.features = tuple(features)
        self.categorical = frozenset(categorical) & set(self.features)
        self._start, self._end = _utc(start), _utc(end)
        self._columns = [_Column(object if f in self.categorical else np.float64) for f in self.features]
        self._rows = self._lines = self._skipped = self._outside = 0
        self._reasons: Counter[str] = Counter()
        self._examples: list[str] = []
        self._first: str | None = None
        self._last: str | None = None

    def feed(self, content: str | bytes, source: str = "<capture>") -> None:
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        pending = _Pending()
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            self._lines += 1
            label = f"{source}:{number}"
            try:
                self._line(line, label, pending)
            except MalformedPayload as exc:
                self._skip(label, exc.reason)
        self._flush(pending)

    def window(self) -> CaptureWindow:
        columns = {name: column.array() for name, column in zip(self.features, self._columns, strict=True)}
        return CaptureWindow(
            features=self.features,
            columns=columns,
            rows=self._rows,
            lines=self._lines,
            skipped_lines=self._skipped,
            skip_reasons=dict(self._reasons),
            out_of_window=self._outside,
            examples=tuple(self._examples),
            first_inference_time=self._first,
            last_inference_time=self._last,
        )

    def _skip(self, label: str, reason: str) -> None:
        self._skipped += 1
        self._reasons[reason] += 1
        if len(self._examples) < MAX_EXAMPLES:
            self._examples.append(f"{label}: {reason}")

    def _line(self, line: str, label: str, pending: _Pending) -> None:
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise MalformedPayload("invalid-json-line") from exc
        if not isinstance(record, dict):
            raise MalformedPayload("invalid-json-line")
        if not self._in_window(record.get("eventMetadata")):  # a record outside the window is not judged, read or not
            return
        capture = record.get("captureData")
        fmt, data = decode_input(capture.get("endpointInput") if isinstance(capture, dict) else None)
        if fmt == "csv":
            width = len(self.features)
            if not self.categorical and '"' not in data:  # fast path: rows stay text until one vectorised parse
                texts = [r for r in data.splitlines() if r.strip()]
                if not texts:
                    raise MalformedPayload("empty-payload")
                if any(r.count(",") != width - 1 for r in texts):
                    raise MalformedPayload("wrong-field-count")
                begin = len(pending.texts)
                pending.texts.extend(texts)
                pending.spans.append((label, begin, len(pending.texts)))
                return
            rows = csv_rows(data)
            if any(len(r) != width for r in rows):
                raise MalformedPayload("wrong-field-count")
            typed = [row_values(r, self.features, self.categorical) for r in rows]
        else:
            typed = [row_values(r, self.features, self.categorical) for r in parse_json_payload(fmt, data, self.features)]
        self._flush(pending)  # keep rows in file order
        self._append_rows(typed)

    def _in_window(self, metadata: Any) -> bool:
        stamp = metadata.get("inferenceTime") if isinstance(metadata, dict) else None
        if not isinstance(stamp, str):
            return True
        if self._start is not None or self._end is not None:
            try:
                moment = datetime.fromisoformat(stamp)
            except ValueError:
                return True
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            if (self._start is not None and moment < self._start) or (self._end is not None and moment >= self._end):
                self._outside += 1
                return False
        self._first = stamp if self._first is None or stamp < self._first else self._first
        self._last = stamp if self._last is None or stamp > self._last else self._last
        return True

    def _append_rows(self, typed: list[list[float | str | None]]) -> None:
        if not typed:
            return
        for index, name in enumerate(self.features):
            values = [row[index] for row in typed]
            dtype: Any = object if name in self.categorical else np.float64
            self._columns[index].extend(np.array(values, dtype=dtype))
        self._rows += len(typed)

    def _flush(self, pending: _Pending) -> None:
        if not pending.texts:
            return
        width = len(self.features)
        try:
            block = np.fromstring(",".join(pending.texts), dtype=np.float64, sep=",")
            ok = block.size == len(pending.texts) * width
        except ValueError:
            ok = False
        if ok:
            table = block.reshape(-1, width)
            for index in range(width):
                self._columns[index].extend(table[:, index])
            self._rows += table.shape[0]
        else:  # some value is not a plain number: convert line by line and skip the bad lines
            for label, begin, end in pending.spans:
                try:
                    typed: list[list[float | str | None]] = [
                        [to_number(v) for v in text.split(",")] for text in pending.texts[begin:end]
                    ]
                except MalformedPayload as exc:
                    self._skip(label, exc.reason)
                    continue
                self._append_rows(typed)
        pending.texts.clear()
        pending.spans.clear()


def parse_capture(
    contents: Iterable[str | bytes],
    features: Sequence[str],
    *,
    categorical: Iterable[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> CaptureWindow:
    """Parse capture files (each the text or bytes of one .jsonl object) into one window."""
    parser = CaptureParser(features, categorical=categorical, start=start, end=end)
    for index, content in enumerate(contents):
        parser.feed(content, source=f"file{index}")
    return parser.window()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("capture window bounds must be timezone-aware datetimes")
    return moment.astimezone(UTC)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else _aware(moment)


def capture_hour_prefixes(prefix: str, endpoint: str, variant: str, start: datetime, end: datetime) -> list[str]:
    """S3 key prefixes ``{prefix}/{endpoint}/{variant}/{yyyy}/{mm}/{dd}/{hh}/`` of every UTC hour overlapping
    [start, end). ``prefix`` is the key part of the capture destination (an ``s3://bucket/...`` URI is accepted)."""
    begin, finish = _aware(start), _aware(end)
    if finish <= begin:
        return []
    if prefix.startswith("s3://"):
        prefix = prefix[len("s3://") :].partition("/")[2]
    base = "/".join(part for part in (prefix.strip("/"), endpoint, variant) if part)
    hour = begin.replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour < finish:
        prefixes.append(f"{base}/{hour:%Y/%m/%d/%H}/")
        hour += timedelta(hours=1)
    return prefixes


def capture_key_hour(key: str) -> datetime | None:
    """The UTC hour a capture object key belongs to (from its ``yyyy/mm/dd/hh`` segments), or None."""
    parts = key.split("/")
    if len(parts) < 5 or not parts[-1]:
        return None
    try:
        year, month, day, hour = (int(p) for p in parts[-5:-1])
        if not all(len(p) == w for p, w in zip(parts[-5:-1], (4, 2, 2, 2), strict=True)):
            return None
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def keys_in_window(keys: Iterable[str], start: datetime, end: datetime) -> list[str]:
    """The capture object keys whose hour overlaps [start, end), in sorted order (unparsable keys are dropped)."""
    begin, finish = _aware(start), _aware(end)
    first_hour = begin.replace(minute=0, second=0, microsecond=0)
    selected = [k for k in keys if (h := capture_key_hour(k)) is not None and first_hour <= h < finish]
    return sorted(selected)


__all__ = [
    "CaptureParser",
    "CaptureWindow",
    "capture_hour_prefixes",
    "capture_key_hour",
    "keys_in_window",
    "parse_capture",
]
