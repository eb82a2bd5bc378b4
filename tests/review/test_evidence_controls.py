"""The controls pack: an entry for every rule id the code can emit, none stale, and clear errors when it is wrong."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from policies.rules import infrastructure
from policies.rules.controls import CONTROLS_PATH, ControlPackError, control_pack, load_control_pack
from policies.rules.infrastructure import RESOURCE_RULES

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "policies" / "rules"


def violation_rule_ids() -> set[str]:
    """Every rule id a ``Violation(<id>, ...)`` call in the run-time rules can carry: a literal, or a constant
    (``RULE``, an imported ``CLASSIFICATION_RULE``) resolved in the module's own namespace."""
    found: set[str] = set()
    for path in sorted(RULES_DIR.glob("*.py")):
        module = importlib.import_module(f"policies.rules.{path.stem}")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Violation":
                first = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "rule")
                if isinstance(first, ast.Constant):
                    value = first.value
                else:
                    assert isinstance(first, ast.Name | ast.Attribute), (
                        f"{path}:{node.lineno}: rule id is not a literal or a constant"
                    )
                    value = eval(ast.unparse(first), vars(module))  # noqa: S307 - a name in our own module
                assert isinstance(value, str), f"{path}:{node.lineno}: rule id {value!r} is not a string"
                found.add(value)
    return found


def infrastructure_rule_ids() -> set[str]:
    """RESOURCE_RULES plus every other rule function in policies/rules/infrastructure.py (policy first, returns a Finding)."""
    found = set(RESOURCE_RULES)
    for name, function in inspect.getmembers(infrastructure, inspect.isfunction):
        if function.__module__ != infrastructure.__name__ or function in RESOURCE_RULES.values():
            continue
        parameters = list(inspect.signature(function).parameters)
        if parameters[:1] == ["policy"] and inspect.signature(function).return_annotation in ("Finding", infrastructure.Finding):
            found.add(name.replace("_", "-"))
    return found


def emitted_rule_ids() -> set[str]:
    return violation_rule_ids() | infrastructure_rule_ids()


def test_the_rule_id_collection_finds_what_the_modules_define() -> None:
    assert violation_rule_ids() == {
        "governed-project",
        "classification-tag",
        "metric-thresholds",
        "lineage-evidence",
        "separation-of-duties",
        "undecidable",
        "region-restriction",
        "evidence-provenance",
        "deployment-approval",
        "data-drift",
        "governance-tampering",
        "promotion",
        "model-artifact",
    }
    assert {"provider-region", "resource-region", "audit-object-lock"} <= infrastructure_rule_ids()


def test_every_rule_the_code_can_emit_has_an_entry_and_none_is_stale() -> None:
    pack = control_pack()
    emitted = emitted_rule_ids()
    assert sorted(emitted - set(pack.rules)) == [], "rules without an entry in policies/rules/controls.yaml"
    assert sorted(set(pack.rules) - emitted) == [], "stale entries in policies/rules/controls.yaml"


def test_every_entry_is_complete() -> None:
    pack = control_pack()
    assert set(pack.frameworks) == {"eu-ai-act", "nist-ai-rmf", "iso-42001"}
    for rule in pack.rules.values():
        assert rule.severity in {"critical", "high", "medium", "low"}
        assert len(rule.explanation.split()) >= 25, rule.id
        cited = {fw for fw, refs in rule.controls.items() if refs}
        missing = set(pack.frameworks) - cited
        assert not missing or rule.notes, f"{rule.id} cites nothing from {missing} and does not say why"
        for refs in rule.controls.values():
            assert all(ref.subject.endswith(".") for ref in refs), rule.id
    assert {r.clause for r in pack.for_rule("audit-object-lock").clauses("eu-ai-act")} == {
        "Art. 12(1)",
        "Art. 19(1)",
        "Art. 26(6)",
    }
    assert [r.clause for r in pack.for_rule("separation-of-duties").clauses("nist-ai-rmf")] == [
        "GOVERN 2.1",
        "GOVERN 3.2",
        "MAP 3.5",
    ]
    assert pack.for_rule("lineage-evidence").clauses("iso-42001")[0].clause == "A.7.5"


