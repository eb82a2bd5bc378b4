"""The policy as packaged with the enforcement handlers, and the view they read it through without pydantic.

At synth the policy is validated (``policies.loader``) and written as ``policy.json``, the normalized
model (``policies.model.packaged.packaged_files``). Beside it go ``policy.shape.json``, what the model
says each part is (its fields, their types and defaults, the derived views it inherits from
``policies.reading``), and ``policy.json.sha256``: the SHA-256 of both files together with the source of
the model that validated them (``policies/terms.py``, ``policies/reading.py`` and ``policies/model/``).

A handler that finds the digest matching its files and its own model source knows it holds exactly
what that model accepted and how the model reads it, and builds a view of it (``policy_view``): the
same fields, enums, lists and dicts, the same derived views (they are the same methods), frozen,
without importing pydantic or the model. Any other file, or files that do not match, are validated in full. Nothing here
imports pydantic (an import-linter contract keeps it so).

The synth reads a policy file it validated before through the same view (``policies/validated.py``) and packages a
view as it packages the model: ``packaged_files`` writes the same bytes for both (``view_data`` is the model's
``model_dump(mode="json")`` of the policy the view was built from).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import policies.reading
import policies.terms
from policies.reading import Reading, policy_fingerprint

DIGEST_SUFFIX = ".sha256"
SHAPE_FILE = "policy.shape.json"
POLICIES = Path(__file__).resolve().parent


class NotTheModelsDump(ValueError):
    """The data is not a dump of the model its shape describes (a field missing or unknown): validate it instead."""


def model_sources() -> list[Path]:
    """The files that decide how a policy is read: the vocabulary, the derived views and the model, in a stable order."""
    return [POLICIES / "terms.py", POLICIES / "reading.py", *sorted((POLICIES / "model").glob("*.py"))]


def packaged_digest(policy_json: bytes, shape_json: bytes) -> str:
    """The digest written beside ``policy.json`` at synth: both files and the model source that wrote them."""
    digest = hashlib.sha256(b"policy.json\0" + hashlib.sha256(policy_json).digest())
    digest.update(f"\0{SHAPE_FILE}\0".encode() + hashlib.sha256(shape_json).digest())
    for source in model_sources():
        digest.update(f"\0{source.relative_to(POLICIES.parent).as_posix()}\0".encode())
        digest.update(hashlib.sha256(source.read_bytes()).digest())
    return digest.hexdigest()


def policy_json(data: dict[str, Any]) -> bytes:
    """``policy.json``: the JSON of the policy's dump, one serializer whether a model or a view was dumped."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def shape_json(shape: dict[str, Any]) -> bytes:
    return (json.dumps(shape, indent=1) + "\n").encode()


def packaged_files(data: dict[str, Any], shape: dict[str, Any]) -> dict[str, bytes]:
    """The files synth ships with the handlers: the policy (its dump ``data``), the model's shape and the digest."""
    policy_bytes, shape_bytes = policy_json(data), shape_json(shape)
    digest = (packaged_digest(policy_bytes, shape_bytes) + "\n").encode()
    return {"policy.json": policy_bytes, SHAPE_FILE: shape_bytes, "policy.json" + DIGEST_SUFFIX: digest}


def digest_file(policy_file: Path) -> Path:
    return policy_file.with_name(policy_file.name + DIGEST_SUFFIX)


def vouched_shape(policy_file: Path, policy_json: bytes) -> dict[str, Any] | None:
    """The shape beside ``policy_file`` when the digest vouches for both files under this model; otherwise None."""
    try:
        recorded = digest_file(policy_file).read_text(encoding="ascii").strip()
        shape_json = policy_file.with_name(SHAPE_FILE).read_bytes()
    except (OSError, UnicodeDecodeError):
        return None
    if recorded != packaged_digest(policy_json, shape_json):
        return None
    shape: dict[str, Any] = json.loads(shape_json)
    return shape


def vouched_view(policy_file: Path, policy_json: bytes) -> Any | None:
    """The policy in ``policy_json`` (read from ``policy_file``) as a view, when the digest beside it vouches for it
    and it is exactly a dump of the model its shape describes; otherwise None (validate it in full)."""
    shape = vouched_shape(policy_file, policy_json)
    if shape is None:
        return None
    try:
        return policy_view(json.loads(policy_json), shape)
    except NotTheModelsDump:
        return None


