"""Offline evaluation of one AWS request against the IAM policy documents that apply to it.

No maintained library does this for Python: principalmapper (AGPL, last release 2022) is the most
complete, iamspy skips ForAnyValue/ForAllValues, iam-ape (GPL) flattens identity policies and boundaries
only, policy-sentry/parliament/cloudsplaining lint rather than evaluate, Access Analyzer and
SimulatePrincipalPolicy are online calls, aws-why drives the online simulator, and moto evaluates
identity policies with StringEquals only. The one maintained evaluator, @cloud-copilot/iam-simulate,
is an npm package: it would bring a Node dependency into a Python review. So this is a small,
stdlib-only evaluator of the documented logic, strict about what it does not model: anything it does
not understand raises `UnsupportedPolicyElement` instead of being skipped.

Decision order, from the IAM User Guide pages "Policy evaluation logic" (section "Determining whether
a request is allowed or denied within an account"), "Cross-account policy evaluation logic" and
"Permissions boundaries for IAM entities", and the KMS Developer Guide pages "Key policies in AWS KMS"
and "Default key policy":

1. An explicit Deny in any applicable policy (SCPs, identity policies, permissions boundary, resource
   policy) denies.
2. SCPs (principals in member accounts): every level (root, OUs, account) must allow.
3. Same account: allowed if the identity policies allow and the boundary (when present) allows, or if
   the resource policy allows. How a resource-policy Allow meets the boundary depends on the principal
   it names: a role *session* ARN is granted directly ("not limited by an implicit deny in an
   identity-based policy, a permissions boundary, or session policy"); a role ARN is "limited by an
   implicit deny in a permissions boundary"; an account (`123456789012` or `arn:aws:iam::…:root`)
   only "delegates authority to the account" ("AWS JSON policy elements: Principal"), whose identity
   policies must then allow. `"*"` and `{"AWS": "*"}` (equivalent, "AWS JSON policy elements:
   Principal") are direct grants to any caller, services included: with a wildcard, "for IAM users and
   role principals within your account, no other permissions are required"; whether a boundary still
   caps it is not documented, and treating it as direct over- rather than under-states access.
4. KMS keys and role trust policies "must explicitly allow access for principals": for a KMS action
   on a key ARN, and for sts:AssumeRole (and its siblings) on a role ARN, the key/trust policy must
   allow, directly or by delegating to the account, in which case the identity policies (within the
   boundary) must allow too.
5. Cross-account: the principal's account (identity policies within boundary and SCPs) and the
   resource's account (resource policy) must both allow.

Service principals are judged by the resource policy alone (no identity policies, boundary or SCPs).
`aws:PrincipalArn` (the role ARN, also for sessions), `aws:PrincipalAccount`, `aws:PrincipalType`,
`aws:PrincipalIsAWSService`, `aws:PrincipalServiceName` and `aws:PrincipalTag/*` come from the
principal; `aws:RequestedRegion` defaults to the resource ARN's region; every other key comes from the
request context as given.

Not modelled: session policies, VPC endpoint policies, resource control policies (RCPs), KMS grants,
S3 ACLs, Object Ownership and Block Public Access, IAM users and groups, the root user, federated and
web-identity principals (Federated/CanonicalUser principals never match), role paths in session ARNs,
SCP exemptions (management account, service-linked roles), and service-specific authorization other
than KMS key policies and role trust policies.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from review.access.conditions import (
    ConditionTest,
    UnsupportedPolicyElement,
    check_key,
    check_template,
    compile_pattern,
    holds,
    parse_condition,
)

__all__ = [
    "ContextValue",
    "Evaluation",
    "LabelledPolicy",
    "Principal",
    "Request",
    "ScpLevel",
    "StatementRef",
    "UnsupportedPolicyElement",
    "evaluate",
]

ContextValue = str | bool | int | float | Sequence[str]
Decision = Literal["allow", "explicit-deny", "implicit-deny"]
Grant = Literal["direct", "role", "account"]

_ROLE = re.compile(r"^arn:(?P<partition>[^:]+):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$")
_SESSION = re.compile(r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):assumed-role/(?P<name>[^/]+)/(?P<session>[^/]+)$")
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?$")
_ACTION = re.compile(r"^(?:\*|[a-z0-9-]+:[a-z0-9*?]+)$", re.IGNORECASE)
_KMS_KEY = re.compile(r"^arn:[^:]+:kms:[^:]*:\d{12}:key/")
_IAM_ROLE_RESOURCE = re.compile(r"^arn:[^:]+:iam::\d{12}:role/")
_TRUST_ACTIONS = frozenset(
    {"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity", "sts:tagsession", "sts:setsourceidentity"}
)
_ELEMENTS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
)
_PRINCIPAL_KEYS = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_STRENGTH: dict[Grant | None, int] = {None: 0, "account": 1, "role": 2, "direct": 3}


@dataclass(frozen=True)
class LabelledPolicy:
    """A policy document as JSON-decoded, and where it comes from (e.g. a Terraform address). The document is read
    once, when first asked about: to change it, make another ``LabelledPolicy``."""

    label: str
    document: Mapping[str, Any]


@dataclass(frozen=True)
class ScpLevel:
    """The SCPs attached at one level (root, an OU, the account): one of them must allow."""

    name: str
    policies: tuple[LabelledPolicy, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", tuple(self.policies))  # a list or generator given: read once, kept


@dataclass(frozen=True)
class Principal:
    """Who makes the request: a role ARN, a role session ARN (arn:aws:sts::…:assumed-role/role/session;
    the role is then taken to have no path) or a service principal such as events.amazonaws.com."""

    arn: str
    identity_policies: tuple[LabelledPolicy, ...] = ()
    boundary: LabelledPolicy | None = None
    scp_levels: tuple[ScpLevel, ...] = ()  # empty: the account is in no organization
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (_ROLE.match(self.arn) or _SESSION.match(self.arn) or _SERVICE.match(self.arn)):
            raise ValueError(f"{self.arn!r} is neither a role, a role session nor a service principal")
        # what evaluations read, kept as given once (a list changed later, or a generator, would read differently)
        object.__setattr__(self, "identity_policies", tuple(self.identity_policies))
        object.__setattr__(self, "scp_levels", tuple(self.scp_levels))
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.tags.items()):
            raise ValueError(f"a principal's tags map text to text, not {dict(self.tags)!r}")
        if self.is_service and (self.identity_policies or self.boundary or self.scp_levels or self.tags):
            raise ValueError("a service principal has no identity policies, boundary, SCPs or tags")

    # Read from the ARN once per principal (an access matrix asks each principal thousands of times; the class is
    # frozen, so what is read cannot go stale).
    @functools.cached_property
    def is_service(self) -> bool:
        return _SERVICE.match(self.arn) is not None

    @functools.cached_property
    def account(self) -> str | None:
        m = _ROLE.match(self.arn) or _SESSION.match(self.arn)
        return m["account"] if m else None

    @functools.cached_property
    def role_arn(self) -> str | None:
        m = _SESSION.match(self.arn)
        return f"arn:{m['partition']}:iam::{m['account']}:role/{m['name']}" if m else (None if self.is_service else self.arn)

    @functools.cached_property
    def session_arn(self) -> str | None:
        return self.arn if _SESSION.match(self.arn) else None

    @functools.cached_property
    def account_root(self) -> str | None:
        m = _ROLE.match(self.arn) or _SESSION.match(self.arn)
        return f"arn:{m['partition']}:iam::{m['account']}:root" if m else None

    def condition_keys(self) -> dict[str, str]:
        """The global condition keys the principal gives every request it makes (lower-cased; read from its tags
        on every call: the mapping may change)."""
        derived: dict[str, str] = {"aws:principalisawsservice": "true" if self.is_service else "false"}
        if self.is_service:
            derived["aws:principalservicename"] = self.arn
        else:
            derived.update(
                {
                    "aws:principalarn": str(self.role_arn),
                    "aws:principalaccount": str(self.account),
                    "aws:principaltype": "AssumedRole",
                }
            )
            derived.update({f"aws:principaltag/{k.lower()}": v for k, v in self.tags.items()})
        return derived


@dataclass(frozen=True)
class Request:
    """One API call: `action` is service:Operation, `resource` an ARN (or "*"), `context` condition keys."""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementRef:
    """A statement that decided: its policy's label, its Sid (or #index) and its effect."""

    policy: str
    statement: str
    effect: Literal["Allow", "Deny"]

    def __str__(self) -> str:
        return f"{self.policy}/{self.statement}"


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    deciding: tuple[StatementRef, ...]
    reason: str

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


