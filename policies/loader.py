"""Read a governance policy file into a ``GovernancePolicy``, or fail with every problem named."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from policies.errors import Loc, PolicyError, PolicyIssue
from policies.model import SLUG, GovernancePolicy

DEFAULT_POLICY_PATH = Path(__file__).with_name("governance.yaml")
POLICY_PATH_ENV = "GOVERNANCE_POLICY"


def policy_path() -> Path:
    """The policy file in use: ``$GOVERNANCE_POLICY`` if set, else ``policies/governance.yaml``."""
    return Path(os.environ.get(POLICY_PATH_ENV) or DEFAULT_POLICY_PATH)


def load_policy(path: str | os.PathLike[str] | None = None) -> GovernancePolicy:
    source = Path(path) if path is not None else policy_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([PolicyIssue((), f"cannot read the policy file: {exc.strerror or exc}")], str(source)) from exc
    return parse_policy(text, str(source))


def parse_policy(text: str, source: str = "<policy>") -> GovernancePolicy:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError([PolicyIssue((), f"not valid YAML: {getattr(exc, 'problem', exc)}", line)], source) from exc
    if root is None:
        raise PolicyError([PolicyIssue((), "the file is empty; start from policies/governance.yaml")], source)
    lines: dict[Loc, int] = {}
    duplicates: list[PolicyIssue] = []
    _index_lines(root, (), lines, duplicates)
    if duplicates:
        raise PolicyError(duplicates, source)
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise PolicyError([PolicyIssue((), "the policy must be a mapping of sections (organization, regions, ...)", 1)], source)
    try:
        return GovernancePolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_issue(err) for err in exc.errors()]).with_source(source, lines) from None
    except PolicyError as exc:
        raise exc.with_source(source, lines) from None


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], duplicates: list[PolicyIssue]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                duplicates.append(
                    PolicyIssue(
                        loc + (key,),
                        "key appears twice in the same mapping; YAML would silently keep only the last one",
                        key_node.start_mark.line + 1,
                    )
                )
            seen.add(key)
            _index_lines(value_node, loc + (key,), lines, duplicates)
            lines[loc + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, loc + (i,), lines, duplicates)


def _issue(err: Any) -> PolicyIssue:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    message = str(err["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        message = f"unknown field {loc[-1]!r}" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == SLUG:
        message = f"{err['input']!r} must be lowercase letters and digits, words joined by single hyphens (e.g. 'credit-risk')"
    return PolicyIssue(loc, message)


def _fields_at(loc: Loc) -> list[str]:
    """Field names of the model found by following ``loc`` from the top of the policy."""
    model: type[BaseModel] | None = GovernancePolicy
    mapping_key_next = False
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int) or mapping_key_next:
            mapping_key_next = False
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        mapping_key_next = get_origin(field.annotation) is dict
        model = _model_in(field.annotation)
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
