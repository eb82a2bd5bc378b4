"""What synth packages with the handlers: ``policy.json``, the model's shape and the digest (see ``policies/packaged.py``).

``shape_of(GovernancePolicy)`` describes every part of the model as plain JSON: its fields in order, each
field's kind (``"value"``; ``["part", name]``, ``["enum", name]`` of ``policies.terms``, ``["list", kind]``,
``["dict", kind]``, ``["optional", kind]``), its default as JSON, and the derived views it inherits from
``policies.reading``. A field of any other kind (a union of two models, say) is refused here, at synth, so the
handlers never meet a shape they cannot read.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined, to_jsonable_python

import policies.terms
from policies import packaged
from policies.model import GovernancePolicy
from policies.reading import Reading


class UnpackageableModel(TypeError):
    """A field of the model is of a kind the packaged view cannot rebuild."""


def _kind(annotation: Any, parts: dict[str, Any], where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0], parts, where)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) != 1 or len(typing.get_args(annotation)) != 2:
            raise UnpackageableModel(f"{where}: a union of {options} has no packaged view")
        return ["optional", _kind(options[0], parts, where)]
    if origin is list:
        return ["list", _kind(typing.get_args(annotation)[0], parts, f"{where}[]")]
    if origin is dict:
        return ["dict", _kind(typing.get_args(annotation)[1], parts, f"{where}{{}}")]
    if origin is typing.Literal or annotation in (str, int, float, bool):
        return "value"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _describe(annotation, parts)
        return ["part", annotation.__name__]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        enum_name = annotation.__name__
        if getattr(policies.terms, enum_name, None) is not annotation:
            raise UnpackageableModel(f"{where}: the enum {enum_name} is not one of policies.terms")
        return ["enum", enum_name]
    raise UnpackageableModel(f"{where}: {annotation!r} has no packaged view")


def _describe(model: type[BaseModel], parts: dict[str, Any]) -> None:
    name = model.__name__
    if name in parts:
        return
    readings = [b.__name__ for b in model.__mro__ if b.__module__ == Reading.__module__ and b is not Reading]
    if len(readings) > 1:
        raise UnpackageableModel(f"{name}: its derived views must be one class of policies.reading, not {readings}")
    parts[name] = {"reading": readings[0] if readings else None, "fields": {}}  # registered first: models may recur
    for field_name, field in model.model_fields.items():
        spec: dict[str, Any] = {"type": _kind(field.annotation, parts, f"{name}.{field_name}")}
        default = field.get_default(call_default_factory=True, validated_data={})
        if default is not PydanticUndefined:
            spec["default"] = to_jsonable_python(default)
        parts[name]["fields"][field_name] = spec


def shape_of(model: type[BaseModel] = GovernancePolicy) -> dict[str, Any]:
    """Every part of ``model`` as the packaged view rebuilds it (see the module docstring)."""
    parts: dict[str, Any] = {}
    _describe(model, parts)
    return {"root": model.__name__, "parts": parts}


def packaged_files(policy: GovernancePolicy) -> dict[str, bytes]:
    """The files synth ships with the handlers: the policy, the model's shape and the digest vouching for both (the
    bytes ``policies.packaged.view_files`` writes for a view of the same policy)."""
    return packaged.packaged_files(policy.model_dump(mode="json"), shape_of())
