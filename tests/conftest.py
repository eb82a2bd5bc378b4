"""Shared fixtures. Offline by construction: fake AWS credentials for every test, no profile."""

from __future__ import annotations

import copy
import gc
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from policies.loader import load_policy
from policies.model import GovernancePolicy
from policies.validated import DEFAULT_POLICY_PATH

REPO = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.lambdas.world"]

OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
}
for _key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "GOVERNANCE_STATE_BUCKET", "GOVERNANCE_POLICY"):
    os.environ.pop(_key, None)
os.environ.update(OFFLINE_ENV)


def _one_botocore_loader_per_test_session() -> None:
    """Every botocore session of the test run shares one data loader, so AWS's service models are parsed once.

    moto's ``mock_aws`` starts each test on a fresh boto3 default session, and a fresh session parses the
    service models of every client it creates again (SageMaker's alone is megabytes of JSON): ten examples of
    the fail-closed property took 8.3 s instead of 3.3 s. The models are read-only files; sharing their parsed
    form changes nothing a test sees. boto3 appends its own data directory to a session's loader: a shared
    loader keeps one copy."""
    import types

    import botocore.client
    import botocore.hooks
    import botocore.loaders
    import botocore.model
    import botocore.regions
    import botocore.session

    class _SearchPaths(list[str]):
        def append(self, path: str) -> None:
            if path not in self:
                super().append(path)

    loaders: dict[str | None, botocore.loaders.Loader] = {}
    create = botocore.loaders.create_loader

    def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loader = create(search_path_string)
            loader._search_paths = _SearchPaths(loader.search_paths)
            loaders[search_path_string] = loader
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader  # type: ignore[assignment]

    # A client's class (its methods, built from the service model) is the same for every client of a service
    # once the models are shared: build it once per service and model.
    classes: dict[tuple[str, int], tuple[object, type]] = {}  # the model is kept: its id stays its own
    create_class = botocore.client.ClientCreator._create_client_class

    def shared_client_class(self: botocore.client.ClientCreator, service_name: str, service_model: Any) -> type:
        description = service_model._service_description
        key = (service_name, id(description))
        if key not in classes:
            classes[key] = (description, create_class(self, service_name, service_model))
        return classes[key][1]

    botocore.client.ClientCreator._create_client_class = shared_client_class  # type: ignore[method-assign]

    # So is the service model built from it: a fresh one per client made each SageMaker client build a model of
    # every one of its 380 operations again (looking for an endpoint discovery operation it does not have).
    models: dict[tuple[str, int], tuple[object, botocore.model.ServiceModel]] = {}
    load_model = botocore.client.ClientCreator._load_service_model

    def shared_service_model(
        self: botocore.client.ClientCreator, service_name: str, api_version: str | None = None
    ) -> botocore.model.ServiceModel:
        description = self._loader.load_service_model(service_name, "service-2", api_version=api_version)
        key = (service_name, id(description))
        if key not in models:
            models[key] = (description, load_model(self, service_name, api_version))
        return models[key][1]

    botocore.client.ClientCreator._load_service_model = shared_service_model  # type: ignore[method-assign]

    # Every client registers some fifty handlers, each checked for ``**kwargs`` by reading its signature: the
    # answer for a function is the same every time.
    accepts_kwargs = botocore.hooks.accepts_kwargs
    answers: dict[Any, bool] = {}

    def remembered_accepts_kwargs(func: Any) -> bool:
        function = getattr(func, "__func__", func)
        if not isinstance(function, types.FunctionType):
            return bool(accepts_kwargs(func))
        if function not in answers:
            answers[function] = bool(accepts_kwargs(func))
        return answers[function]

    botocore.hooks.accepts_kwargs = remembered_accepts_kwargs

    # Every client renames the events it emits and registers through botocore's aliases, with a cache of names of
    # its own, empty at each client (a tenth of tests/lambdas' time went to filling it again). The answer for a name
    # depends on the aliases only: one cache for every emitter that has botocore's.
    # (The first alias that matches a name wins: the aliases must be botocore's, in botocore's order.)
    alias_names: dict[str, str] = {}
    botocores_aliases = tuple(botocore.hooks.EVENT_ALIASES.items())
    aliaser_init = botocore.hooks.EventAliaser.__init__

    def aliaser_sharing_names(self: botocore.hooks.EventAliaser, event_emitter: Any, event_aliases: Any = None) -> None:
        aliaser_init(self, event_emitter, event_aliases)
        if tuple(self._event_aliases.items()) == botocores_aliases:
            self._alias_name_cache = alias_names

    botocore.hooks.EventAliaser.__init__ = aliaser_sharing_names  # type: ignore[method-assign]

    # A client's endpoint rules are parsed into a rule set for every client (S3's are hundreds of rules): one per
    # service's rules is enough. Resolving an endpoint reads the rule set and the parameters, nothing else.
    providers: dict[tuple[int, int, Any], tuple[object, object, botocore.regions.EndpointProvider]] = {}
    endpoint_provider = botocore.regions.EndpointProvider

    def shared_endpoint_provider(
        ruleset_data: Any, partition_data: Any, excluded_params: Any = None
    ) -> botocore.regions.EndpointProvider:
        key = (id(ruleset_data), id(partition_data), frozenset(excluded_params or ()))
        if key not in providers:
            built = endpoint_provider(ruleset_data, partition_data, excluded_params)
            providers[key] = (ruleset_data, partition_data, built)  # the data is kept: its ids stay its own
        return providers[key][2]

    botocore.regions.EndpointProvider = shared_endpoint_provider  # type: ignore[misc,assignment]