@dataclass(frozen=True)
class _Statement:
    ref: StatementRef
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...] | None  # None: no Resource element (resource policies only)
    not_resource: bool
    principals: Mapping[str, tuple[str, ...]] | None
    not_principal: bool
    conditions: tuple[ConditionTest, ...]
    variables: bool


def _strings(value: object, element: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise UnsupportedPolicyElement(f"{element} must be a string or a list of strings")
    return tuple(str(item) for item in items)


def _principal_block(value: object, element: str) -> Mapping[str, tuple[str, ...]]:
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, Mapping) or not value or not set(value) <= _PRINCIPAL_KEYS:
        raise UnsupportedPolicyElement(f'{element} must be "*" or an object with keys {sorted(_PRINCIPAL_KEYS)}')
    block = {str(k): _strings(v, f"{element}.{k}") for k, v in value.items()}
    for v in block.get("AWS", ()):
        if v != "*" and not re.fullmatch(r"\d{12}|arn:[^*?${}]+", v):
            raise UnsupportedPolicyElement(
                f"{element} AWS value {v!r} is not an account id or ARN (an unresolved Terraform interpolation?)"
            )
    for kind in ("Service", "Federated", "CanonicalUser"):
        for v in block.get(kind, ()):
            check_template(v, False)
    return block


