"""What the demo plays on the deployed blueprint: the governed path, then the mistakes and attacks the policy is for.

Each scenario says what should happen (which handler decides what, under which rule, and what state
AWS is left in); the demo then checks the handlers' answers, the audit records they wrote and the
resources against it. Nothing here decides: the deployed handlers do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.lifecycle import REGISTRAR, Lifecycle, remove_evidence, replace_report
from pipelines.evidence import DATA
from policies.model import Project
from policies.naming import (
    APPROVAL_GATE,
    CLASSIFICATION_TAGS,
    DEPLOYMENT_GUARD,
    DRIFT_MONITOR,
    MODEL_DEPLOYER,
    REGION_GUARD,
    TAMPER_WATCH,
)

Result = tuple[str, dict[str, Any] | str]  # (function, the handler's answer or why it failed)


class CannotPlay(ValueError):
    """The policy lacks what a scenario needs."""


@dataclass(frozen=True)
class Expected:
    handler: str
    decision: str
    rule: str | None = None


@dataclass
class Outcome:
    title: str
    project: str
    expected: tuple[Expected, ...]
    results: list[Result] = field(default_factory=list)
    state: list[tuple[str, bool]] = field(default_factory=list)
    """What AWS should look like afterwards, each with whether it does."""


@dataclass
class Cast:
    """The projects the scenarios use, chosen from the policy."""

    primary: Project
    """A project with an endpoint: deployed, monitored for drift, withdrawn."""
    secondary: Project
    forbidden_region: str | None

    @classmethod
    def from_policy(cls, lifecycle: Lifecycle) -> Cast:
        policy = lifecycle.policy
        with_endpoints = [p for p in policy.projects if p.endpoints]
        if not with_endpoints:
            raise CannotPlay("the demo needs a project with an endpoint in the policy (projects[].endpoints)")
        primary = with_endpoints[0]
        secondary = next((p for p in policy.projects if p.name != primary.name), primary)
        forbidden = next((r for r in policy.regions.forwarded if r not in policy.regions.allowed), None)
        return cls(primary, secondary, forbidden)


def shuffled_labels() -> Any:
    """The bundled dataset after an upstream join bug: every row's label is another row's (the schema still holds)."""
    import numpy as np

    from pipelines import dataset

    frame = dataset.load()
    frame[dataset.TARGET] = np.random.default_rng(3).permutation(frame[dataset.TARGET].to_numpy())
    return frame


class Play:
    """The scenarios in order; each group is one method. ``outcomes`` collects what each scenario expected and got."""

    def __init__(self, lifecycle: Lifecycle, on_step: Callable[[str], None]) -> None:
        self.lc, self.names, self.on_step = lifecycle, lifecycle.names, on_step
        self.cast = Cast.from_policy(lifecycle)
        self.endpoint = self.cast.primary.endpoints[0].name
        self.quarantine = lifecycle.policy.deployment.quarantine.value
        self.outcomes: list[Outcome] = []
        self.live = self.coin = ""
        self.approved: dict[str, str] = {}  # project -> its version approved on the governed path

    def scenario(self, title: str, project: Project, *expected: Expected) -> Outcome:
        self.on_step(title)
        outcome = Outcome(title, project.name, expected)
        self.outcomes.append(outcome)
        return outcome

    def governed_path(self) -> None:
        lc, primary, endpoint = self.lc, self.cast.primary, self.endpoint
        for project in lc.policy.projects:  # every governed project: its pipeline's version, approved by another person
            step = self.scenario(
                f"{project.name}: pipeline run registered, approved by another person", project, Expected(APPROVAL_GATE, "allow")
            )
            version = lc.register(project)
            step.results += lc.approve(version)
            step.state.append((f"version {version.rsplit('/', 1)[-1]} stays Approved", lc.status(version) == "Approved"))
            self.approved[project.name] = version
            if project.name == primary.name:
                self.live = version

        step = self.scenario(
            f"The deployer puts {primary.name}'s version behind {endpoint}",
            primary,
            Expected(MODEL_DEPLOYER, "allow"),
            Expected(DEPLOYMENT_GUARD, "allow"),
        )
        step.results += lc.deploy(self.live, endpoint)
        step.state.append((f"{endpoint} exists", lc.endpoint_exists(endpoint)))

    def drift(self) -> None:
        lc, primary, endpoint = self.lc, self.cast.primary, self.endpoint
        monitor = self.names.handler_function(DRIFT_MONITOR)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        healthy_at, drifted_at = now - timedelta(hours=27), now  # 24-hour windows that do not overlap
        step = self.scenario(f"{endpoint} receives traffic like its training data", primary, Expected(DRIFT_MONITOR, "allow"))
        lc.capture(primary, endpoint, shifted=False, before=healthy_at)
        step.results.append((monitor, lc.drift_run(endpoint, healthy_at)))

        step = self.scenario(
            f"{endpoint}'s traffic drifts (three features up one standard deviation)",
            primary,
            Expected(DRIFT_MONITOR, "deny", "data-drift"),
        )
        lc.capture(primary, endpoint, shifted=True, before=drifted_at)
        step.results.append((monitor, lc.drift_run(endpoint, drifted_at)))

    def refused_versions(self) -> None:
        lc, primary, secondary = self.lc, self.cast.primary, self.cast.secondary
        step = self.scenario(
            "Labels shuffled upstream: the model is no better than chance",
            secondary,
            Expected(APPROVAL_GATE, "deny", "metric-thresholds"),
        )
        self.coin = coin = lc.register(secondary, frame=shuffled_labels())
        step.results += lc.approve(coin)
        step.state.append(("the version is Rejected", lc.status(coin) == "Rejected"))

        step = self.scenario(
            f"{REGISTRAR} approves the version she registered", secondary, Expected(APPROVAL_GATE, "deny", "separation-of-duties")
        )
        own = lc.register(secondary)
        step.results += lc.approve(own, by=REGISTRAR)
        step.state.append(("the version is Rejected", lc.status(own) == "Rejected"))

        step = self.scenario(
            "Evaluation report rewritten after the run", primary, Expected(APPROVAL_GATE, "deny", "evidence-provenance")
        )
        forged = lc.register(primary, tamper=replace_report({"auc": 0.99, "accuracy": 0.99}, lc.aws))
        step.results += lc.approve(forged)
        step.state.append(("the version is Rejected", lc.status(forged) == "Rejected"))

        step = self.scenario(
            "Training data deleted from the run before approval", primary, Expected(APPROVAL_GATE, "deny", "lineage-evidence")
        )
        orphan = lc.register(primary, tamper=remove_evidence(DATA.key, lc.aws))
        step.results += lc.approve(orphan)
        step.state.append(("the version is Rejected", lc.status(orphan) == "Rejected"))

    def deployments_outside_approvals(self) -> None:
        lc, primary, secondary = self.lc, self.cast.primary, self.cast.secondary
        canary = f"{secondary.name}-canary"
        step = self.scenario(
            "The deployer is asked for the rejected version", secondary, Expected(MODEL_DEPLOYER, "deny", "deployment-approval")
        )
        step.results += lc.deploy(self.coin, canary)
        step.state.append((f"no endpoint {canary}", not lc.endpoint_exists(canary)))

        overwritten = f"{secondary.name}-overwritten"
        step = self.scenario(
            f"{secondary.name}'s approved model.tar.gz overwritten, then deployment asked",
            secondary,
            Expected(MODEL_DEPLOYER, "deny", "model-artifact"),
        )
        lc.overwrite_model(self.approved[secondary.name])
        step.results += lc.deploy(self.approved[secondary.name], overwritten)
        step.state.append((f"no endpoint {overwritten}", not lc.endpoint_exists(overwritten)))

        shadow = f"{primary.name}-shadow"
        step = self.scenario(
            "An administrator creates an endpoint from raw model data",
            primary,
            Expected(DEPLOYMENT_GUARD, "deny", "deployment-approval"),
        )
        step.results += lc.raw_endpoint(primary, shadow, region=lc.aws.region).results
        if self.quarantine == "delete-endpoint":
            step.state.append((f"{shadow} deleted (quarantine: delete-endpoint)", not lc.endpoint_exists(shadow)))

    def sagemaker_work(self) -> None:
        lc, primary = self.lc, self.cast.primary
        job = f"{primary.name}-adhoc"
        step = self.scenario(
            "Training job started without its classification tag",
            primary,
            Expected(CLASSIFICATION_TAGS, "deny", "classification-tag"),
        )
        step.results += lc.training_job(primary, job, region=lc.aws.region).results
        if lc.policy.classification.remediation.value == "stop":
            step.state.append((f"{job} stopped", lc.training_job_status(job, lc.aws.region) in {"Stopping", "Stopped"}))

        if region := self.cast.forbidden_region:
            job = f"{primary.name}-offshore"
            step = self.scenario(
                f"Training job started in {region}, outside the allowed Regions",
                primary,
                Expected(REGION_GUARD, "deny", "region-restriction"),
            )
            step.results += lc.training_job(primary, job, region=region, tags=lc.policy.project_tags(primary)).results
            step.state.append((f"{job} stopped", lc.training_job_status(job, region) in {"Stopping", "Stopped"}))

            offshore = f"{primary.name}-offshore"
            step = self.scenario(
                f"Endpoint created in {region}, outside the allowed Regions",
                primary,
                Expected(REGION_GUARD, "deny", "region-restriction"),
            )
            step.results += lc.raw_endpoint(primary, offshore, region=region).results
            step.state.append((f"{offshore} deleted", not lc.endpoint_exists(offshore, region)))

    def governance(self) -> None:
        lc, primary, endpoint = self.lc, self.cast.primary, self.endpoint
        step = self.scenario(
            "Someone disables the approval gate's rule", primary, Expected(TAMPER_WATCH, "deny", "governance-tampering")
        )
        step.results += lc.tamper("disable-rule", name=self.names.handler_rule(APPROVAL_GATE)).results

        step = self.scenario(
            f"The approver withdraws the live version: {endpoint} is quarantined",
            primary,
            Expected(DEPLOYMENT_GUARD, "deny", "deployment-approval"),
        )
        step.results += lc.reject(self.live)
        if self.quarantine == "delete-endpoint":
            step.state.append((f"{endpoint} deleted (quarantine: delete-endpoint)", not lc.endpoint_exists(endpoint)))


def play(lifecycle: Lifecycle, *, on_step: Callable[[str], None] = lambda _: None) -> list[Outcome]:
    """Every scenario, in the order a platform's first weeks might bring them."""
    run = Play(lifecycle, on_step)
    run.governed_path()
    run.drift()
    run.refused_versions()
    run.deployments_outside_approvals()
    run.sagemaker_work()
    run.governance()
    return run.outcomes