_one_botocore_loader_per_test_session()

# A test session holds millions of long-lived objects (service models, moto's backends, jsii's proxies) and
# allocates containers at a high rate (every client copies botocore's handler tree): at Python's default
# thresholds (700, 10, 10) the collector ran so often that copying that tree took 2-2.8 ms in the session against
# 0.6 ms alone. Less frequent young collections: tests/lambdas 88-97 s -> 73-81 s, about 15 MB more at its peak.
gc.set_threshold(100_000, 50, 100)


@pytest.fixture(autouse=True)
def _offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def _no_wait_between_write_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A status write is attempted as often as in AWS, without the pause between attempts (moto's faults are
    injected, not throttling that a pause relieves): the fault tests spent seconds asleep."""
    from lambdas.actions import SetApprovalStatus

    monkeypatch.setattr(SetApprovalStatus, "backoff_seconds", 0.0)


@pytest.fixture(scope="session")
def policy() -> GovernancePolicy:
    return load_policy(DEFAULT_POLICY_PATH)


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def policy_variant(policy: GovernancePolicy, **changes: Any) -> GovernancePolicy:
    """The policy with sections replaced or merged, validated like a file would be."""
    return GovernancePolicy.model_validate(deep_merge(policy.model_dump(mode="json"), changes))


def with_engines(policy: GovernancePolicy, engines: dict[str, str]) -> GovernancePolicy:
    """The policy with the named endpoints on the given monitoring engine, every other on the drift job."""
    projects = [p.model_dump(mode="json") for p in policy.projects]
    for project in projects:
        for endpoint in project["endpoints"]:
            endpoint["engine"] = engines.get(endpoint["name"], "drift-job")
    return policy_variant(policy, projects=projects)


@dataclass
class Synthesized:
    outdir: Path
    stacks: dict[str, dict[str, Any]]

    def resources(self, rtype: str, stack: str | None = None) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for name, config in self.stacks.items():
            if stack is None or name == stack:
                found.update(config.get("resource", {}).get(rtype, {}))
        return found

    def all_resources(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        for stack, config in self.stacks.items():
            for rtype, items in config.get("resource", {}).items():
                for name, body in items.items():
                    yield stack, rtype, name, body

    def one(self, rtype: str, stack: str | None = None) -> dict[str, Any]:
        items = self.resources(rtype, stack)
        assert len(items) == 1, f"expected one {rtype}, found {sorted(items)}"
        return next(iter(items.values()))


SynthesizeFn = Callable[[GovernancePolicy], Synthesized]


@pytest.fixture(scope="session")
def synthesize(tmp_path_factory: pytest.TempPathFactory) -> SynthesizeFn:
    """Synthesize a policy in this process (the provider import is paid once per session)."""
    from infra.app import synth
    from infra.stack_order import STACK_NAMES

    def _synth(policy: GovernancePolicy) -> Synthesized:
        outdir = synth(policy, tmp_path_factory.mktemp("cdktf.out"))
        stacks = {name: json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()) for name in STACK_NAMES}
        return Synthesized(outdir, stacks)

    return _synth


@pytest.fixture(scope="session")
def synthesized(synthesize: SynthesizeFn, policy: GovernancePolicy) -> Synthesized:
    return synthesize(policy)


@pytest.fixture(scope="session")
def bad_stack_outdir(policy: GovernancePolicy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stack that breaks every organization check (tests/review/bad_stack.py)."""
    from tests.review.bad_stack import synth_bad_stack

    outdir = tmp_path_factory.mktemp("bad-stack")
    synth_bad_stack(policy, outdir)
    return outdir


