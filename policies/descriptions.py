"""What each policy field means: its attribute docstring, read from the model's source when asked.

The loader's messages and the JSON Schema are the only readers. pydantic's ``use_attribute_docstrings`` would read
them for every model class on every import, by walking the interpreter's stack and every loaded module's path
(25-35 ms of a synth); here a module's source is parsed once, only when a description is wanted.
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel


@cache
def _module_docstrings(module: str) -> dict[str, dict[str, str]]:
    """Attribute docstrings per top-level class of ``module``: a string statement right after an annotated name, as
    pydantic reads them (cleaned as ``inspect.cleandoc`` does)."""
    path = getattr(sys.modules.get(module), "__file__", None)
    if not path or Path(path).suffix != ".py":  # a module shipped as bytecode only: no source, no descriptions
        return {}
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(Path(path).read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.ClassDef):
            continue
        docs: dict[str, str] = {}
        for statement, following in zip(node.body, node.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
        found[node.name] = docs
    return found


def field_description(model: type[BaseModel], field: str) -> str | None:
    """The docstring of ``field`` where it is declared: the first class of ``model``'s MRO that annotates it."""
    for owner in model.__mro__:
        if field in inspect.get_annotations(owner):
            return _module_docstrings(owner.__module__).get(owner.__name__, {}).get(field)
    return None
