"""Every resource and lookup the stacks create, written as Terraform JSON instead of provider bindings.

Each binding object costs a synth about 1.4 ms: round trips to the jsii Node kernel and jsii's runtime type checks
of every argument (docs/benchmarks.md), so about 10 ms per project and most of a 1,000-project synth. A block here is
a plain dict, and the stack synthesizes to the JSON the bindings wrote: the same addresses (cdktn's logical ids,
``logical_id``), the same arguments and construct metadata. tests/infra/test_plain_resources.py renders each block
through its binding and compares (a wrong argument, type or nested block fails there), pins the depends_on edges
(which it takes as written), and checks that no block shares an address with a binding; the stack tests'
``terraform validate`` checks the shipped policy's stacks against the provider's schema. Only Model Monitor's
resources (infra/constructs/monitored_endpoint.py) are still bindings.

How the blocks reach the stack's JSON: in a ``GovernanceApp`` (infra/stacks/base.py; what ``infra.app`` synthesizes
with), added to the file cdktn wrote, after it wrote it (``merge_into_synthesized``): the string tokens they hold,
noted as the blocks are added, resolved by the kernel in one request per stack (each token once; a string whose
tokens the kernel resolves together, whole), the file written as cdktn writes it (keys sorted, two spaces; orjson).
Handing the blocks to the kernel instead cost jsii's conversion of every nested value, both ways: 0.9 s of a
1,000-project synth. In any other app (cdktn's ``Testing.app()``), the stack hands them to the kernel in one override
per section (``TerraformStack.add_override``, deep-merged into its JSON at synth), so that ``Testing.synth`` and
``to_terraform`` see them; that test checks that both ways write the same bytes. Where they would not: a float
between 1e-6 and 1e-5 (orjson writes ``1e-6``, JavaScript ``0.000001``) and map keys above U+FFFF (sorted by code
point, not by UTF-16 unit), the same values to Terraform.

What a block may hold: literals, ``PlainResource.ref`` references (a data block's too: ``add_data``), and string
tokens of the same stack (its bindings' and assets' attributes). A token of another stack is not: cdktn wires
cross-stack references (an output there, remote state here) only for the bindings' arguments, so it would render as
a reference to a resource this stack lacks. ``PlainResources.merged`` refuses any reference, from a token or written
by hand, and any depends_on, to an address the stack does not hold; ``add`` refuses list, map and number tokens, a
token in a map's key, a kernel object, an integer beyond 2**53. The stacks look up what other stacks created by name
or alias instead (``infra/stack_order.py``). The sections ``resource``, ``data`` and ``provider`` of a stack's
overrides are this module's: a stack makes no other override there. The stacks' default provider configurations
(``set_default_provider``: no provider binding is loaded unless a stack's bindings need one), outputs
(``add_output``), ``terraform`` settings (``set_terraform``) and Lambda archives (``add_asset``) are written here too,
after synth in a ``GovernanceApp`` (the outputs noted under ``//`` as ``TerraformOutput`` notes them, for ``cdktn
output``; the archives linked where ``TerraformAsset`` copies them); in any other app through the kernel
(``TerraformOutput``, ``add_override``, ``TerraformAsset``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
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

    @property
    def address(self) -> str:
        """``type.name``, as ``depends_on`` names a resource."""
        return f"{self.type}.{self.name}"


class PlainResources:
    """The plain resources of one stack; ``GovernanceStack.plain_resources()`` writes them when a block of adds ends."""

    def __init__(self, stack: TerraformStack, stack_id: str, *, merged_after_synth: bool = False) -> None:
        self._stack, self._stack_id = stack, stack_id
        self._merged_after_synth = merged_after_synth  # by ``merge_into_synthesized``, not through the kernel
        self._blocks: dict[str, dict[str, dict[str, Any]]] = {}
        self._data: dict[str, dict[str, dict[str, Any]]] = {}  # data sources, as the stack's JSON holds them
        self._providers: dict[str, list[dict[str, Any]]] = {}
        self._outputs: dict[str, dict[str, Any]] = {}
        self._assets: dict[str, tuple[str, Path]] = {}  # logical id -> (path in the stack's directory, file)
        self._settings: dict[tuple[str, ...], Any] = {}  # below the stack's ``terraform`` block
        self._unwritten: set[str] = set()  # "resource", "data", "provider": what changed since the last write
        self._tokened: set[str] = set()  # the strings that hold a string token, resolved when the blocks are merged
        self._provider_settings: dict[str, dict[str, Any]] = {}  # set on every configuration, later ones too

    def add(self, resource_type: str, path: tuple[str, ...], arguments: Mapping[str, Any]) -> PlainResource:
        """Add ``resource_type`` at construct ``path`` below the stack; ``arguments`` as the provider's schema names
        them (what the binding's keyword arguments render to), nested blocks as dicts, None left out."""
        name = self._add(self._blocks, "resource", resource_type, path, arguments)
        return PlainResource(resource_type, name)

    def add_data(self, data_type: str, path: tuple[str, ...], arguments: Mapping[str, Any]) -> PlainResource:
        """Add the data source ``data_type`` at construct ``path``, as ``add`` adds a resource; its ``ref`` reads it."""
        name = self._add(self._data, "data", data_type, path, arguments)
        return PlainResource(f"data.{data_type}", name)

    def _add(
        self,
        section: dict[str, dict[str, dict[str, Any]]],
        kind: str,
        block_type: str,
        path: tuple[str, ...],
        arguments: Mapping[str, Any],
    ) -> str:
        name = logical_id(path)
        named = section.setdefault(block_type, {})
        address = f"{'data.' if kind == 'data' else ''}{block_type}.{name}"
        if name in named:
            raise ValueError(f"{self._stack_id}: {address} is added twice ({'/'.join(path)})")
        metadata = {"metadata": {"path": "/".join((self._stack_id, *path)), "uniqueId": name}}
        named[name] = {"//": metadata, **self._json_arguments(arguments, f"{self._stack_id}: {address}")}
        self._unwritten.add(kind)
        return name

    def set_default_provider(self, provider: str, arguments: Mapping[str, Any]) -> None:
        """The default configuration of ``provider`` (no alias), first of its configurations, as the provider's binding
        writes it (``drop_default_provider`` when a binding writes it instead)."""
        configurations = self._providers.setdefault(provider, [])
        if configurations and "alias" not in configurations[0]:
            raise ValueError(f"{self._stack_id}: the default {provider} provider is set twice")
        given = self._json_arguments(arguments, f"{self._stack_id}: provider {provider}")
        configurations.insert(0, {**given, **self._provider_settings.get(provider, {})})
        self._unwritten.add("provider")

    def drop_default_provider(self, provider: str) -> dict[str, Any]:
        """Leave the default configuration of ``provider`` to its binding (which writes it first); returns it, with
        what ``configure_providers`` set on it, for the binding to take (empty if there was none)."""
        configurations = self._providers.get(provider, [])
        if configurations and "alias" not in configurations[0]:
            self._unwritten.add("provider")
            return configurations.pop(0)
        return {}

    def add_provider(self, provider: str, alias: str, arguments: Mapping[str, Any]) -> str:
        """Another configuration of ``provider`` (after its default one); returns the name a resource's ``provider``
        argument gives it. Synthesized after the default configuration, in the order added."""
        configurations = self._providers.setdefault(provider, [])
        if any(c.get("alias") == alias for c in configurations):
            raise ValueError(f"{self._stack_id}: provider {provider}.{alias} is added twice")
        given = self._json_arguments(arguments, f"{self._stack_id}: provider {provider}.{alias}")
        configurations.append({"alias": alias, **given, **self._provider_settings.get(provider, {})})
        self._unwritten.add("provider")
        return f"{provider}.{alias}"

    def add_output(self, name: str, value: str, *, description: str | None = None) -> None:
        """The stack's output ``name``, as ``TerraformOutput(stack, name, value=..., description=...)`` writes it."""
        if not _OUTPUT_NAME.fullmatch(name):
            raise ValueError(f"{self._stack_id}: {name!r} is not an output name (a letter or _, then letters, digits, _ or -)")
        if name in self._outputs:
            raise ValueError(f"{self._stack_id}: output {name} is added twice")
        self._outputs[name] = self._json_arguments({"value": value, "description": description}, f"output {name}")
        if not self._merged_after_synth:
            from cdktn import TerraformOutput

            TerraformOutput(self._stack, name, value=value, description=description)

    def add_asset(self, construct_id: str, source: Path, asset_hash: str) -> str:
        """The file ``source`` as the stack's asset ``construct_id``, where ``TerraformAsset(stack, construct_id,
        path=source, type=FILE, asset_hash=asset_hash)`` puts it: ``assets/<id>/<hash>/<name>`` beside the stack's JSON
        (returned, for the arguments that name it). Placed when the stack's JSON is merged (only after synth)."""
        if not self._merged_after_synth:
            raise ValueError(f"{self._stack_id}: an asset is placed after synth only; in any other app use TerraformAsset")
        name = logical_id((construct_id,))
        if name in self._assets:
            raise ValueError(f"{self._stack_id}: asset {name} is added twice")
        self._assets[name] = (f"assets/{name}/{asset_hash}/{source.name}", source)
        return self._assets[name][0]

    def place_assets(self, stack_directory: Path) -> None:
        """Put each asset where its path says, as cdktn does (the asset's earlier versions removed first): linked to
        the file when the file system allows (the archives in build/assets are never written again once built),
        else copied."""
        for name, (path, source) in self._assets.items():
            shutil.rmtree(stack_directory / "assets" / name, ignore_errors=True)
            target = stack_directory / path
            target.parent.mkdir(parents=True)
            try:
                os.link(source, target)
            except OSError:  # another file system, or one without hard links
                shutil.copyfile(source, target)

    def set_terraform(self, path: tuple[str, ...], value: Any) -> None:
        """A setting of the stack's ``terraform`` block at ``path`` (e.g. ``required_providers.aws.version``), as
        ``TerraformStack.add_override("terraform.<path>", value)`` sets it."""
        self._settings[path] = value
        if not self._merged_after_synth:
            self._stack.add_override(".".join(("terraform", *path)), value)

    def configure_providers(self, provider: str, arguments: Mapping[str, Any]) -> None:
        """Set ``arguments`` on every configuration of ``provider``, added so far or later (as on the bindings')."""
        arguments = self._json_arguments(arguments, f"{self._stack_id}: provider {provider}")
        self._provider_settings.setdefault(provider, {}).update(arguments)
        for configuration in self._providers.get(provider, []):
            configuration.update(arguments)
            self._unwritten.add("provider")

    def _json_arguments(self, arguments: Mapping[str, Any], where: str) -> dict[str, Any]:
        """``arguments`` as the kernel writes them (None left out), their tokened strings noted (``_json_value``)."""
        return {key: _json_value(value, where, self._tokened) for key, value in arguments.items() if value is not None}

    @property
    def has_blocks(self) -> bool:
        """Whether there is anything to write: a resource, a data source, a provider configuration, an output or a
        setting (or an asset)."""
        return bool(self._blocks or self._data or self._providers or self._outputs or self._settings or self._assets)

    @property
    def providers(self) -> Mapping[str, list[dict[str, Any]]]:
        """Provider, then its configurations as the stack's JSON holds them, the default one (no alias) first unless its
        binding writes it (read by the equivalence test)."""
        return self._providers

    @property
    def blocks(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """Type, then logical id, then the block as the stack's JSON holds it (read by the equivalence test)."""
        return self._blocks

    @property
    def data_blocks(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """The data sources, as ``blocks`` holds the resources."""
        return self._data

    def write(self) -> None:
        """Hand what changed since the last write to the kernel, replacing what that write handed it (a list in an
        override is appended to the bindings' list, so the providers' configurations follow the default's); nothing
        when ``merge_into_synthesized`` adds them after synth."""
        if not self._merged_after_synth:
            if "resource" in self._unwritten:
                self._stack.add_override("resource", self._blocks)
            if "data" in self._unwritten:
                self._stack.add_override("data", self._data)
            if "provider" in self._unwritten:
                self._stack.add_override("provider", self._providers)
        self._unwritten.clear()

    def merged(self, synthesized: Path) -> str:
        """The stack's JSON that cdktn wrote at ``synthesized`` with the blocks and provider configurations added as
        the kernel merges an override (a block at a taken address refused), formatted as cdktn writes it
        (safe-stable-stringify: keys sorted, two spaces), its tokens resolved."""
        if synthesized.suffix != ".json":
            raise RuntimeError(f"{synthesized}: {_JSON_ONLY}")
        try:
            stack_json = orjson.loads(synthesized.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise RuntimeError(f"{synthesized} is not JSON ({exc}): {_JSON_ONLY}") from exc
        for section, prefix, blocks in (("resource", "", self._blocks), ("data", "data.", self._data)):
            for block_type, named in blocks.items():
                existing = stack_json.setdefault(section, {}).setdefault(block_type, {})
                if taken := sorted(set(named) & set(existing)):
                    raise ValueError(f"{self._stack_id}: {prefix}{block_type}.{taken[0]} is both a binding and a plain block")
                existing.update(named)
        resources = stack_json.get("resource", {})
        for provider, configurations in self._providers.items():
            stack_json.setdefault("provider", {}).setdefault(provider, []).extend(configurations)
        if self._outputs:  # and the names cdktn's CLI reads them by (``cdktn output``), as TerraformOutput notes them
            outputs = stack_json.setdefault("output", {})
            if taken := sorted(set(self._outputs) & set(outputs)):
                raise ValueError(f"{self._stack_id}: output {taken[0]} is both a TerraformOutput and a plain output")
            outputs.update(self._outputs)
            noted = stack_json.setdefault("//", {}).setdefault("outputs", {}).setdefault(self._stack_id, {})
            noted.update({name: name for name in self._outputs})
        for path, value in self._settings.items():
            *parents, last = path
            setting = stack_json.setdefault("terraform", {})
            for key in parents:
                setting = setting.setdefault(key, {})
            setting[last] = value
        text = orjson.dumps(stack_json, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        text = _resolve_tokens(self._stack, self._stack_id, self._tokened, text)
        held = {f"{t}.{n}" for t, named in resources.items() for n in named}
        held |= {f"data.{t}.{n}" for t, named in stack_json.get("data", {}).items() for n in named}
        # every reference in the stack, from a token or written by hand (``ref``, ``Names``' lookups), and every
        # depends_on: Terraform would refuse the stack at plan time, after the stacks before it were applied
        references = referenced_addresses(orjson.loads(text))
        if dangling := sorted(references - held):
            raise ValueError(
                f"{self._stack_id}: a block refers to {dangling[0]}, which the stack does not hold (a typo, or another "
                "stack's resource? look it up by name or alias: infra/plain_resources.py)"
            )
        return text


_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_JSON_ONLY = "the governance stacks synthesize to Terraform JSON, not HCL; synthesize without --hcl (unset SYNTH_HCL_OUTPUT)"


def merge_into_synthesized(stacks: Mapping[Path, PlainResources]) -> None:
    """Add each stack's plain blocks to the JSON cdktn wrote for it (``PlainResources.merged``). Every stack's JSON
    is merged before any is written; if one cannot be merged or written, the JSON of every stack with plain blocks
    not yet written is removed, so no stack is left without its blocks for Terraform to apply."""
    unwritten = [path for path, plain in stacks.items() if plain.has_blocks]
    try:
        texts = {path: stacks[path].merged(path) for path in unwritten}
        for path in texts:  # before any JSON that names them
            try:
                stacks[path].place_assets(path.parent)
            except OSError as exc:
                raise RuntimeError(f"cannot place the assets of {path}: {exc}") from exc
        for path, text in texts.items():
            partial = path.with_name(f".{path.name}.partial")
            try:
                partial.write_text(text, encoding="utf-8")
                partial.replace(path)
            except OSError as exc:
                raise RuntimeError(f"cannot write {path}: {exc}") from exc
            finally:
                partial.unlink(missing_ok=True)
            unwritten.remove(path)
    except BaseException:
        remove_synthesized(unwritten)
        raise


def remove_synthesized(paths: list[Path]) -> None:
    """Remove what cdktn wrote for stacks whose plain blocks will not be added (the synth failed)."""
    for path in paths:
        path.unlink(missing_ok=True)


# cdktn's string token, as a string holds it wherever it stands; a list token is a list element "#{TfToken[...]}", a
# map token "&{TfToken[...]}" (a number token: ``_json_value``).
_TOKEN = re.compile(r"\$\{TfToken\[TOKEN\.\d+\]\}")
_LIST_OR_MAP_TOKEN = ("#{TfToken[", "&{TfToken[")
# A number token written into a string (str() or json.dumps of one): the kernel resolves it in the string.
_NUMBER_TOKEN_TEXT = re.compile(r"\d(?:\.\d+)?e\+(?:298|289)")
# Where a template sequence starts (``${`` or ``%{``, not the escaped ``$${``, ``%%{``), what moves through one, and
# the root of a reference in it: ``type.name`` or ``data.type.name`` (a resource type has an underscore: ``var``,
# ``local``, ``each``, ``count``, ``path``, ``self``, ``module`` and functions do not match), followed by anything but
# a name's character (``.attr``, ``[0]``, ``)``, the end).
_TEMPLATE_START = re.compile(r"(?<![$%])[$%]\{")
_PLAIN_SEQUENCE = re.compile(r'\$\{([^{}"]*)\}')  # no brace or literal inside: it ends at the first "}"
_IN_TEMPLATE = re.compile(r'[{}"]')
_IN_LITERAL = re.compile(r'\\.|"')
_REFERENCE = re.compile(r"(?<![\w.])((?:data\.)?[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*)(?![\w-])")


def referenced_addresses(stack_json: Any) -> set[str]:
    """Every block address ``stack_json`` (a stack's JSON, decoded, its tokens resolved) refers to: the roots of the
    references in its strings' template sequences (string literals inside them left out) and its ``depends_on``
    entries."""
    found: set[str] = set()
    read: set[str] = set()  # a string met again (a reference, a policy document) is read once
    pending: list[Any] = [stack_json]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            found.update(d for d in value.get("depends_on", ()) if isinstance(d, str))
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and value not in read and ("${" in value or "%{" in value):
            read.add(value)  # the expressions read at once, apart (a reference is neither "\0" nor next to one)
            found.update(_REFERENCE.findall("\0".join(_template_expressions(value))))
    return found


def _template_expressions(text: str) -> list[str]:
    """The expressions of ``text``'s template sequences, each up to its matching brace, string literals removed."""
    if "%{" not in text and "$${" not in text and "%${" not in text:  # every "${" starts a sequence
        plain = _PLAIN_SEQUENCE.findall(text)
        if len(plain) == text.count("${"):  # and each is a plain one, as most references are
            return plain
    expressions = []
    for start in _TEMPLATE_START.finditer(text):
        parts, depth, position = [], 1, start.end()
        while depth and (mark := _IN_TEMPLATE.search(text, position)):
            parts.append(text[position : mark.start()])
            position = mark.end()
            if mark[0] == '"':  # a literal: skip to its closing quote, over escapes
                while (end := _IN_LITERAL.search(text, position)) and end[0] != '"':
                    position = end.end()
                position = end.end() if end else len(text)
                parts.append(" ")
            else:
                depth += 1 if mark[0] == "{" else -1
                parts.append(mark[0] if depth else "")
        expressions.append("".join(parts))
    return expressions


def _resolve_tokens(stack: TerraformStack, stack_id: str, tokened: set[str], text: str) -> str:
    """``text`` (the stack's JSON) with the tokens of the strings in ``tokened`` resolved as at synth, through the
    kernel in one request. A token standing on its own in a string (the
    common case) is resolved once and put wherever it stands, escaped once as the string holding it is (a policy
    document's string too); a string whose tokens the kernel resolves together (one inside a ``${...}`` of the
    string's own, a number token written into it) is resolved whole and put in place of that string."""
    if not tokened:
        return text
    whole = sorted(s for s in tokened if s.count("${") > s.count("${TfToken[") or _NUMBER_TOKEN_TEXT.search(s))
    tokens = sorted(set(_TOKEN.findall(text)))
    from cdktn import Tokenization

    answers = Tokenization.resolve([*tokens, *whole], scope=stack, resolver=_token_resolver())
    if unwritable := [answer for answer in answers if not isinstance(answer, str)]:
        raise ValueError(
            f"{stack_id}: a string token in a plain block stands for {unwritable[0]!r}, not a string; make it a binding"
        )
    # longest first: a whole string is never replaced inside a longer one that ends with it
    for string, answer in sorted(zip(whole, answers[len(tokens) :], strict=True), key=lambda pair: -len(pair[0])):
        text = text.replace(orjson.dumps(string).decode(), orjson.dumps(answer).decode())
    escaped = {token: orjson.dumps(answer).decode()[1:-1] for token, answer in zip(tokens, answers[: len(tokens)], strict=True)}
    return _TOKEN.sub(lambda token: escaped[token[0]], text)


@functools.cache
def _token_resolver() -> Any:
    """The resolver cdktn resolves a stack's JSON with (``_tokens.js``), one kernel object for every stack."""
    from cdktn import DefaultTokenResolver, StringConcat

    return DefaultTokenResolver(StringConcat())


def _json_value(value: Any, where: str, tokened: set[str]) -> Any:
    """``value`` as the kernel writes it: None left out of maps and lists, integral floats as integers (JavaScript
    writes 2, not 2.0); the strings that hold a string token added to ``tokened``. Refused: a list, map or number
    token, a token in a map's key, an integer JavaScript cannot hold exactly, anything but JSON values and strings
    (a kernel object: make it a binding)."""
    if isinstance(value, str):
        return _json_string(value, where, tokened)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):
        if abs(value) > _NUMBER_TOKEN_ABOVE:
            raise ValueError(f"{where} holds a number token ({value!r}); make it a binding")
        if not value.is_integer():
            return value
        value = int(value)
    if isinstance(value, int):
        if abs(value) > _LARGEST_EXACT:
            raise ValueError(f"{where} holds {value}, which JavaScript does not write exactly; write it as a string")
        return value
    if isinstance(value, dict):
        if not all(isinstance(key, str) and "{TfToken[" not in key for key in value):
            raise ValueError(f"{where} holds a map whose key is not a plain string (a token?); make it a binding")
        return {key: _json_value(item, where, tokened) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_json_value(item, where, tokened) for item in value if item is not None]
    raise ValueError(f"{where} holds a {type(value).__name__}: a plain block holds JSON values and strings; make it a binding")


def _json_string(value: str, where: str, tokened: set[str]) -> str:
    if "{TfToken[" in value:
        if any(marker in value for marker in _LIST_OR_MAP_TOKEN):
            raise ValueError(f"{where} holds a list or map token ({value!r}); make it a binding")
        tokened.add(value)
    elif "e+2" in value and _NUMBER_TOKEN_TEXT.search(value):  # a number token written into the string
        tokened.add(value)
    return value


_LARGEST_EXACT = 2**53  # JavaScript's largest exact integer
_NUMBER_TOKEN_ABOVE = 1e288  # cdktn's number tokens are doubles near -8.1e298 (a list of numbers: -1.9e289)