class PartView(Reading):
    """One part of the packaged policy (``Project``, ``Regions``...): its fields as attributes, frozen."""

    _part = ""
    _fields: tuple[str, ...] = ()
    _types: dict[str, Any] = {}  # noqa: RUF012 - set per built class, never mutated
    _defaults: dict[str, Any] = {}  # noqa: RUF012 - JSON values, built on use
    _family: dict[str, type[PartView]] = {}  # noqa: RUF012 - every part class of one shape, by name
    _shape: dict[str, Any] = {}  # noqa: RUF012 - the shape the family was built from

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(self._fields))
        missing = [f for f in self._fields if f not in values and f not in self._defaults]
        if unknown or missing:
            raise NotTheModelsDump(f"{self._part}: unknown fields {unknown}, missing fields {missing}")
        for name in self._fields:
            value = values[name] if name in values else _build(self._family, self._types[name], self._defaults[name], name)
            object.__setattr__(self, name, value)

    def _sibling(self, name: str) -> Callable[..., Any]:
        return self._family[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self._part} is frozen: the packaged policy is read, never changed")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self._part} is frozen: the packaged policy is read, never changed")

    def model_copy(self, *, update: dict[str, Any]) -> Any:
        """A copy with the fields in ``update`` replaced, unvalidated, as the model's ``model_copy(update=...)``; the
        root's ``fingerprint`` is the copy's own."""
        unknown = sorted(set(update) - set(self._fields))
        if unknown:
            raise NotTheModelsDump(f"{self._part}: unknown fields {unknown}")
        copied = object.__new__(type(self))
        for name in self._fields:
            object.__setattr__(copied, name, update.get(name, getattr(self, name)))
        if "fingerprint" in vars(self):
            object.__setattr__(copied, "fingerprint", _fingerprint(view_data(copied), self._shape))
        return copied

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartView) or other._part != self._part:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self._part, self._values()))

    def __repr__(self) -> str:
        return f"{self._part}({', '.join(f'{name}={getattr(self, name)!r}' for name in self._fields)})"


def _build(family: dict[str, type[PartView]], kind: Any, value: Any, where: str) -> Any:
    """``value`` (JSON) as the model holds it: parts, enums, lists and dicts by ``kind`` (see ``shape_of``)."""
    if kind == "value":
        return value
    tag, inner = kind
    if tag == "optional":
        return None if value is None else _build(family, inner, value, where)
    if tag == "list":
        if not isinstance(value, list):
            raise NotTheModelsDump(f"{where}: not a list")
        return [_build(family, inner, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if tag == "dict":
        if not isinstance(value, dict):
            raise NotTheModelsDump(f"{where}: not a mapping")
        return {k: _build(family, inner, v, f"{where}.{k}") for k, v in value.items()}
    if tag == "enum":
        return getattr(policies.terms, inner)(value)
    if tag == "part":
        part = family[inner]
        if not isinstance(value, dict) or set(value) != set(part._fields):
            raise NotTheModelsDump(f"{where or 'the policy'} does not have exactly the fields of {inner}")
        return part(**{name: _build(family, part._types[name], v, f"{where}.{name}".lstrip(".")) for name, v in value.items()})
    raise NotTheModelsDump(f"{where}: unknown kind {kind!r}")


def _family(shape: dict[str, Any]) -> dict[str, type[PartView]]:
    family: dict[str, type[PartView]] = {}
    for name, part in shape["parts"].items():
        reading = getattr(policies.reading, part["reading"]) if part["reading"] else Reading
        family[name] = type(
            name,
            (PartView, reading),
            {
                "_part": name,
                "_fields": tuple(part["fields"]),
                "_types": {f: spec["type"] for f, spec in part["fields"].items()},
                "_defaults": {f: spec["default"] for f, spec in part["fields"].items() if "default" in spec},
                "_family": family,
                "_shape": shape,
                "__module__": __name__,
            },
        )
    return family


def policy_view(data: dict[str, Any], shape: dict[str, Any]) -> Any:
    """The policy whose validated ``model_dump(mode="json")`` is ``data``, as a view built from ``shape``.

    Refuses (``NotTheModelsDump``) data whose keys are not exactly the parts' fields at every level, so it never
    fills in a default or drops a value.
    """
    family = _family(shape)
    view = _build(family, ["part", shape["root"]], data, "")
    object.__setattr__(view, "fingerprint", _fingerprint(data, shape))
    return view


def _fingerprint(data: dict[str, Any], shape: dict[str, Any]) -> str:
    """The version (fingerprint) of the dump itself, as the model computes it from the same JSON."""
    parts = shape["parts"]

    def defaults_of(name: str) -> dict[str, Any]:
        return {f: spec["default"] for f, spec in parts[name]["fields"].items()}

    return policy_fingerprint(data, defaults_of)


def _dumped(value: Any) -> Any:
    if isinstance(value, PartView):
        return {name: _dumped(getattr(value, name)) for name in value._fields}
    if isinstance(value, list):
        return [_dumped(v) for v in value]
    if isinstance(value, dict):
        return {k: _dumped(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value


def view_data(view: Any) -> dict[str, Any]:
    """The dump a view was built from (``policy_view``'s ``data``), after any ``model_copy``: the model's
    ``model_dump(mode="json")`` of the same policy."""
    data: dict[str, Any] = _dumped(view)
    return data


def view_files(view: Any) -> dict[str, bytes]:
    """``packaged_files`` of a view: the same bytes as the model's it was built from."""
    return packaged_files(view_data(view), view._shape)