def test_checkov_checks_map_to_the_rule_they_run() -> None:
    """Each custom check (CKV_MLGOV_n) calls one infrastructure rule; the pack maps the check to that rule."""
    pack = control_pack()
    checks = [p for p in REPO.glob("*/checkov/Ensure*.py") if ".venv" not in p.parts]
    assert checks, "no custom checkov checks found"
    seen = set()
    for path in checks:
        source = path.read_text()
        check_id = re.search(r'id="(CKV_MLGOV_\d+)"', source)
        called = re.search(r"to_result\(self, (\w+)\(", source)
        assert check_id and called, path
        rule = pack.for_check(check_id[1])
        assert rule is not None, f"{check_id[1]} ({path.name}) is not in the controls pack"
        assert rule.id == called[1].replace("_", "-"), path.name
        seen.add(check_id[1])
    assert seen == {c for r in pack.rules.values() for c in r.checkov}


def test_the_pack_is_loaded_once_and_unknown_rules_are_named() -> None:
    assert control_pack() is control_pack()
    with pytest.raises(KeyError, match=r"rule 'no-such-rule' has no entry in the controls pack .*controls\.yaml"):
        control_pack().for_rule("no-such-rule")
    assert control_pack().for_check("CKV_AWS_18") is None


def test_the_pack_module_does_not_import_boto3() -> None:
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse((RULES_DIR / "controls.py").read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert not imported & {"boto3", "botocore"}
    code = "import sys, policies.rules.controls as c; c.control_pack(); print(sorted(m for m in sys.modules if m.startswith(('boto3', 'botocore'))))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def _broken(tmp_path: Path, rule: str, change: dict[str, object] | None = None, drop: str | None = None) -> Path:
    data = yaml.safe_load(CONTROLS_PATH.read_text())
    entry = data["rules"][rule]
    entry.update(change or {})
    if drop:
        entry.pop(drop)
    path = tmp_path / "controls.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("change", "drop", "message"),
    [
        ({"severity": "severe"}, None, "severity: Input should be 'critical', 'high', 'medium' or 'low'"),
        (None, "explanation", "explanation: Field required"),
        ({"explanation": "Too short."}, None, "explanation: String should have at least 80 characters"),
        ({"enforced_by": ["nightly-batch"]}, None, "unknown enforcement point(s) nightly-batch"),
        ({"controls": {"eu-ai-act": []}}, None, "the rule cites no clause of any framework"),
        (
            {"controls": {"sox": [{"clause": "404", "subject": "Internal control over reporting."}]}},
            None,
            "controls.sox: unknown framework",
        ),
        (
            {"controls": {"nist-ai-rmf": [{"clause": "Measure 2.1", "subject": "Test sets are documented."}]}},
            None,
            "controls.nist-ai-rmf[0].clause 'Measure 2.1' is not cited the way nist-ai-rmf numbers it",
        ),
        ({"checkov": ["CKV_MLGOV_2"]}, None, "CKV_MLGOV_2 are mapped to more than one rule"),
        ({"owner": "me"}, None, "owner: Extra inputs are not permitted"),
    ],
)
def test_a_wrong_entry_names_the_file_and_the_rule(
    tmp_path: Path, change: dict[str, object] | None, drop: str | None, message: str
) -> None:
    path = _broken(tmp_path, "lineage-evidence", change, drop)
    with pytest.raises(ControlPackError) as raised:
        load_control_pack(path)
    text = str(raised.value)
    assert text.startswith(str(path)), text
    assert message in text, text
    if "more than one rule" not in message:
        assert raised.value.rule == "lineage-evidence" and "rule 'lineage-evidence'" in text


def test_unreadable_or_malformed_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ControlPackError, match=r"missing\.yaml: cannot read the controls pack"):
        load_control_pack(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [unclosed\n")
    with pytest.raises(ControlPackError, match=r"bad\.yaml: not valid YAML"):
        load_control_pack(bad)
    bad.write_text("schema: ml-governance-controls/0\n")
    with pytest.raises(ControlPackError, match=r"bad\.yaml: schema is 'ml-governance-controls/0'"):
        load_control_pack(bad)
    data = yaml.safe_load(CONTROLS_PATH.read_text())
    data["rules"]["Bad_Id"] = data["rules"]["undecidable"]
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ControlPackError, match=r"'Bad_Id' is not a rule id"):
        load_control_pack(bad)