# ---- slow subprocesses start at the session's start, on one niced thread ---------------------------

Prepare = Callable[[pytest.FixtureRequest, pytest.TempPathFactory], Callable[[], Any]]
EARLY: dict[str, Prepare] = {}


def started_early(prepare: Prepare) -> Any:
    """A session fixture named as ``prepare``, whose work starts at the session's start when a selected test uses it.

    ``prepare(request, tmp_path_factory)`` runs then, on the main thread (so anything the jsii kernel does happens
    there), and returns the work: subprocesses (the checkov scans) that one niced thread runs while the tests run, in
    the order the modules were collected. The fixture waits for the work and returns what it returned, or raises what
    it raised. Used only where it gained: the slow commands of tests/test_commands.py started this way made the tests
    beside them slower by as much (docs/benchmarks.md).
    """
    name = prepare.__name__
    EARLY[name] = prepare

    @pytest.fixture(scope="session", name=name)
    def result(early_work: dict[str, Future[Any]]) -> Any:
        return early_work[name].result()

    return result


@pytest.fixture(scope="session", autouse=True)
def early_work(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Future[Any]]:
    wanted = {name for item in request.session.items for name in getattr(item, "fixturenames", ()) if name in EARLY}
    if not wanted:
        return {}
    from concurrent.futures import ThreadPoolExecutor

    works = {name: prepare(request, tmp_path_factory) for name, prepare in EARLY.items() if name in wanted}
    pool = ThreadPoolExecutor(max_workers=1, initializer=yield_to_the_tests)
    futures = {name: pool.submit(work) for name, work in works.items()}
    pool.shutdown(wait=False)
    return futures


# ---- the embedded deploy runs in the background while the other tests run -----------------------


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Terraform tests go last; ``deployment`` starts their apply at the beginning of the session, and the
    multi-account tests that need no terraform go first, so that their directory's background apply
    (tests/multi_account/conftest.py) starts at the beginning too. Of the terraform tests, the multi-account ones
    go last: that apply's five waves end about half a minute after the single-account apply's three, a time the
    tests of the single-account deploy (the demo, the read-backs) fill. Unless no multi-account test that needs no
    terraform is selected (``-m terraform``): that apply starts at its directory's first test, which then goes first."""

    def terraform(item: pytest.Item) -> bool:
        return item.get_closest_marker("terraform") is not None

    def multi_account(item: pytest.Item) -> bool:  # in tests/multi_account (a test elsewhere may name it)
        return item.nodeid.split("::")[0].split("/")[:2] == ["tests", "multi_account"]

    accounts_apply_starts_early = any(multi_account(item) and not terraform(item) for item in items)

    def order(item: pytest.Item) -> tuple[bool, bool]:
        if terraform(item) and not accounts_apply_starts_early:
            return True, not multi_account(item)
        return terraform(item), multi_account(item) == terraform(item)

    items.sort(key=order)


@pytest.hookimpl(trylast=True)  # after the slowest durations: the nearer the log's end, the likelier a CI tail shows it
def pytest_terminal_summary(terminalreporter: Any) -> None:
    for deployment in BackgroundDeployment.started:
        for failure in deployment.failures():
            terminalreporter.write_line(f"{deployment.what} failed: {failure}")