_PARSED: dict[tuple[int, str], tuple[LabelledPolicy, tuple[_Statement, ...], dict[str, tuple[_Statement, ...]]]] = {}
_PARSED_CONTENT: dict[tuple[int, str], tuple[tuple[_Statement, ...], dict[str, tuple[_Statement, ...]]]] = {}


def _parsed(
    policy: LabelledPolicy, kind: str, number: int | None = None
) -> tuple[tuple[_Statement, ...], dict[str, tuple[_Statement, ...]]]:
    """Parsed statements of ``policy`` and, per action asked, those whose Action element names it (an access matrix
    asks thousands of times). A plain JSON document is parsed from the copy its content number was taken from
    (``_content``, or ``number`` when the caller already read it), so the statements and the number always agree;
    any other is parsed as given, per object."""
    number = _content(policy) if number is None else number
    if number is not None:
        found = _PARSED_CONTENT.get((number, kind))
        if found is None:
            label, document = _SNAPSHOTS[number]
            found = _PARSED_CONTENT[(number, kind)] = (_parse_uncached(LabelledPolicy(label, document), kind), {})
        return found
    cached = _PARSED.get((id(policy), kind))
    if cached is None or cached[0] is not policy:
        cached = _PARSED[(id(policy), kind)] = (policy, _parse_uncached(policy, kind), {})
    return cached[1], cached[2]


def _naming(policy: LabelledPolicy, kind: str, action: str, number: int | None = None) -> tuple[_Statement, ...]:
    """The statements of ``policy`` whose Action (or NotAction) element lets them apply to ``action``."""
    statements, by_action = _parsed(policy, kind, number)
    found = by_action.get(action)
    if found is None:
        found = by_action[action] = tuple(st for st in statements if _action_matches(st.actions, action) != st.not_action)
    return found


def _parse_uncached(policy: LabelledPolicy, kind: str) -> tuple[_Statement, ...]:
    doc = policy.document
    try:
        if not isinstance(doc, Mapping) or not set(doc) <= {"Version", "Id", "Statement"} or "Statement" not in doc:
            raise UnsupportedPolicyElement("a policy document has Version, Id and Statement only")
        if doc.get("Version") not in (None, "2012-10-17", "2008-10-17"):
            raise UnsupportedPolicyElement(f"unknown policy Version {doc.get('Version')!r}")
        raw = doc["Statement"]
        statements = [raw] if isinstance(raw, Mapping) else raw
        if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
            raise UnsupportedPolicyElement("Statement must be an object or a list of objects")
    except UnsupportedPolicyElement as error:
        raise error.at(policy.label, "-") from None
    variables = doc.get("Version") == "2012-10-17"
    parsed = []
    for index, s in enumerate(statements):
        sid = s.get("Sid") if isinstance(s.get("Sid"), str) and s.get("Sid") else f"#{index}"
        try:
            parsed.append(_statement(s, policy.label, sid, kind, variables))
        except UnsupportedPolicyElement as error:
            raise error.at(policy.label, sid) from None
    return tuple(parsed)


