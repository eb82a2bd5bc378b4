"""Every governed name is spelled once: tag keys and resource-name patterns live in their home module only.

A literal tag key or name pattern anywhere else is a second source of truth that drifts the
day the policy or naming changes; this test finds them in the product code (tests excluded).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("policies", "iam", "lambdas", "infra", "review", "pipelines", "drift")

# literal -> the modules allowed to spell it (exact string constants)
EXACT_HOMES = {
    "ml-project": {"policies/terms.py"},
    "owner-team": {"policies/terms.py"},
    "governance-stack": {"policies/naming.py"},
    "data-classification": {"policies/model/sections.py", "policies/rules/outcome.py"},  # the default tag key; a rule set's name
}
# name fragments (inside any string constant, f-string parts included) -> home
FRAGMENT_HOMES = {
    "-ml-permissions-boundary": {"policies/naming.py"},
    "-sagemaker-execution": {"policies/naming.py"},
    "-governance-alerts": {"policies/naming.py"},
    "-governance-idempotency": {"policies/naming.py"},
    "-governance-trail": {"policies/naming.py"},
    "-governance-event-forwarding": {"policies/naming.py"},
    "-cloudtrail-to-logs": {"policies/naming.py"},
    "-forward-": {"policies/naming.py"},
    "-dlq": {"policies/naming.py"},
    "-ml-": {"policies/naming.py"},
    "decisions/": {"policies/naming.py"},
}


@functools.cache  # each file parsed once for every literal's test
def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # a bare string statement is documentation (a docstring, or an attribute's docstring)
    docstrings = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _product_files() -> list[Path]:
    return sorted(p for root in PRODUCT if (REPO / root).is_dir() for p in (REPO / root).rglob("*.py"))


def test_the_scan_sees_the_product_code() -> None:
    files = {str(p.relative_to(REPO)) for p in _product_files()}
    assert {"policies/naming.py", "lambdas/table.py", "infra/stacks/enforcement.py"} <= files


@pytest.mark.parametrize("literal", sorted(EXACT_HOMES))
def test_tag_keys_are_spelled_only_in_their_home(literal: str) -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path in _product_files()
        if str(path.relative_to(REPO)) not in EXACT_HOMES[literal]
        for line, value in _string_constants(path)
        if value == literal
    ]
    assert found == [], f"{literal!r} spelled outside {sorted(EXACT_HOMES[literal])}: use its constant"


@pytest.mark.parametrize("fragment", sorted(FRAGMENT_HOMES))
def test_resource_name_patterns_are_spelled_only_in_naming(fragment: str) -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}: {value!r}"
        for path in _product_files()
        if str(path.relative_to(REPO)) not in FRAGMENT_HOMES[fragment]
        for line, value in _string_constants(path)
        if fragment in value
    ]
    assert found == [], f"{fragment!r} spelled outside policies/naming.py: derive the name from Names"