def yield_to_the_tests() -> None:
    """Lower the calling thread's CPU priority (Linux: per thread, inherited by the threads and processes it starts).

    A background apply runs a dozen terraform providers at once; at equal priority they starve the tests
    running meanwhile on a 2-core machine. Niced, they use what the tests leave and the waits in between."""
    import contextlib
    import threading

    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: equal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class BackgroundDeployment:
    """``deploy(aws, workdir)`` into an embedded AWS, on a thread; the AWS stays up until the session ends.

    ``what`` names the deployment in errors; the tests that need it wait for it (``wait``). ``niced``: it runs at
    a lower CPU priority than the tests (``yield_to_the_tests``); one on the suite's longest path does not.
    What failed in it is printed again at the end of the session (``pytest_terminal_summary``), where a CI log's
    tail shows it."""

    started: ClassVar[list[BackgroundDeployment]] = []

    def __init__(
        self, what: str, region: str, workdir: Path, deploy: Callable[[Any, Path], list[Any]], *, niced: bool = True
    ) -> None:
        import threading

        self.what, self.niced, self._workdir = what, niced, workdir
        self._ready, self._release = threading.Event(), threading.Event()
        self.aws: Any = None
        self.results: list[Any] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(region, workdir, deploy), daemon=True, name=what)
        self._thread.start()
        BackgroundDeployment.started.append(self)

    def applied(self) -> Any:
        """The embedded AWS once every stack applied; an error naming what failed otherwise."""
        aws, _ = self.wait()
        if failures := self.failures():
            raise RuntimeError(f"{self.what} failed: " + "; ".join(failures))
        return aws

    def failures(self) -> list[str]:
        """What went wrong: the deployment's error, or each stack that failed with the first lines of its error."""
        if self.error is not None:
            return [f"{type(self.error).__name__}: {self.error}"]
        from infra.embedded_aws import retried_calls_report

        failed = [f"{r.stack}: " + "\n".join(r.detail.splitlines()[:12]) for r in self.results if not r.ok]
        return failed + retried_calls_report(self._workdir / "moto.log") if failed else []

    def _run(self, region: str, workdir: Path, deploy: Callable[[Any, Path], list[Any]]) -> None:
        from infra.embedded_aws import embedded_aws

        try:
            with embedded_aws(region, log_path=workdir / "moto.log") as aws:
                # Niced once the embedded AWS started: what the apply starts from here on yields to the tests,
                # the server every call of the apply waits on does not (beside three busy processes on two cores,
                # a niced server took 10 s to start against 1.3-1.8 s, and it serves every call of the apply).
                if self.niced:
                    yield_to_the_tests()
                self.aws = aws
                self.results = deploy(aws, workdir)
                self._ready.set()
                self._release.wait()
        except BaseException as exc:  # noqa: BLE001 - surfaced to the tests that wait for the deploy
            self.error = exc
        finally:
            self._ready.set()

    def wait(self, timeout: float = 2400) -> tuple[Any, list[Any]]:
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self.what} did not finish within {timeout} s")
        if self.error is not None:
            raise RuntimeError(f"{self.what} failed: {self.error!r}") from self.error
        return self.aws, self.results

    def stop(self) -> None:
        self._release.set()
        self._thread.join(timeout=60)


def in_the_background(work: Callable[[], list[Any]]) -> Future[list[Any]]:
    """``work()`` on a niced thread from now on; the test that judges it waits with ``result()``, which raises
    what the work raised. For CPU work the applies' waits leave room for (``terraform validate``)."""
    from concurrent.futures import ThreadPoolExecutor

    def niced() -> list[Any]:
        yield_to_the_tests()
        return work()

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(niced)
    pool.shutdown(wait=False)
    return future


def terraform_tests_selected(request: pytest.FixtureRequest, directory: Path | None = None) -> bool:
    """Whether terraform-marked tests (of ``directory``, or anywhere) run in this session and terraform is installed."""
    import shutil

    return shutil.which("terraform") is not None and any(
        item.get_closest_marker("terraform") and directory in (None, Path(str(item.fspath)).parent)
        for item in request.session.items
    )


@pytest.fixture(scope="session", autouse=True)
def validation(request: pytest.FixtureRequest) -> Future[list[Any]] | None:
    """The shipped policy's stacks, validated from the session's start when tests/infra's terraform tests run."""
    if not terraform_tests_selected(request, REPO / "tests" / "infra"):
        return None
    synthesized: Synthesized = request.getfixturevalue("synthesized")
    from infra.stack_order import STACK_NAMES
    from infra.terraform_cli import validate

    return in_the_background(lambda: validate(synthesized.outdir, STACK_NAMES))


@pytest.fixture(scope="session", autouse=True)
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundDeployment | None]:
    if not terraform_tests_selected(request):
        yield None
        return
    synthesized: Synthesized = request.getfixturevalue("synthesized")
    policy: GovernancePolicy = request.getfixturevalue("policy")
    from infra.stack_order import DEPLOY_WAVES
    from infra.terraform_cli import deploy_local

    background = BackgroundDeployment(
        "deploy-local",
        policy.regions.home,
        tmp_path_factory.mktemp("deploy-local"),
        lambda aws, workdir: deploy_local(synthesized.outdir, DEPLOY_WAVES, workdir / "stacks", aws.endpoint),
    )
    yield background
    background.stop()