def _statement(s: Mapping[str, Any], label: str, sid: str, kind: str, variables: bool) -> _Statement:
    if unknown := set(s) - _ELEMENTS:
        raise UnsupportedPolicyElement(f"unknown statement element(s) {sorted(unknown)}")
    if s.get("Effect") not in ("Allow", "Deny"):
        raise UnsupportedPolicyElement(f"Effect must be Allow or Deny, not {s.get('Effect')!r}")
    if ("Action" in s) == ("NotAction" in s) or ("Resource" in s and "NotResource" in s):
        raise UnsupportedPolicyElement(
            "a statement needs exactly one of Action/NotAction and at most one of Resource/NotResource"
        )
    has_principal = "Principal" in s or "NotPrincipal" in s
    if kind == "resource" and ("Principal" in s) == ("NotPrincipal" in s):
        raise UnsupportedPolicyElement("a resource policy statement needs exactly one of Principal/NotPrincipal")
    if kind != "resource" and (has_principal or ("Resource" not in s and "NotResource" not in s)):
        raise UnsupportedPolicyElement(f"a {kind} policy statement needs Resource/NotResource and no Principal/NotPrincipal")
    actions = _strings(s.get("Action", s.get("NotAction")), "Action")
    if bad := [a for a in actions if not _ACTION.match(a)]:
        raise UnsupportedPolicyElement(f"actions {bad} are not service:Operation patterns")
    resources = (
        _strings(s["Resource"] if "Resource" in s else s["NotResource"], "Resource")
        if ("Resource" in s or "NotResource" in s)
        else None
    )
    for resource in resources or ():
        check_template(resource, variables)
    principal = s.get("Principal", s.get("NotPrincipal"))
    return _Statement(
        ref=StatementRef(label, sid, s["Effect"]),
        actions=actions,
        not_action="NotAction" in s,
        resources=resources,
        not_resource="NotResource" in s,
        principals=_principal_block(principal, "Principal") if principal is not None else None,
        not_principal="NotPrincipal" in s,
        conditions=parse_condition(s["Condition"], variables) if "Condition" in s else (),
        variables=variables,
    )


@functools.lru_cache(maxsize=65536)
def _action_matches(patterns: tuple[str, ...], action: str) -> bool:
    """Case-insensitive, with * and ? anywhere ("IAM JSON policy elements: Action"); a matrix asks the same pairs
    for every caller, so the answer is kept."""
    regexes = (compile_pattern(p, {}, mode="glob", variables=False, ignore_case=True) for p in patterns)
    return any(regex is not None and regex.fullmatch(action) for regex in regexes)


def _resource_matches(patterns: tuple[str, ...], resource: str, ctx: Mapping[str, tuple[str, ...]], variables: bool) -> bool:
    for p in patterns:
        regex = compile_pattern(p, ctx, mode="arn" if p.startswith("arn:") else "glob", variables=variables)
        if regex is not None and regex.fullmatch(resource):  # a variable without a value matches no resource
            return True
    return False


def _grant(block: Mapping[str, tuple[str, ...]], p: Principal) -> Grant | None:
    """How strongly a Principal element names the caller: directly, by role ARN, or by its account."""
    if "*" in block or "*" in block.get("AWS", ()):  # equivalent ("AWS JSON policy elements: Principal")
        return "direct"
    if p.is_service:
        return "direct" if p.arn.lower() in {v.lower() for v in block.get("Service", ())} else None
    aws = set(block.get("AWS", ()))
    if p.session_arn in aws:
        return "direct"
    if p.role_arn in aws:
        return "role"
    return "account" if p.account in aws or p.account_root in aws else None


def _not_principal_exempts(block: Mapping[str, tuple[str, ...]], p: Principal) -> bool:
    """NotPrincipal exempts the caller only if it lists every identity AWS may check ("AWS JSON policy
    elements: NotPrincipal"): the account, the role and, for a session, the session."""
    if "*" in block or "*" in block.get("AWS", ()):
        return True
    if p.is_service:
        return p.arn.lower() in {v.lower() for v in block.get("Service", ())}
    aws = set(block.get("AWS", ()))
    return (p.account in aws or p.account_root in aws) and p.role_arn in aws and (p.session_arn is None or p.session_arn in aws)


