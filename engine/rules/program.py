"""The compiled form of rules/: what the loader produces and both evaluators consume.

Everything here is frozen. Conditions are in disjunctive normal form: a rule holds when one of its
``alternatives`` holds, an alternative when all its atoms hold. An atom compares a field of one
bound fact with a constant or with a field of another bound fact; it never negates a pattern
(durable_rules gets negation wrong), and a comparison involving a missing value is false.

Values inside facts are the engine's scalar forms: times, money and durations as integers
(seconds, cents, seconds), other numbers as integers scaled by ``NUMBER_SCALE``, text, booleans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.model import DeclaredFields, SourceLoc, Type

__all__ = [
    "KEY",
    "NUMBER_SCALE",
    "RESERVED_FIELDS",
    "ROUND",
    "TYPE",
    "Alias",
    "AliasTable",
    "Atom",
    "CaseField",
    "Const",
    "Derived",
    "DisputeType",
    "Effect",
    "EvidenceKind",
    "Expr",
    "Extract",
    "FieldRef",
    "Issue",
    "Parameter",
    "ParamValue",
    "Predicate",
    "Profile",
    "Program",
    "Requirement",
    "Rule",
    "Text",
]

NUMBER_SCALE = 10_000  # numbers (weights, rates) live in facts as integers of 1/10,000
# fields every fact carries besides the case's own: what it is, whose it is, which round
TYPE, KEY, ROUND = "__type", "__key", "__round"
RESERVED_FIELDS = frozenset({TYPE, KEY, ROUND, "id", "sid"})  # durable_rules owns id and sid


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """A bilingual text."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


# ---------------------------------------------------------------- expressions (values)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expr:
    """A value expression (derived values, remedies, weights): a small tree of operations.

    ``op`` is one of: "const", "ref", "add", "sub", "mul", "div", "neg", "call". ``args`` are
    sub-expressions; ``value`` holds the constant, the ``FieldRef`` or the function name.
    """

    op: str
    type: Type
    args: tuple[Expr, ...] = ()
    value: Any = None
    text: str = ""


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class FieldRef:
    """``alias.field``, optionally through a transform (``name``: normalised person name)."""

    alias: str
    field: str
    transform: str | None = None

    @property
    def fact_field(self) -> str:
        """The field name in the fact (transformed values are materialised as their own field)."""
        return f"{self.field}__{self.transform}" if self.transform else self.field

    def __str__(self) -> str:
        base = f"{self.alias}.{self.field}"
        return f"{self.transform}({base})" if self.transform else base


@dataclass(frozen=True, slots=True)
class Const:
    value: Any  # already in fact form (int, str, bool)

    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Atom:
    """One test. ``op``: eq ne lt le gt ge (with ``right``), in (``options``), present, missing."""

    op: str
    left: FieldRef
    right: FieldRef | Const | None = None
    options: tuple[Any, ...] = ()
    text: str = ""

    def aliases(self) -> tuple[str, ...]:
        if isinstance(self.right, FieldRef) and self.right.alias != self.left.alias:
            return (self.left.alias, self.right.alias)
        return (self.left.alias,)


@dataclass(frozen=True, slots=True, kw_only=True)
class Predicate:
    """A generic operator over one fact's values, computed when facts are built.

    Its result is stored in the fact as the boolean field ``field``; atoms test that field.
    ``args`` are value expressions over that fact's alias, params and constants.
    """

    field: str
    alias_type: str  # fact type the predicate is computed on: "evidence", "order", ...
    function: str
    args: tuple[Expr, ...]
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Alias:
    """A pattern: a name bound to one fact of ``fact_type`` (and, for evidence, of ``kind``)."""

    name: str
    fact_type: str  # order | dispute | appeal | case | param | evidence | issue
    kind: str | None = None  # evidence kind or issue name; None = any


