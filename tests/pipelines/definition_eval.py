"""Evaluate a pipeline definition's expressions the way SageMaker would, against a local run.

Enough of the definition language for the RegisterModel arguments: ``Std:Join``, ``Std:JsonGet``
on a processing step's property file, and ``Get`` of execution variables and parameters. A
property file is read from the local run's directory of the processing output it names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any


def flatten(steps: list[dict[str, Any]], depth: int = 0) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for step in steps:
        found.append((depth, step))
        arguments = step.get("Arguments", {})
        found += flatten(arguments.get("IfSteps", []), depth + 1)
        found += flatten(arguments.get("ElseSteps", []), depth + 1)
    return found


def by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["Name"]: step for _, step in flatten(definition["Steps"])}


@dataclass(frozen=True)
class PropertyFileRef:
    step: str
    name: str
    output: str
    path: str
    local_path: str
    s3_uri: Any


def property_file(definition: dict[str, Any], reference: str) -> PropertyFileRef:
    """``Steps.<step>.PropertyFiles.<name>`` -> the processing output and file it reads."""
    _, step_name, _, name = reference.split(".")
    step = by_name(definition)[step_name]
    (entry,) = [p for p in step["PropertyFiles"] if p["PropertyFileName"] == name]
    (output,) = [o for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"] if o["OutputName"] == entry["OutputName"]]
    return PropertyFileRef(
        step_name, name, entry["OutputName"], entry["FilePath"], output["S3Output"]["LocalPath"], output["S3Output"]["S3Uri"]
    )


@dataclass(frozen=True)
class Execution:
    """One execution of a definition, its processing outputs found in ``workdir/<last part of LocalPath>``."""

    definition: dict[str, Any]
    execution_id: str
    execution_arn: str
    workdir: Path

    def resolve(self, expression: Any) -> Any:
        if isinstance(expression, list):
            return [self.resolve(e) for e in expression]
        if not isinstance(expression, Mapping):
            return expression
        if "Std:Join" in expression:
            join = expression["Std:Join"]
            return str(join["On"]).join(str(self.resolve(v)) for v in join["Values"])
        if "Std:JsonGet" in expression:
            get = expression["Std:JsonGet"]
            ref = property_file(self.definition, get["PropertyFile"]["Get"])
            document: Any = json.loads((self.workdir / PurePosixPath(ref.local_path).name / ref.path).read_bytes())
            for part in str(get["Path"]).split("."):
                document = document[part]
            return document
        if set(expression) == {"Get"}:
            name = str(expression["Get"])
            if name == "Execution.PipelineExecutionId":
                return self.execution_id
            if name == "Execution.PipelineExecutionArn":
                return self.execution_arn
            if name.startswith("Parameters."):
                (parameter,) = [p for p in self.definition["Parameters"] if p["Name"] == name.split(".", 1)[1]]
                return parameter["DefaultValue"]
            raise KeyError(f"cannot resolve {name} offline")
        return {key: self.resolve(value) for key, value in expression.items()}