def _applies(st: _Statement, request: Request, ctx: Mapping[str, tuple[str, ...]]) -> tuple[bool, Grant | None]:
    """Whether the statement applies to the request, and how it names the caller (resource policies)."""
    try:
        return _match(st, request, ctx)
    except UnsupportedPolicyElement as error:  # e.g. a multivalued key used as a variable
        raise error.at(st.ref.policy, st.ref.statement) from None


def _match(st: _Statement, request: Request, ctx: Mapping[str, tuple[str, ...]]) -> tuple[bool, Grant | None]:
    p = request.principal
    grant: Grant | None = None
    if _action_matches(st.actions, request.action) == st.not_action:
        return False, None
    if st.resources is not None and _resource_matches(st.resources, request.resource, ctx, st.variables) == st.not_resource:
        return False, None
    if st.principals is not None:
        if st.not_principal:
            # "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a permissions
            # boundary policy attached, regardless of the values specified" (IAM User Guide, permissions boundaries).
            bounded_deny = st.ref.effect == "Deny" and p.boundary is not None
            if not bounded_deny and _not_principal_exempts(st.principals, p):
                return False, None
            grant = "direct"
        elif (grant := _grant(st.principals, p)) is None:
            return False, None
    return all(holds(test, ctx) for test in st.conditions), grant


def _context(request: Request) -> dict[str, tuple[str, ...]]:
    p = request.principal
    ctx: dict[str, tuple[str, ...]] = {}
    for key, value in request.context.items():
        if isinstance(value, bool):
            ctx[check_key(key)] = ("true" if value else "false",)
        elif isinstance(value, str | int | float):
            ctx[check_key(key)] = (str(value),)
        else:
            ctx[check_key(key)] = tuple(str(v) for v in value)
    for key, value in p.condition_keys().items():
        if ctx.setdefault(key, (value,)) != (value,):
            raise ValueError(f"request context {key}={ctx[key]} contradicts the principal ({value!r})")
    region = request.resource.split(":")[3] if request.resource.count(":") >= 5 else ""
    if region and "aws:requestedregion" not in ctx:
        ctx["aws:requestedregion"] = (region,)
    return ctx


@functools.lru_cache(maxsize=65536)
def _target(action: str, resource: str) -> tuple[str, str | None]:
    """The account in the resource's ARN ("" if none), and the resource policy that must allow, if any; an action
    that is not service:Operation raises. Kept per pair: a matrix asks each of them for every caller."""
    if not _ACTION.match(action) or "*" in action or "?" in action:
        raise ValueError(f"request action {action!r} is not service:Operation")
    arn_account = resource.split(":")[4] if resource.count(":") >= 5 else ""
    required = (
        "KMS key policy"
        if action.lower().startswith("kms:") and _KMS_KEY.match(resource)
        else "role trust policy"
        if action.lower() in _TRUST_ACTIONS and _IAM_ROLE_RESOURCE.match(resource)
        else None
    )
    return arn_account, required


# Answers kept by content: the same documents asked the same request decide the same way. An access matrix asks
# 30,000 requests; a review of a changed account (a mutation, a policy edit) asks them again, and only those whose
# documents changed are evaluated again. A policy whose document is plain JSON (what json.loads gives) is named by
# a number for its label and canonical JSON, and parsed from a copy taken with that number: answers kept for a
# number were decided on exactly that content, whatever later happens to the objects. A document that is not
# plain JSON (tuples, other objects) is evaluated every time. The numbers, the copies and the parsed statements are
# kept for the process (one per distinct policy seen); the answers and the table from policy objects to their
# numbers are emptied when they outgrow their limit, which only costs evaluating again.
_ANSWERS: dict[tuple[Any, ...], Evaluation] = {}
_CONTENTS: dict[bytes, int] = {}  # digest of label + canonical JSON -> the number naming that content
_SNAPSHOTS: list[tuple[str, Any]] = []  # number -> (label, the document as that JSON reads back)
_CONTENT_OF: dict[int, tuple[LabelledPolicy, int | None]] = {}  # id(policy) -> (the policy, its number or None)
_LIMIT = 400_000


