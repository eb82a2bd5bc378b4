"""A policy the model already validated, built again without validating it (see ``policies/packaged.py``).

``validated_policy(data)`` builds ``GovernancePolicy`` from ``model_dump(mode="json")`` of a validated
policy, field by field with ``model_construct``: nested models, enums by value, lists, dicts and
optionals as the model declares them. It refuses (``NotTheModelsDump``) data whose keys are not
exactly the model's fields at every level, so it never fills in a default or drops a value; the
caller then validates in full. The result equals ``GovernancePolicy.model_validate(data)``
(tests/policies/test_packaged_policy.py checks every example policy).
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel

from policies.model import GovernancePolicy, policy_fingerprint


class NotTheModelsDump(ValueError):
    """The data is not a dump of this model (a field missing or unknown): validate it instead."""


def _build(annotation: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _build(typing.get_args(annotation)[0], value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) != 1:
            raise NotTheModelsDump(f"{where}: a union of {options} is not built without validation")
        return _build(options[0], value, where)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return [_build(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(annotation)
        return {k: _build(item, v, f"{where}.{k}") for k, v in value.items()}
    if origin is typing.Literal:
        return value
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model(annotation, value, where)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation(value)
    if annotation in (str, int, float, bool):
        return value
    raise NotTheModelsDump(f"{where}: {annotation!r} is not built without validation")


def _model(cls: type[BaseModel], value: Any, where: str) -> BaseModel:
    if not isinstance(value, dict) or set(value) != set(cls.model_fields):
        raise NotTheModelsDump(f"{where or 'the policy'} does not have exactly the fields of {cls.__name__}")
    fields = {
        name: _build(field.annotation, value[name], f"{where}.{name}".lstrip(".")) for name, field in cls.model_fields.items()
    }
    return cls.model_construct(**fields)


def validated_policy(data: dict[str, Any]) -> GovernancePolicy:
    """The policy whose validated ``model_dump(mode="json")`` is ``data``, without validating it again."""
    policy = _model(GovernancePolicy, data, "")
    assert isinstance(policy, GovernancePolicy)
    # The version (fingerprint) of the dump itself, as model_dump would give it: the cached property's value.
    policy.__dict__["fingerprint"] = policy_fingerprint(data)
    return policy
