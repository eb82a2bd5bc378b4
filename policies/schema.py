"""JSON Schema of the governance policy, for editors (``make schema`` regenerates it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from policies.descriptions import field_description
from policies.model import GovernancePolicy

SCHEMA_PATH = Path(__file__).with_name("governance.schema.json")


class _DescribedFields(GenerateJsonSchema):
    """Each field's docstring as its description (the models leave them unread: policies/descriptions.py)."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        for name, field in json_schema.get("properties", {}).items():
            if "description" not in field and (description := field_description(schema["cls"], name)):
                field["description"] = description
        return json_schema


def policy_schema() -> dict[str, Any]:
    schema = GovernancePolicy.model_json_schema(mode="validation", schema_generator=_DescribedFields)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/ml-governance-blueprint/policies/governance.schema.json"
    schema["title"] = "ML governance policy"
    return schema


def rendered() -> str:
    return json.dumps(policy_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.schema")
    parser.add_argument("--write", action="store_true", help="rewrite policies/governance.schema.json")
    args = parser.parse_args(argv)
    if args.write:
        SCHEMA_PATH.write_text(rendered())
        print(f"wrote {SCHEMA_PATH}")
        return 0
    sys.stdout.write(rendered())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