def _content(policy: LabelledPolicy) -> int | None:
    """A number two policies share exactly when their labels and plain JSON documents are equal; None for a
    document that is not plain JSON."""
    known = _CONTENT_OF.get(id(policy))
    if known is None or known[0] is not policy:
        number: int | None = None
        try:  # in the document's own order: statements and conditions are read in it
            text = json.dumps(policy.document, allow_nan=False)
            copy = json.loads(text)
            plain = isinstance(policy.label, str) and _same_json(copy, policy.document)
        except (TypeError, ValueError, RecursionError):  # keys that are not text, NaN, objects JSON does not know
            plain = False
        if plain:
            digest = hashlib.sha256(f"{policy.label}\0{text}".encode("utf-8", "surrogatepass")).digest()
            number = _CONTENTS.setdefault(digest, len(_CONTENTS))
            if number == len(_SNAPSHOTS):
                _SNAPSHOTS.append((policy.label, copy))
        if len(_CONTENT_OF) >= _LIMIT:  # the principals' numbers were read from it: they go with it
            _CONTENT_OF.clear()
            _PRINCIPAL_CONTENTS.clear()
        known = _CONTENT_OF[id(policy)] = (policy, number)
    return known[1]


def _same_json(copy: Any, given: Any) -> bool:
    """``given`` is what ``copy`` (read back from JSON) is: the same types all the way down (1 is not 1.0 or True,
    a tuple is not a list)."""
    if type(copy) is not type(given):
        return False
    if isinstance(copy, dict):
        return copy.keys() == given.keys() and all(_same_json(copy[k], given[k]) for k in copy)
    if isinstance(copy, list):
        return len(copy) == len(given) and all(map(_same_json, copy, given))
    return bool(copy == given)


_PRINCIPAL_CONTENTS: dict[int, tuple[Principal, tuple[Any, ...] | None]] = {}


def _principal_contents(p: Principal) -> tuple[Any, ...] | None:
    """The principal's ARN and the content numbers of its policies, in their places (None: one is not plain JSON);
    per principal object, as ``_content`` is per policy object."""
    known = _PRINCIPAL_CONTENTS.get(id(p))
    if known is None or known[0] is not p:
        identity = tuple(_content(lp) for lp in p.identity_policies)
        boundary = -1 if p.boundary is None else _content(p.boundary)
        scps = tuple((level.name, tuple(_content(lp) for lp in level.policies)) for level in p.scp_levels)
        plain = None not in identity and boundary is not None and all(None not in numbers for _, numbers in scps)
        if len(_PRINCIPAL_CONTENTS) >= _LIMIT:
            _PRINCIPAL_CONTENTS.clear()
        known = _PRINCIPAL_CONTENTS[id(p)] = (p, (p.arn, identity, boundary, scps) if plain else None)
    return known[1]


def evaluate(
    request: Request, *, resource_policy: LabelledPolicy | None = None, resource_account: str | None = None
) -> Evaluation:
    """Decide `request` as AWS would from the given documents (see the module docstring).

    `resource_policy` is the resource's policy: bucket/topic/queue policy, KMS key policy, or the role
    trust policy for sts:AssumeRole. `resource_account` defaults to the account in the resource ARN,
    else the principal's account (S3 ARNs carry no account: pass it for cross-account buckets).
    """
    p = request.principal
    ctx = _context(request)  # what the evaluation reads from the request and the principal, normalised
    principal = _principal_contents(p)
    resource = _content(resource_policy) if resource_policy is not None else -1
    if principal is None or resource is None:  # a document that is not plain JSON: nothing is kept
        return _evaluate(request, ctx, resource_policy, resource_account, {})
    question = (
        principal,
        resource,
        request.action,
        request.resource,
        tuple(sorted(ctx.items())),
        resource_account,
    )
    answer = _ANSWERS.get(question)
    if answer is None:
        # the evaluation parses each policy from the content the key names, whatever happened to the objects since
        _, identity, boundary, scps = principal
        numbers = dict(zip(map(id, p.identity_policies), identity, strict=True))
        numbers.update(
            (id(lp), n)
            for level, (_, ns) in zip(p.scp_levels, scps, strict=True)
            for lp, n in zip(level.policies, ns, strict=True)
        )
        if p.boundary is not None:
            numbers[id(p.boundary)] = boundary
        if resource_policy is not None:
            numbers[id(resource_policy)] = resource
        answer = _evaluate(request, ctx, resource_policy, resource_account, numbers)
        if len(_ANSWERS) >= _LIMIT:
            _ANSWERS.clear()
        _ANSWERS[question] = answer
    return answer


