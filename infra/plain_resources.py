"""Resources a stack creates once per project or Region, written as Terraform JSON instead of provider bindings.

Each binding object costs a synth about 1.4 ms: round trips to the jsii Node kernel and jsii's runtime type checks
of every argument (docs/benchmarks.md), so about 10 ms per project and most of a 1,000-project synth. A block here is
a plain dict; the stack hands all of its blocks to the kernel in one override (``TerraformStack.add_override``,
deep-merged into the stack's JSON at synth), and the stack synthesizes to the JSON the bindings wrote: the same
addresses (cdktn's logical ids, ``logical_id``), the same arguments and construct metadata (only the stack's own
metadata lists the override). tests/infra/test_plain_resources.py renders each block through its binding and
compares, and checks that no block shares an address with a binding; the stack tests' ``terraform validate``
checks the arguments against the provider's schema.

What a block may hold: literals, ``PlainResource.ref`` references, and tokens of the same stack (its data sources'
and bindings' attributes, resolved at synth). A token of another stack is not: cdktn wires cross-stack references
(an output there, remote state here) only for the bindings' arguments, so it would render as a reference to a
resource this stack lacks. The stacks look up what other stacks created by name or alias instead
(``infra/stack_order.py``). The overrides under ``resource`` and ``provider`` are this module's: a stack makes no
other override there.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

    def __init__(self, stack: TerraformStack, stack_id: str) -> None:
        self._stack, self._stack_id = stack, stack_id
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
        named[name] = {"//": metadata, **{key: value for key, value in arguments.items() if value is not None}}
        self._unwritten.add("resource")
        return PlainResource(resource_type, name)

    def add_provider(self, provider: str, alias: str, arguments: Mapping[str, Any]) -> str:
        """Another configuration of ``provider`` (the stack's binding configures its default); returns the name a
        resource's ``provider`` argument gives it. Synthesized after the bindings' configurations, in the order added."""
        configurations = self._providers.setdefault(provider, [])
        if any(c["alias"] == alias for c in configurations):
            raise ValueError(f"{self._stack_id}: provider {provider}.{alias} is added twice")
        given = {key: value for key, value in arguments.items() if value is not None}
        configurations.append({"alias": alias, **given, **self._provider_settings.get(provider, {})})
        self._unwritten.add("provider")
        return f"{provider}.{alias}"

    def configure_providers(self, provider: str, arguments: Mapping[str, Any]) -> None:
        """Set ``arguments`` on every configuration of ``provider``, added so far or later (as on the bindings')."""
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
        override is appended to the bindings' list, so the providers' configurations follow the default's)."""
        if "resource" in self._unwritten:
            self._stack.add_override("resource", self._blocks)
        if "provider" in self._unwritten:
            self._stack.add_override("provider", self._providers)
        self._unwritten.clear()