# ---------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect:
    """What a rule concludes when it fires. ``kind`` is one of:

    reject (the evidence bound to ``target`` is not admitted), meets (requirements of the target
    item), supports / opposes (an issue, with ``weight``), ruling (a candidate outcome), warning,
    substitute (replace one ruling with another in the final outcome).
    """

    kind: str
    target: str | None = None  # alias of the evidence item concerned
    requirements: tuple[str, ...] = ()
    issue: str | None = None
    weight: Expr | None = None
    ruling: str | None = None
    priority: int = 0
    reason_code: str | None = None
    refund: Expr | None = None
    compensation: Expr | None = None
    return_required: bool = False
    return_shipping_paid_by: str | None = None
    next_step_party: str | None = None
    next_step_what: Text | None = None
    next_step_until: Expr | None = None
    appealable: bool = True
    substitutes: tuple[tuple[str, str], ...] = ()
    overrides_return: bool = False  # a substitute that sets return_required itself

    def outcome_key(self) -> tuple[Any, ...]:
        """What two outcome effects must share to be the same outcome."""
        return (
            self.ruling,
            self.refund,
            self.compensation,
            self.return_required,
            self.return_shipping_paid_by,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    title: str
    source: str
    reason: Text
    aliases: tuple[Alias, ...]
    alternatives: tuple[tuple[Atom, ...], ...]
    effects: tuple[Effect, ...]
    stratum: int
    index: int  # definition order, for stable listings
    loc: SourceLoc
    # as the policy writer wrote them: the dispute types named, each condition of ``when``
    dispute_types: tuple[str, ...] = ()
    when: tuple[str, ...] = ()

    def alias(self, name: str) -> Alias:
        for alias in self.aliases:
            if alias.name == name:
                return alias
        raise KeyError(name)


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    id: str
    kind: str
    unmet: Text  # said of an item when no rule meets the requirement
    source: str
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class Extract:
    """How an attribute of a kind is read from the item's files (``extract:`` in rules/)."""

    attribute: str
    extractor: str  # a name of engine.rules.extract_specs.EXTRACTORS
    options: tuple[tuple[str, Any], ...]  # frozen: lists as tuples, mappings as pair tuples
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasTable:
    """Names that mean the same thing (Acme = Acme Parcel = ACP), each under its canonical name."""

    name: str
    title: Text
    entries: tuple[tuple[str, tuple[str, ...]], ...]  # canonical name -> its other names
    source: str
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceKind:
    name: str
    title: Text
    attributes: tuple[tuple[str, Type], ...]
    requirements: tuple[str, ...]
    loc: SourceLoc
    extract: tuple[Extract, ...] = ()

    def attribute_type(self, name: str) -> Type | None:
        for key, type_ in self.attributes:
            if key == name:
                return type_
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    name: str
    title: Text
    standard: Expr
    lower_bound: Expr
    margin: Expr
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeType:
    name: str
    title: Text
    burdens: tuple[tuple[str, str], ...]  # (issue, party), in the order they are decided
    # (issue, condition): the issue is not decided (status "skipped") when the condition holds
    skips: tuple[tuple[str, tuple[tuple[Atom, ...], ...]], ...] = ()
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamValue:
    since: str  # ISO date, China time
    value: Any  # Decimal, int, str, bool, tuple, or duration seconds (int)
    platform: str | None = None
    profile: str | None = None
    loc: SourceLoc
    text: str = ""  # the value as written ("15d", "5.00", "[jpg, png]"), for people to read


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    name: str
    type: Type
    title: Text
    values: tuple[ParamValue, ...]
    loc: SourceLoc

    def value_on(self, day: str, platform: str) -> ParamValue | None:
        """The entry in force on ``day`` (ISO date) for ``platform``: the latest ``since`` on or
        before the day; of two entries of that date, the platform's own beats the general one."""
        best: ParamValue | None = None
        for entry in self.values:
            if entry.since > day or (entry.platform is not None and entry.platform != platform):
                continue
            if best is None or (entry.since, entry.platform is not None) > (
                best.since,
                best.platform is not None,
            ):
                best = entry
        return best


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceLevel:
    """A deadline of the platform's own work on a case, in working days (China's calendar):
    ``within`` working days after the case's time ``start`` (``target`` the usual, ``within``
    the latest), for first cases, appeals or all (``cases``). The desk shows them in its queue;
    scoring never reads them."""

    name: str
    title: Text
    start: tuple[str, str]  # (fact, time field): ("dispute", "intervention_requested_at")
    within: str  # a parameter of type working_days
    target: str | None  # another, or None
    cases: str  # "first" | "appeal" | "all"
    source: str
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    name: str
    title: Text
    since: str | None
    until: str | None
    platform: str | None
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseField:
    """A field of the order or the dispute that the rules declare beyond casefile/1
    (``case_fields:``): case files may carry it, rules read it as ``order.<name>``."""

    owner: str  # order | dispute
    name: str
    type: Type
    title: Text | None
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class Derived:
    """A value computed from the case before rules run on it (a deadline, an aggregate)."""

    name: str
    type: Type
    expr: Expr | None  # plain expression
    aggregate: str | None = None  # latest | earliest | count
    of: Expr | None = None  # what is aggregated over each evidence item
    # aggregates: which items (DNF over alias "evidence"); plain values: when the value exists
    where: tuple[tuple[Atom, ...], ...] = ((),)
    stratum: int = 0
    loc: SourceLoc


@dataclass(frozen=True, slots=True, kw_only=True)
class Program:
    """The validated, compiled rules: the single input of both evaluators."""

    name: str
    version: str
    digest: str
    timezone: str  # "+08:00": effective dates and printed times are in this offset
    appeal_deadline: str | None  # name of the derived value giving a ruling's appeal deadline
    parameters: tuple[Parameter, ...]
    profiles: tuple[Profile, ...]
    derived: tuple[Derived, ...]
    evidence_kinds: tuple[EvidenceKind, ...]
    requirements: tuple[Requirement, ...]
    issues: tuple[Issue, ...]
    dispute_types: tuple[DisputeType, ...]
    rules: tuple[Rule, ...]
    predicates: tuple[Predicate, ...]
    strata: int  # number of evaluation rounds
    fields: tuple[tuple[str, tuple[str, ...]], ...]  # fact type -> fields any rule reads
    status_strata: tuple[tuple[str, int, int], ...]  # kind -> (admitted known at, valid known at)
    issue_stratum: int
    files: tuple[tuple[str, str], ...] = field(default=())  # (path, sha256) of every rule file
    service_levels: tuple[ServiceLevel, ...] = ()  # the desk's deadlines
    case_fields: tuple[CaseField, ...] = ()
    aliases: tuple[AliasTable, ...] = field(default=())  # alias tables, for reading files

    def declared_fields(self) -> DeclaredFields:
        """The case fields these rules declare, by owner: what the case loader accepts."""
        out: dict[str, dict[str, Type]] = {}
        for item in self.case_fields:
            out.setdefault(item.owner, {})[item.name] = item.type
        return out

    def kind(self, name: str) -> EvidenceKind | None:
        for kind in self.evidence_kinds:
            if kind.name == name:
                return kind
        return None

    def dispute_type(self, name: str) -> DisputeType | None:
        for dtype in self.dispute_types:
            if dtype.name == name:
                return dtype
        return None

    def issue(self, name: str) -> Issue | None:
        for issue in self.issues:
            if issue.name == name:
                return issue
        return None

    def requirement(self, rid: str) -> Requirement | None:
        for req in self.requirements:
            if req.id == rid:
                return req
        return None

    def predicate_texts(self) -> dict[str, str]:
        """A predicate's fact field -> its call as written, to show atoms that test it."""
        return {p.field: p.text for p in self.predicates}

    def rule(self, rid: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rid:
                return rule
        return None