def _evaluate(
    request: Request,
    ctx: Mapping[str, tuple[str, ...]],
    resource_policy: LabelledPolicy | None,
    resource_account: str | None,
    numbers: Mapping[int, int] | None = None,
) -> Evaluation:
    """``evaluate`` without keeping the answer; ``numbers``: the content number to parse each policy (by id) from."""
    numbers = numbers or {}
    p = request.principal
    arn_account, required = _target(request.action, request.resource)
    account = resource_account or arn_account or p.account
    if required and resource_policy is None:
        raise ValueError(f"{request.action} on {request.resource} is decided by the {required}: pass it as resource_policy")

    def hits(policy: LabelledPolicy | None, kind: str) -> list[tuple[StatementRef, Grant | None]]:
        if policy is None:
            return []
        return [
            (st.ref, grant)
            for st in _naming(policy, kind, request.action, numbers.get(id(policy)))
            for ok, grant in [_applies(st, request, ctx)]
            if ok
        ]

    scp = [] if p.is_service else [(level, [h for lp in level.policies for h in hits(lp, "SCP")]) for level in p.scp_levels]
    identity = [] if p.is_service else [h for lp in p.identity_policies for h in hits(lp, "identity")]
    boundary = hits(p.boundary, "boundary")
    resource = hits(resource_policy, "resource")

    denies = [ref for ref, _ in [h for _, level in scp for h in level] + identity + boundary + resource if ref.effect == "Deny"]
    if denies:
        return Evaluation("explicit-deny", tuple(denies), f"explicitly denied by {denies[0]}")

    def allows(found: list[tuple[StatementRef, Grant | None]]) -> list[StatementRef]:
        return [ref for ref, _ in found if ref.effect == "Allow"]

    for level, found in scp:
        if not allows(found):
            return Evaluation("implicit-deny", (), f"SCP level {level.name!r} does not allow it")
    scp_refs = [ref for _, found in scp for ref in allows(found)]
    grant = max((g for ref, g in resource if ref.effect == "Allow"), key=_STRENGTH.__getitem__, default=None)

    def allow(*layers: list[tuple[StatementRef, Grant | None]]) -> Evaluation:
        refs = tuple(scp_refs + [ref for layer in layers for ref in allows(layer)])
        return Evaluation("allow", refs, "allowed by " + ", ".join(map(str, refs[len(scp_refs) :])))

    if p.is_service:
        return (
            allow(resource)
            if grant
            else Evaluation("implicit-deny", (), f"no resource policy allows the service principal {p.arn}")
        )
    layers = {"identity": identity, "boundary": boundary, "resource": resource}
    boundary_ok = p.boundary is None or bool(allows(boundary))
    foreign = account if account != p.account else None
    path, reason = _path(foreign, required, grant, bool(allows(identity)), boundary_ok)
    return allow(*(layers[name] for name in path)) if path else Evaluation("implicit-deny", (), reason)


def _path(
    foreign_account: str | None, required: str | None, grant: Grant | None, identity_ok: bool, boundary_ok: bool
) -> tuple[tuple[str, ...], str]:
    """The layers whose Allow statements let the request through (every sufficient route), or () and why."""
    boundary_reason = "the permissions boundary does not allow it"
    if foreign_account:  # "Cross-account policy evaluation logic": both accounts must allow
        if not identity_ok or not boundary_ok:
            return (), boundary_reason if identity_ok else "no identity policy allows it"
        if grant is None:
            return (), f"cross-account: no resource policy in account {foreign_account} allows it"
        return ("identity", "boundary", "resource"), ""
    routes: set[str] = set()
    if grant == "direct":  # a role session (or everyone) named: not limited by identity policies or the boundary
        routes |= {"resource"}
    if grant == "role" and boundary_ok:  # the role ARN named: "limited by an implicit deny in a permissions boundary"
        routes |= {"boundary", "resource"}
    if identity_ok and boundary_ok and required is None:
        routes |= {"identity", "boundary"}
    if identity_ok and boundary_ok and grant == "account":  # the resource policy delegates to the account
        routes |= {"identity", "boundary", "resource"}
    if routes:
        return tuple(layer for layer in ("identity", "boundary", "resource") if layer in routes), ""
    if required is not None and grant is None:
        return (), f"the {required} does not allow it"
    if grant == "role" or identity_ok:
        return (), boundary_reason
    if grant == "account":
        return (), "the resource policy delegates to the account, but no identity policy allows it"
    return (), "no identity or resource policy allows it"
