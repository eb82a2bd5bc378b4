"""drift.capture: SageMaker data capture lines in every documented encoding, malformed lines, the key layout."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from drift.capture import CaptureParser, CaptureWindow, capture_hour_prefixes, capture_key_hour, keys_in_window, parse_capture
from tests.drift.helpers import breast_cancer, capture_line, csv_row

FEATURES = ["a", "b", "c"]


def parse(lines: list[str], features: list[str] = FEATURES, **kwargs: Any) -> CaptureWindow:
    return parse_capture(["\n".join(lines)], features, **kwargs)


def test_documented_csv_record() -> None:
    """The shape AWS documents: CSV input with a trailing newline, CSV output, event metadata."""
    window = parse_capture([capture_line("1.0,2.0,3.0\n")], FEATURES)
    assert window.rows == 1 and window.skipped_lines == 0 and window.lines == 1
    assert [window.columns[f].tolist() for f in FEATURES] == [[1.0], [2.0], [3.0]]
    assert window.first_inference_time == window.last_inference_time == "2026-11-20T10:00:00Z"


def test_multi_row_csv_payload() -> None:
    window = parse_capture([capture_line("1,2,3\n4,5,6\n\n7,8,9"), capture_line("10,11,12")], FEATURES)
    assert window.rows == 4 and window.lines == 2
    assert window.columns["a"].tolist() == [1.0, 4.0, 7.0, 10.0]
    assert window.columns["c"].tolist() == [3.0, 6.0, 9.0, 12.0]


@pytest.mark.parametrize(
    "payload",
    [
        {"instances": [[1, 2, 3], [4, 5, 6]]},
        {"instances": [{"features": [1, 2, 3]}, {"features": [4, 5, 6]}]},
        {"instances": [{"a": 1, "b": 2, "c": 3}, {"c": 6, "b": 5, "a": 4, "extra": "ignored"}]},
        {"features": [[1, 2, 3], [4, 5, 6]]},
        [[1, 2, 3], [4, 5, 6]],
        [{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}],
        [{"features": [1, 2, 3]}, {"features": ["4", "5.0", 6]}],
    ],
)
def test_json_payload_shapes(payload: object) -> None:
    window = parse([capture_line(json.dumps(payload), encoding="JSON", content_type="application/json")])
    assert window.skipped_lines == 0, window.skip_reasons
    assert window.columns["a"].tolist() == [1.0, 4.0] and window.columns["c"].tolist() == [3.0, 6.0]


@pytest.mark.parametrize("payload", [{"features": [1, 2, 3]}, [1, 2, 3], {"a": 1, "b": 2, "c": 3}])
def test_single_row_json_shapes(payload: object) -> None:
    window = parse([capture_line(json.dumps(payload), encoding="JSON", content_type="application/json")])
    assert window.rows == 1 and window.columns["b"].tolist() == [2.0]


def test_base64_payloads_follow_the_observed_content_type() -> None:
    lines = [
        capture_line("1,2,3\n4,5,6", encoding="BASE64", content_type="text/csv"),
        capture_line(json.dumps({"instances": [[7, 8, 9]]}), encoding="BASE64", content_type="application/json"),
        capture_line(
            '{"features": [10, 11, 12]}\n{"features": [13, 14, 15]}', encoding="BASE64", content_type="application/jsonlines"
        ),
    ]
    window = parse(lines)
    assert window.skipped_lines == 0
    assert window.columns["a"].tolist() == [1.0, 4.0, 7.0, 10.0, 13.0]


def test_json_null_and_empty_csv_fields_are_missing_values() -> None:
    window = parse(
        [capture_line("1,,3"), capture_line(json.dumps([[4, None, 6]]), encoding="JSON", content_type="application/json")]
    )
    assert window.rows == 2 and np.isnan(window.columns["b"]).all()


def test_a_key_a_json_row_leaves_out_is_a_missing_value() -> None:
    """Leaving a key out is how many clients send "no value": the row is read, the value missing (which the drift
    report's missing-share check judges), not the line skipped as unreadable."""
    json_line = lambda doc: capture_line(json.dumps(doc), encoding="JSON", content_type="application/json")  # noqa: E731
    window = parse([json_line({"a": 1, "c": 3}), json_line([{"b": 2, "c": 3}]), json_line({"instances": [{"a": 4}]})])
    assert window.skipped_lines == 0 and window.rows == 3
    assert np.isnan(window.columns["b"][[0, 2]]).all() and np.isnan(window.columns["a"][1])


def test_malformed_lines_are_counted_not_raised() -> None:
    good = capture_line("1,2,3")
    output_only = json.dumps({"captureData": {"endpointOutput": {"data": "0.5", "encoding": "CSV"}}, "eventMetadata": {}})
    lines = [
        good,
        "this is not json",
        "[1, 2, 3]",
        output_only,
        capture_line("1,2"),  # wrong field count
        capture_line("1,2,3\n4,5"),  # one bad row spoils its whole line
        capture_line("1,two,3"),  # not a number
        capture_line("!!notbase64!!", content_type="text/csv").replace('"CSV"', '"BASE64"'),
        capture_line("1,2,3", encoding="BASE64", content_type="application/octet-stream"),
        capture_line("1,2,3", encoding="PROTOBUF"),
        capture_line("\n\n"),
        capture_line("{not json", encoding="JSON", content_type="application/json"),
        capture_line(json.dumps({"inputs": [1, 2, 3]}), encoding="JSON", content_type="application/json"),
        capture_line(json.dumps([{"x": 1, "y": 2}]), encoding="JSON", content_type="application/json"),  # no feature
        capture_line(json.dumps([[1, True, 3]]), encoding="JSON", content_type="application/json"),
        "",
        good,
    ]
    window = parse(lines)
    assert window.rows == 2 and window.columns["a"].tolist() == [1.0, 1.0]
    assert window.lines == 16 and window.skipped_lines == 14
    assert window.skip_reasons == {
        "invalid-json-line": 2,
        "no-endpoint-input": 1,
        "wrong-field-count": 2,
        "non-numeric-value": 2,
        "invalid-base64": 1,
        "unsupported-content-type": 1,
        "unsupported-encoding": 1,
        "empty-payload": 1,
        "invalid-json-payload": 1,
        "unrecognized-json-shape": 1,
        "missing-feature": 1,
    }
    assert window.examples[0] == "file0:2: invalid-json-line"
    summary = window.summary()
    assert json.loads(json.dumps(summary))["skipped_lines"] == 14


def test_categorical_features_in_capture() -> None:
    lines = [
        capture_line("1.5,red,3"),
        capture_line(json.dumps({"a": 2, "b": "blue", "c": 4}), encoding="JSON", content_type="application/json"),
    ]
    window = parse(lines, categorical=["b"])
    assert window.columns["b"].tolist() == ["red", "blue"]
    assert window.columns["a"].dtype == np.float64


def test_time_window_filters_records() -> None:
    start = datetime(2026, 11, 20, 10, tzinfo=UTC)
    lines = [capture_line("1,2,3", time=f"2026-11-20T{h:02d}:30:00Z") for h in (9, 10, 11)]
    window = parse(lines, start=start, end=start + timedelta(hours=1))
    assert window.rows == 1 and window.out_of_window == 2 and window.skipped_lines == 0
    assert window.first_inference_time == "2026-11-20T10:30:00Z"


def test_parser_accumulates_files_and_bytes() -> None:
    names, x = breast_cancer()
    parser = CaptureParser(names)
    for block in np.array_split(x, 4):
        parser.feed("\n".join(capture_line(csv_row(r)) for r in block).encode(), source="s3://bucket/key.jsonl")
    window = parser.window()
    assert window.rows == 569
    np.testing.assert_array_equal(np.column_stack([window.columns[n] for n in names]), x)
    with pytest.raises(ValueError, match="distinct"):
        CaptureParser(["a", "a"])


def test_empty_window() -> None:
    window = parse_capture([], FEATURES)
    assert window.rows == 0 and window.columns["a"].size == 0


def test_hour_prefixes_follow_the_documented_layout() -> None:
    start = datetime(2026, 12, 31, 22, 15, tzinfo=UTC)
    prefixes = capture_hour_prefixes(
        "s3://bucket/data-capture/", "churn-endpoint", "AllTraffic", start, start + timedelta(hours=2)
    )
    assert prefixes == [
        "data-capture/churn-endpoint/AllTraffic/2026/12/31/22/",
        "data-capture/churn-endpoint/AllTraffic/2026/12/31/23/",
        "data-capture/churn-endpoint/AllTraffic/2027/01/01/00/",
    ]
    cet = timezone(timedelta(hours=1))
    assert capture_hour_prefixes("", "ep", "v", datetime(2026, 1, 1, 1, tzinfo=cet), datetime(2026, 1, 1, 2, tzinfo=cet)) == [
        "ep/v/2026/01/01/00/"
    ]
    assert capture_hour_prefixes("p", "ep", "v", start, start) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        capture_hour_prefixes("p", "ep", "v", datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_key_hours_and_window_selection() -> None:
    keys = [
        "dc/ep/AllTraffic/2026/11/20/09/59-59-999-aaaa.jsonl",
        "dc/ep/AllTraffic/2026/11/20/10/00-01-123-bbbb.jsonl",
        "dc/ep/AllTraffic/2026/11/20/11/30-00-000-cccc.jsonl",
        "dc/ep/AllTraffic/2026/11/20/12/00-00-000-dddd.jsonl",
        "dc/ep/AllTraffic/readme.txt",
    ]
    assert capture_key_hour(keys[1]) == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert capture_key_hour(keys[-1]) is None
    start = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    assert keys_in_window(reversed(keys), start, start + timedelta(hours=1)) == keys[1:3]


def test_base64_helper_round_trip() -> None:
    line = json.loads(capture_line("1,2,3", encoding="BASE64"))
    assert base64.b64decode(line["captureData"]["endpointInput"]["data"]) == b"1,2,3"
