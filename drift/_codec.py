"""Compact, lossless JSON encoding of a sorted float64 sample (the baseline's reservoir).

Values are mapped to order-preserving unsigned 64-bit keys, delta-encoded (sorted input gives small deltas),
byte-shuffled (all first bytes, then all second bytes, ...), zlib-compressed and base64-encoded. When every value
is a decimal with at most 9 fractional digits (data read from CSV usually is), the keys are the scaled integers
instead, which compress far better. Decoding reproduces the float64 values bit for bit.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_SIGN = np.uint64(1 << 63)
_MAX_DECIMALS = 9
_EXACT_INT = float(2**53)


def _pack(keys: npt.NDArray[np.uint64]) -> str:
    deltas = np.diff(keys, prepend=np.uint64(0))  # uint64 arithmetic wraps, and so does the cumsum that undoes it
    shuffled = deltas.astype("<u8").view(np.uint8).reshape(-1, 8).T.copy()
    return base64.b64encode(zlib.compress(shuffled.tobytes(), 9)).decode("ascii")


def _unpack(data: str, count: int) -> npt.NDArray[np.uint64]:
    raw = np.frombuffer(zlib.decompress(base64.b64decode(data, validate=True)), dtype=np.uint8)
    if raw.size != 8 * count:
        raise ValueError("encoded sample has the wrong length")
    deltas = raw.reshape(8, count).T.copy().view("<u8").reshape(count)
    return np.cumsum(deltas, dtype=np.uint64)


def _decimal_scale(values: FloatArray) -> tuple[int, npt.NDArray[np.int64]] | None:
    if np.any(np.signbit(values) & (values == 0)):  # -0.0 scales to the integer 0, which decodes as +0.0
        return None
    for decimals in range(_MAX_DECIMALS + 1):
        scale = 10.0**decimals
        scaled = np.round(values * scale)
        if np.any(np.abs(scaled) >= _EXACT_INT):
            return None
        if np.array_equal(scaled / scale, values):
            return decimals, scaled.astype(np.int64)
    return None


def encode_sorted(values: FloatArray) -> dict[str, Any]:
    """Encode finite, ascending float64 values as a JSON-ready mapping."""
    if values.size and not np.all(np.isfinite(values)):
        raise ValueError("only finite values can be encoded")
    decimal = _decimal_scale(values) if values.size else (0, np.zeros(0, dtype=np.int64))
    if decimal is not None:
        decimals, ints = decimal
        return {
            "codec": "decimal-delta-zlib",
            "count": int(values.size),
            "decimals": decimals,
            "data": _pack(ints.view(np.uint64)),
        }
    bits = values.view(np.uint64)
    keys = np.where(bits & _SIGN, ~bits, bits | _SIGN)
    return {"codec": "float64-delta-zlib", "count": int(values.size), "data": _pack(keys)}


def decode_sorted(obj: Any) -> FloatArray:
    """Inverse of :func:`encode_sorted`; raises ValueError on anything malformed."""
    if not isinstance(obj, dict):
        raise ValueError("encoded sample must be an object")
    count, data, codec = obj.get("count"), obj.get("data"), obj.get("codec")
    if not isinstance(count, int) or count < 0 or not isinstance(data, str):
        raise ValueError("encoded sample needs an integer count and a string data field")
    try:
        keys = _unpack(data, count)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"encoded sample is corrupt: {exc}") from exc
    if codec == "decimal-delta-zlib":
        decimals = obj.get("decimals")
        if not isinstance(decimals, int) or not 0 <= decimals <= _MAX_DECIMALS:
            raise ValueError("decimal codec needs decimals in 0..9")
        values = keys.view(np.int64).astype(np.float64) / 10.0**decimals
    elif codec == "float64-delta-zlib":
        values = np.where(keys & _SIGN, keys ^ _SIGN, ~keys).view(np.float64)
    else:
        raise ValueError(f"unknown sample codec {codec!r}")
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) < 0):
        raise ValueError("decoded sample is not finite and sorted")
    return values
