"""Resources a stack creates once per project or Region, written as Terraform JSON instead of provider bindings.

Each binding object costs a synth about 1.4 ms: round trips to the jsii Node kernel and jsii's runtime type checks
of every argument (docs/benchmarks.md), so about 10 ms per project and most of a 1,000-project synth. A block here is
a plain dict, and the stack synthesizes to the JSON the bindings wrote: the same addresses (cdktn's logical ids,
``logical_id``), the same arguments and construct metadata. tests/infra/test_plain_resources.py renders each block
through its binding and compares, and checks that no block shares an address with a binding; the stack tests'
``terraform validate`` checks the arguments against the provider's schema.

How the blocks reach the stack's JSON: in a ``GovernanceApp`` (infra/stacks/base.py; what ``infra.app`` synthesizes
with), added to the file cdktn wrote, after it wrote it (``merge_into_synthesized``: the tokens they hold resolved by
the kernel, once per distinct token; the file written as cdktn writes it, keys sorted, two spaces, by orjson). Handing them to
the kernel instead cost jsii's conversion of every nested value, both ways: 0.9 s of a 1,000-project synth. In any
other app (cdktn's ``Testing.app()``), the stack hands them to the kernel in one override per section
(``TerraformStack.add_override``, deep-merged into its JSON at synth), so that ``Testing.synth`` and
``to_terraform`` see them; that test checks that both ways write the same bytes.

What a block may hold: literals, ``PlainResource.ref`` references, and string tokens of the same stack (its data
sources' and bindings' attributes). A token of another stack is not: cdktn wires cross-stack references (an output
there, remote state here) only for the bindings' arguments, so it would render as a reference to a resource this
stack lacks; ``PlainResources.merged`` refuses a reference to an address the stack does not hold, and list, map
and number tokens. The stacks look up what other stacks created by name or alias instead (``infra/stack_order.py``).
The sections ``resource`` and ``provider`` of a stack's overrides are this module's: a stack makes no other
override there.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from cdktn import TerraformStack

# cdktn's logical ids (lib/private/unique.js): a stack's direct child keeps its id; a deeper one joins the path's
# components with "_" (a component that ends its predecessor dropped) and adds the path's MD5, 8 hex digits.
_DISALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_HASH_LENGTH = 8
_MAX_ID_LENGTH = 255
_MAX_HUMAN_LENGTH = 240


def logical_id(path: tuple[str, ...]) -> str:
    """The Terraform name cdktn gives a construct at ``path`` (its ids below the stack)."""
    components = [c for c in path if c != "Default"]
    if not components:
        raise ValueError("a resource needs a construct path below its stack")
    if slashed := [c for c in components if "/" in c]:
        raise ValueError(f"construct ids hold no '/': {slashed[0]!r}")
    if len(components) == 1 and len(candidate := _DISALLOWED.sub("", components[0])) <= _MAX_ID_LENGTH:
        return candidate
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()[:_HASH_LENGTH].upper()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    readable = "_".join(_DISALLOWED.sub("", c) for c in human if c != "Resource")[:_MAX_HUMAN_LENGTH]
    return f"{readable}_{digest}"


@dataclass(frozen=True)
class PlainResource:
    """The address of a plain resource, for references from other arguments."""

    type: str
    name: str

    def ref(self, attribute: str) -> str:
        return f"${{{self.type}.{self.name}.{attribute}}}"


class PlainResources:
    """The plain resources of one stack; ``GovernanceStack.plain_resources()`` writes them when a block of adds ends."""

    def __init__(self, stack: TerraformStack, stack_id: str, *, merged_after_synth: bool = False) -> None:
        self._stack, self._stack_id = stack, stack_id
        self._merged_after_synth = merged_after_synth  # by ``merge_into_synthesized``, not through the kernel
        self._blocks: dict[str, dict[str, dict[str, Any]]] = {}
        self._providers: dict[str, list[dict[str, Any]]] = {}
        self._unwritten: set[str] = set()  # "resource", "provider": what changed since the last write
        self._provider_settings: dict[str, dict[str, Any]] = {}  # set on every configuration, later ones too

    def add(self, resource_type: str, path: tuple[str, ...], arguments: Mapping[str, Any]) -> PlainResource:
        """Add ``resource_type`` at construct ``path`` below the stack; ``arguments`` as the provider's schema names
        them (what the binding's keyword arguments render to), nested blocks as dicts, None left out."""
        name = logical_id(path)
        named = self._blocks.setdefault(resource_type, {})
        if name in named:
            raise ValueError(f"{self._stack_id}: {resource_type}.{name} is added twice ({'/'.join(path)})")
        metadata = {"metadata": {"path": "/".join((self._stack_id, *path)), "uniqueId": name}}
        where = f"{self._stack_id}: {resource_type}.{name}"
        given = {key: _javascript_numbers(value, where) for key, value in arguments.items() if value is not None}
        named[name] = {"//": metadata, **given}
        self._unwritten.add("resource")
        return PlainResource(resource_type, name)

    def add_provider(self, provider: str, alias: str, arguments: Mapping[str, Any]) -> str:
        """Another configuration of ``provider`` (the stack's binding configures its default); returns the name a
        resource's ``provider`` argument gives it. Synthesized after the bindings' configurations, in the order added."""
        configurations = self._providers.setdefault(provider, [])
        if any(c["alias"] == alias for c in configurations):
            raise ValueError(f"{self._stack_id}: provider {provider}.{alias} is added twice")
        where = f"{self._stack_id}: provider {provider}.{alias}"
        given = {key: _javascript_numbers(value, where) for key, value in arguments.items() if value is not None}
        configurations.append({"alias": alias, **given, **self._provider_settings.get(provider, {})})
        self._unwritten.add("provider")
        return f"{provider}.{alias}"

    def configure_providers(self, provider: str, arguments: Mapping[str, Any]) -> None:
        """Set ``arguments`` on every configuration of ``provider``, added so far or later (as on the bindings')."""
        arguments = {key: _javascript_numbers(value, f"{self._stack_id}: {provider}") for key, value in arguments.items()}
        self._provider_settings.setdefault(provider, {}).update(arguments)
        for configuration in self._providers.get(provider, []):
            configuration.update(arguments)
            self._unwritten.add("provider")

    @property
    def providers(self) -> Mapping[str, list[dict[str, Any]]]:
        """Provider, then its configurations as the stack's JSON holds them (read by the equivalence test)."""
        return self._providers

    @property
    def blocks(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Type, then logical id, then the block as the stack's JSON holds it (read by the equivalence test)."""
        return self._blocks

    def write(self) -> None:
        """Hand what changed since the last write to the kernel, replacing what that write handed it (a list in an
        override is appended to the bindings' list, so the providers' configurations follow the default's); nothing
        when ``merge_into_synthesized`` adds them after synth."""
        if "resource" in self._unwritten and not self._merged_after_synth:
            self._stack.add_override("resource", self._blocks)
        if "provider" in self._unwritten and not self._merged_after_synth:
            self._stack.add_override("provider", self._providers)
        self._unwritten.clear()

    def merged(self, synthesized: Path) -> str | None:
        """The stack's JSON that cdktn wrote at ``synthesized`` with the blocks and provider configurations added as
        the kernel merges an override (a block at a taken address refused), formatted as cdktn writes it
        (safe-stable-stringify: keys sorted, two spaces), its tokens resolved; None when the stack has none."""
        if not self._blocks and not self._providers:
            return None
        if synthesized.suffix != ".json":
            raise RuntimeError(
                f"{synthesized}: the governance stacks synthesize to Terraform JSON, not HCL; synthesize without --hcl "
                "(unset SYNTH_HCL_OUTPUT)"
            )
        stack_json = orjson.loads(synthesized.read_bytes())
        resources = stack_json.setdefault("resource", {})
        for resource_type, named in self._blocks.items():
            existing = resources.setdefault(resource_type, {})
            if taken := sorted(set(named) & set(existing)):
                raise ValueError(f"{self._stack_id}: {resource_type}.{taken[0]} is both a binding and a plain block")
            existing.update(named)
        for provider, configurations in self._providers.items():
            stack_json.setdefault("provider", {}).setdefault(provider, []).extend(configurations)
        text, references = _resolve_tokens(
            self._stack, self._stack_id, orjson.dumps(stack_json, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        )
        held = {f"{t}.{n}" for t, named in resources.items() for n in named}
        held |= {f"data.{t}.{n}" for t, named in stack_json.get("data", {}).items() for n in named}
        if dangling := sorted(references - held):
            raise ValueError(
                f"{self._stack_id}: a plain block refers to {dangling[0]}, which the stack does not hold (another "
                "stack's token? look it up by name or alias, or make the block a binding: infra/plain_resources.py)"
            )
        return text


def merge_into_synthesized(stacks: Mapping[Path, PlainResources]) -> None:
    """Add each stack's plain blocks to the JSON cdktn wrote for it (``PlainResources.merged``). Every stack's JSON
    is merged before any is written; if one cannot be, the JSON of every stack with plain blocks is removed, so no
    stack is left without its blocks for Terraform to apply."""
    try:
        texts = {path: text for path, plain in stacks.items() if (text := plain.merged(path)) is not None}
    except Exception:
        for path, plain in stacks.items():
            if plain.blocks or plain.providers:
                path.unlink(missing_ok=True)
        raise
    for path, text in texts.items():
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)


# cdktn's string token, as a string holds it wherever it stands (no JSON escaping needed); a list token is a list
# element "#{TfToken[...]}", a map token a key "&{TfToken[...]}" (a number token: ``_javascript_numbers``).
_TOKEN = re.compile(r"\$\{TfToken\[TOKEN\.\d+\]\}")
_LIST_OR_MAP_TOKEN = re.compile(r"[#&]\{TfToken\[")
# What an attribute's token resolves to: ${aws_type.name.attribute} or ${data.aws_type.name.attribute}.
_REFERENCE = re.compile(r"\$\{((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)\.")


def _resolve_tokens(stack: TerraformStack, stack_id: str, text: str) -> tuple[str, set[str]]:
    """``text`` (a stack's JSON) with its string tokens resolved through the kernel, each distinct token once, in
    one request (a token stands for its ``${...}`` expression wherever a string holds it, as at synth; escaped once,
    as the string holding it is); and the addresses the tokens refer to."""
    if found := _LIST_OR_MAP_TOKEN.search(text):
        raise ValueError(f"{stack_id}: a plain block holds a list or map token ({found[0]!r}); make it a binding")
    tokens = sorted(set(_TOKEN.findall(text)))
    if not tokens:
        return text, set()
    from cdktn import Tokenization

    answers = Tokenization.resolve(tokens, scope=stack, resolver=_token_resolver())
    escaped = {token: orjson.dumps(answer).decode()[1:-1] for token, answer in zip(tokens, answers, strict=True)}
    references = {address for answer in answers for address in _REFERENCE.findall(answer)}
    return _TOKEN.sub(lambda token: escaped[token[0]], text), references


@functools.cache
def _token_resolver() -> Any:
    """The resolver cdktn resolves a stack's JSON with (``_tokens.js``), one kernel object for every stack."""
    from cdktn import DefaultTokenResolver, StringConcat

    return DefaultTokenResolver(StringConcat())


def _javascript_numbers(value: Any, where: str) -> Any:
    """``value`` with its integral floats as integers (JavaScript writes 2, not 2.0); a number token refused."""
    if isinstance(value, float):
        if abs(value) > _NUMBER_TOKEN_ABOVE:
            raise ValueError(f"{where} holds a number token ({value!r}); make it a binding")
        return int(value) if value.is_integer() and abs(value) < _INTEGRAL_AS_INT else value
    if isinstance(value, dict):
        return {key: _javascript_numbers(item, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_javascript_numbers(item, where) for item in value]
    return value


_INTEGRAL_AS_INT = 1e21  # JavaScript writes an integral number below this without a fraction or an exponent
_NUMBER_TOKEN_ABOVE = 1e288  # cdktn's number tokens are doubles near -8.1e298 (a list of numbers: -1.9e289)
