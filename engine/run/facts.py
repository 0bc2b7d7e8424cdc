"""Case + Program -> the facts of each round, identical for both evaluators.

Facts are flat dicts in the engine's scalar forms (see ``engine.rules.program``): ``__type`` and
``__key`` (the case's own id: "order", "E1", "issue:<name>"), then only the fields some rule
reads, including materialised transforms (``signer_name__name``) and predicates (``__p3``).
A value that is missing is left out of the fact (durable_rules treats ``None`` as present).
``FactPlan`` does, once per Program, everything that does not depend on the case.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.cases.attributes import Typer, file_type, fingerprint, typer
from engine.cases.names import scripts
from engine.model import Case, Evidence, Type
from engine.rules.predicates import predicate_test
from engine.rules.program import (
    KEY,
    TYPE,
    Expr,
    FieldRef,
    Predicate,
    Program,
)
from engine.rules.schema import (
    APPEAL_FIELDS,
    CASE_FIELDS,
    DISPUTE_FIELDS,
    EVIDENCE_FIELDS,
    ISSUE_FIELDS,
    ORDER_FIELDS,
    SINGLETONS,
)
from engine.rules.semantics import converter
from engine.run.derivedcode import compile_rounds
from engine.run.factcode import FactBuilder, Field, domain_builder, fact_builder
from engine.run.notices import Notice
from engine.run.params import Resolved, policy_timezone, resolve_parameters
from engine.run.readings import file_types, read_min, read_values
from engine.run.results import EvidenceStatus, IssueResult
from engine.run.values import EXACT_SECONDS, Compiled, compile_value, epoch_seconds

__all__ = [
    "FactPlan",
    "PlannedAttribute",
    "PlannedPredicate",
    "Prepared",
    "prepare",
    "round_facts",
    "singleton_bindings",
]

_UNSET = object()
_PARAM_FACT = "param fact"  # its key among what is worked out once per set of parameter values
_DAYS_CACHED = 100_000  # (platform, day) pairs whose parameters are kept: decades of days
_SCORES_KEPT = 10_000  # issue scores whose fact form is kept

Fact = dict[str, Any]
_TABLES: dict[str, Mapping[str, Type]] = {
    "order": ORDER_FIELDS, "dispute": DISPUTE_FIELDS, "appeal": APPEAL_FIELDS,
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedPredicate:
    """A predicate as facts are built with it: the field that holds its result, its function,
    the field it is called on and its further arguments (value expressions)."""

    field: str
    function: str
    subject: str
    args: tuple[Compiled, ...]
    params_only: bool  # its arguments read only parameters: it is bound once per set of values


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedAttribute:
    """An evidence kind's attribute as its raw values are typed: how, its declared type, and
    whether it holds a person's name (checked for look-alike letters of mixed scripts)."""

    typed: Typer
    declared: Type
    is_name: bool


class FactPlan:
    """What a Program needs to build any case's facts, worked out once."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._closures: dict[int, Compiled] = {}
        # id(expr) -> its closure, and whether it reads only parameters
        self._evaluated: dict[int, tuple[Compiled, bool]] = {}
        self._per_values: dict[int, tuple[Mapping[str, Any], dict[Any, Any]]] = {}
        self._params: dict[tuple[str, int], Resolved] = {}
        self._params_on: dict[tuple[str, int], Resolved] = {}  # (platform, day) -> the same
        self.timezone = policy_timezone(program)
        offset = self.timezone.utcoffset(None)
        self._offset = offset.days * 86400 + offset.seconds  # whole minutes, in seconds
        changes = {v.since for p in program.parameters for v in p.values}
        for profile in program.profiles:
            changes.add(profile.since or "")
            if profile.until:  # the day after 'until' starts a new period
                changes.add((date.fromisoformat(profile.until) + timedelta(days=1)).isoformat())
        self._boundaries = sorted(changes - {""})
        wanted = {fact_type: fields for fact_type, fields in program.fields}
        declared = program.declared_fields()
        # the order's and the dispute's fields the rules declare, beyond the contract's
        self.declared: dict[str, frozenset[str]] = {
            owner: frozenset(names) for owner, names in declared.items()
        }
        tables: dict[str, Mapping[str, Type]] = {
            **_TABLES,
            "order": {**ORDER_FIELDS, **declared.get("order", {})},
            "dispute": {**DISPUTE_FIELDS, **declared.get("dispute", {})},
            "case": {**CASE_FIELDS, **{d.name: d.type for d in program.derived}},
            "param": {p.name: p.type for p in program.parameters},
        }
        # fields holding a person's name, checked for look-alike letters of mixed scripts
        self.name_fields = tuple(
            (owner, name)
            for owner in ("order", "dispute")
            for name, type_ in tables[owner].items()
            if type_.name == "name"
        )
        self.tables = tables
        self.fields: dict[str, tuple[Field, ...]] = {
            fact_type: self._plan_fields(wanted.get(fact_type, ()), table)
            for fact_type, table in tables.items()
        }
        evidence_wanted = tuple(sorted({*wanted.get("evidence", ()), "kind"}))
        self.evidence_wanted = frozenset(evidence_wanted)
        self.evidence_fields: dict[str | None, tuple[Field, ...]] = {
            None: self._plan_fields(evidence_wanted, EVIDENCE_FIELDS)
        }
        self.wants_fingerprint = "fingerprint" in self.evidence_wanted
        self.wants_files_digest = "files_digest" in self.evidence_wanted
        self.kinds = {kind.name: kind for kind in program.evidence_kinds}
        self.attributes: dict[str, dict[str, PlannedAttribute]] = {
            kind.name: {
                name: PlannedAttribute(
                    typed=typer(type_), declared=type_, is_name=type_.name == "name"
                )
                for name, type_ in kind.attributes
            }
            for kind in program.evidence_kinds
        }
        for kind in program.evidence_kinds:
            table = {**EVIDENCE_FIELDS, **dict(kind.attributes)}
            self.evidence_fields[kind.name] = self._plan_fields(evidence_wanted, table)
        # the same plans as generated functions: one per fact type, one per evidence kind
        self.build: dict[str, FactBuilder] = {
            fact_type: fact_builder(fact_type, fields) for fact_type, fields in self.fields.items()
        }
        self.build_evidence: dict[str | None, FactBuilder] = {
            kind: fact_builder("evidence", fields) for kind, fields in self.evidence_fields.items()
        }
        # the case's fact as prepare starts it, from the case's own fields (CASE_FIELDS): the
        # generated code of each round adds the derived values
        self.build_case = fact_builder(
            "case", tuple(f for f in self.fields["case"] if f[1] in CASE_FIELDS)
        )
        self.order_domain = domain_builder(ORDER_FIELDS)
        self.dispute_domain = domain_builder(DISPUTE_FIELDS)
        self.appeal_domain = domain_builder(APPEAL_FIELDS)
        planned: dict[str, list[PlannedPredicate]] = {}
        for pred in program.predicates:
            planned.setdefault(pred.alias_type, []).append(self._plan_predicate(pred))
        self.predicates = {fact_type: tuple(preds) for fact_type, preds in planned.items()}
        # the derived values of each round that has any, as generated Python
        self.derived_code = compile_rounds(program, frozenset(wanted.get("case", ())))
        self.status_at = {kind: (a, v) for kind, a, v in program.status_strata}
        score_to_fact = converter(ISSUE_FIELDS["score"])
        assert score_to_fact is not None
        self.score_to_fact = score_to_fact  # an issue's score in its fact
        self._score_facts: dict[Decimal, Any] = {}  # a score -> its fact form, worked out once
        self.types_in_round: dict[int, frozenset[str]] = {}
        for rule in program.rules:
            types = {alias.fact_type for alias in rule.aliases}
            self.types_in_round[rule.stratum] = self.types_in_round.get(
                rule.stratum, frozenset()
            ) | frozenset(types)
        # the first round always carries the dispute: the runtime's guard rule fires on it
        self.types_in_round[0] = self.types_in_round.get(0, frozenset()) | {"dispute"}

    def score_fact(self, score: Any) -> Any:
        """An issue's score in its fact form; a score seen before (a few kinds are common) from
        what it was then: equal decimals are the same number, whose form is the same."""
        if type(score) is not Decimal or score.is_nan():
            return self.score_to_fact(score)
        found = self._score_facts.get(score)
        if found is None:
            found = self.score_to_fact(score)
            if len(self._score_facts) < _SCORES_KEPT:
                self._score_facts[score] = found
        return found

    @staticmethod
    def _plan_fields(wanted: tuple[str, ...], table: Mapping[str, Type]) -> tuple[Field, ...]:
        out: list[Field] = []
        for name in wanted:
            base, _, transform = name.partition("__")
            if not base or base not in table:  # predicate fields are filled in separately
                continue
            if transform == "name":
                out.append((name, base, None, True))
            elif not transform:
                out.append((name, base, converter(table[base]), False))
        return tuple(out)

    def _plan_predicate(self, pred: Predicate) -> PlannedPredicate:
        subject = pred.args[0].value
        assert isinstance(subject, FieldRef)
        return PlannedPredicate(
            field=pred.field,
            function=pred.function,
            subject=subject.field,
            args=tuple(self.compiled(arg) for arg in pred.args[1:]),
            params_only=all(_reads_only(arg, "param") for arg in pred.args[1:]),
        )

    def compiled(self, expr: Expr) -> Compiled:
        closure = self._closures.get(id(expr))
        if closure is None:
            closure = self._closures[id(expr)] = compile_value(expr)
        return closure

    def evaluate(self, expr: Expr | None, env: Mapping[str, Mapping[str, Any]]) -> Any:
        """The expression's value for a case; one that reads only parameters (a standard of
        proof, a weight) is worked out once for each set of parameter values."""
        if expr is None:
            return None
        key = id(expr)
        planned = self._evaluated.get(key)
        if planned is None:
            planned = self._evaluated[key] = (self.compiled(expr), _reads_only(expr, "param"))
        closure, params_only = planned
        if not params_only:
            return closure(env)
        memo = self.per_values(env["param"])
        found = memo.get(key, _UNSET)
        if found is _UNSET:
            found = memo[key] = closure(env)
        return found

    def per_values(self, values: Mapping[str, Any]) -> dict[Any, Any]:
        """What is worked out once for each set of parameter values (the parameters' fact,
        the values of expressions that read only parameters), kept while ``values`` lives."""
        memo = self._per_values.get(id(values))
        if memo is None or memo[0] is not values:
            if len(self._per_values) >= _DAYS_CACHED:
                self._per_values.clear()
            memo = self._per_values[id(values)] = (values, {})
        return memo[1]

    def parameters(self, platform: str, when: datetime) -> Resolved:
        """The parameters in force for a case, cached by platform and by the period between two
        dates on which some value or profile changes (an archive spans years of days)."""
        # the day's number in the policy's time zone (days since 1970-01-01), without making
        # the local time and its text for every case; the per-day cache is left to the times
        # whose whole seconds are surely exact (from 1970 to 2242)
        seconds = epoch_seconds(when)
        number = (seconds + self._offset) // 86400 if 0 <= seconds < EXACT_SECONDS else -1
        dated = self._params_on.get((platform, number)) if number >= 0 else None
        if dated is not None:
            return dated
        day = when.astimezone(self.timezone).date().isoformat()
        key = (platform, bisect.bisect_right(self._boundaries, day))
        found = self._params.get(key)
        if found is None:
            found = self._params[key] = resolve_parameters(self.program, platform, when)
        dated = found if found.day == day else replace(found, day=day)
        if number >= 0 and len(self._params_on) < _DAYS_CACHED:
            self._params_on[(platform, number)] = dated
        return dated


@dataclass
class Prepared:
    """Everything about one case that does not depend on firings."""

    case: Case
    params: Resolved
    env: dict[str, dict[str, Any]]  # alias -> domain values, for value expressions
    singletons: dict[str, Fact] = field(default_factory=dict)  # fact form, for conditions
    evidence: list[Fact] = field(default_factory=list)
    evidence_env: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)
    # item id -> attributes read from its files below read_confidence_min (not in its facts)
    unconfirmed: dict[str, frozenset[str]] = field(default_factory=dict)


def _with_declared(domain: dict[str, Any], extra: Any, declared: frozenset[str]) -> dict[str, Any]:
    """The domain with the case's declared fields that these rules declare too."""
    domain.update((name, value) for name, value in extra if name in declared and value is not None)
    return domain


def prepare(plan: FactPlan, case: Case) -> Prepared:
    """Type the case's values, resolve parameters, compute round-0 derived values."""
    params = plan.parameters(case.platform, case.dispute.intervention_requested_at)
    order, dispute = plan.order_domain(case.order), plan.dispute_domain(case.dispute)
    if case.order.extra:
        _with_declared(order, case.order.extra, plan.declared.get("order", frozenset()))
    if case.dispute.extra:
        _with_declared(dispute, case.dispute.extra, plan.declared.get("dispute", frozenset()))
    env: dict[str, dict[str, Any]] = {
        "order": order,
        "dispute": dispute,
        "case": {"case_id": case.case_id, "platform": case.platform},
        "param": params.values,
    }
    if case.dispute.appeal is not None:
        env["appeal"] = plan.appeal_domain(case.dispute.appeal)
    prepared = Prepared(case=case, params=params, env=env)
    for owner, name in plan.name_fields:
        written = env[owner].get(name)
        if isinstance(written, str) and len(scripts(written)) > 1:
            mixed = " + ".join(sorted(scripts(written)))
            prepared.warnings.append(
                Notice.of("mixed_scripts_field", field=f"{owner}.{name}", scripts=mixed)
            )
    build_evidence = plan.build_evidence
    planned = plan.predicates.get("evidence", ())
    tests = _predicate_tests(plan, planned, env) if planned and case.evidence else []
    for item in case.evidence:
        domain = _evidence_domain(plan, item, prepared)
        fact = build_evidence.get(item.kind, build_evidence[None])(item.id, domain)
        if planned:
            _apply_predicates(planned, tests, fact, domain, env)
        prepared.evidence_env.append(domain)
        prepared.evidence.append(fact)
    singletons = prepared.singletons
    build = plan.build
    for name in ("order", "dispute", "appeal"):
        if name in env:
            fact = build[name](name, env[name])
            _predicates(plan, name, fact, env[name], env)
            singletons[name] = fact
    singletons["param"] = _param_fact(plan, env)
    singletons["case"] = plan.build_case("case", env["case"])
    _compute_derived(plan, prepared, 0, {})
    return prepared


def _param_fact(plan: FactPlan, env: Mapping[str, Mapping[str, Any]]) -> Fact:
    """The parameters' fact: the same for every case under the same values (shared, never
    changed), unless a predicate over parameters reads the case."""
    values = env["param"]
    if "param" in plan.predicates:
        fact = plan.build["param"]("param", values)
        _predicates(plan, "param", fact, values, env)
        return fact
    memo = plan.per_values(values)
    shared: Fact | None = memo.get(_PARAM_FACT)
    if shared is None:
        shared = memo[_PARAM_FACT] = plan.build["param"]("param", values)
    return shared


def singleton_bindings(prepared: Prepared) -> dict[str, Fact]:
    """The singleton facts by name; a fact the case lacks (no appeal) is bound empty, so that
    conditions such as ``missing(appeal.filed_at)`` can be asked of every case."""
    bound: dict[str, Fact] = {name: {TYPE: name, KEY: name} for name in SINGLETONS}
    bound.update(prepared.singletons)
    return bound


def _predicates(
    plan: FactPlan,
    fact_type: str,
    fact: Fact,
    domain: Mapping[str, Any],
    env: Mapping[str, Mapping[str, Any]],
) -> None:
    """The results of the predicates on ``fact_type`` into ``fact``, for the subjects it has."""
    planned = plan.predicates.get(fact_type)
    if planned:
        _apply_predicates(planned, _predicate_tests(plan, planned, env), fact, domain, env)


def _predicate_tests(
    plan: FactPlan, planned: tuple[PlannedPredicate, ...], env: Mapping[str, Mapping[str, Any]]
) -> list[Any]:
    """The tests of the predicates that read only parameters, one slot per predicate, filled
    in when first needed and kept for the set of parameter values (with, say, its options)."""
    memo = plan.per_values(env["param"])
    tests: list[Any] | None = memo.get(id(planned))
    if tests is None:
        tests = memo[id(planned)] = [_UNSET] * len(planned)
    return tests


def _apply_predicates(
    planned: tuple[PlannedPredicate, ...],
    tests: list[Any],
    fact: Fact,
    domain: Mapping[str, Any],
    env: Mapping[str, Mapping[str, Any]],
) -> None:
    for n, pred in enumerate(planned):
        subject = domain.get(pred.subject)
        if subject is None:
            continue
        test = tests[n]
        if test is _UNSET:
            test = _predicate_test(pred, env)
            if pred.params_only:
                tests[n] = test
        if test is not None:
            fact[pred.field] = test(subject)


def _predicate_test(pred: PlannedPredicate, env: Mapping[str, Mapping[str, Any]]) -> Any:
    """The predicate given its arguments' values: a test of subject values; None when an
    argument is missing (the fact then has no result for it)."""
    values = [arg(env) for arg in pred.args]
    if any(v is None for v in values):
        return None
    return predicate_test(pred.function, values[0])


def _compute_derived(
    plan: FactPlan, prepared: Prepared, stratum: int, statuses: Mapping[str, EvidenceStatus]
) -> None:
    """Compute the derived values of ``stratum`` in dependency order, into env and case fact."""
    run = plan.derived_code.get(stratum)
    case_fact = prepared.singletons["case"]
    if run is not None:
        env = prepared.env
        run(env, case_fact, prepared.singletons, prepared.evidence, prepared.evidence_env, statuses)
    if plan.predicates.get("case"):
        _predicates(plan, "case", case_fact, prepared.env["case"], prepared.env)


def round_facts(
    plan: FactPlan,
    prepared: Prepared,
    stratum: int,
    statuses: Mapping[str, EvidenceStatus],
    issues: tuple[IssueResult, ...] | None,
) -> list[Fact]:
    """The facts of round ``stratum`` that its rules can read: singletons, evidence with the
    statuses known by then, issues."""
    if stratum > 0 and stratum in plan.derived_code:
        _compute_derived(plan, prepared, stratum, statuses)
    types = plan.types_in_round.get(stratum, frozenset())
    facts: list[Fact] = [fact for name, fact in prepared.singletons.items() if name in types]
    if "evidence" in types:
        status_at = plan.status_at
        if not statuses and "*" in status_at:  # no item's status known yet: the facts as built
            facts.extend(prepared.evidence)
        else:
            _evidence_facts(facts, prepared, stratum, statuses, status_at)
    if issues is not None and "issue" in types:
        for result in issues:
            facts.append({
                TYPE: "issue", KEY: f"issue:{result.issue}", "name": result.issue,
                "status": result.status, "burden": result.burden,
                "score": plan.score_fact(result.score),
            })  # fmt: skip
    return facts


def _evidence_facts(
    facts: list[Fact],
    prepared: Prepared,
    stratum: int,
    statuses: Mapping[str, EvidenceStatus],
    status_at: Mapping[str, tuple[int, int]],
) -> None:
    """The evidence facts with the statuses known by round ``stratum``, onto ``facts``."""
    anywhere: tuple[int, int] | None = None  # when the statuses of a kind's items are known
    for item, fact in zip(prepared.case.evidence, prepared.evidence, strict=True):
        if anywhere is None:
            anywhere = status_at["*"]
        admitted_at, valid_at = status_at.get(item.kind, anywhere)
        status = statuses.get(item.id)
        if status is None or (stratum < admitted_at and stratum < valid_at):
            facts.append(fact)
            continue
        fact = fact.copy()
        if stratum >= admitted_at:
            fact["admitted"] = status.admitted
        if stratum >= valid_at:
            fact["valid"] = status.valid
        facts.append(fact)


def _reads_only(expr: Expr, alias: str) -> bool:
    """Whether every field the expression reads is one of ``alias``'s."""
    if expr.op == "ref":
        return bool(expr.value.alias == alias)
    return all(_reads_only(arg, alias) for arg in expr.args)


def _evidence_domain(plan: FactPlan, item: Evidence, prepared: Prepared) -> dict[str, Any]:
    warnings = prepared.warnings
    files = item.files
    domain: dict[str, Any] = {
        "id": item.id, "party": item.party, "kind": item.kind, "submitted_at": item.submitted_at,
        "file_count": len(files), "file_types": _file_types(item, warnings) if files else (),
    }  # fmt: skip
    if plan.wants_fingerprint:
        domain["fingerprint"] = fingerprint(item)
    if plan.wants_files_digest and files:
        digests = sorted({f.sha256 for f in files if f.sha256})
        if digests and len(digests) == len(files):
            domain["files_digest"] = hashlib.sha256("\n".join(digests).encode()).hexdigest()[:32]
    kind = plan.kinds.get(item.kind)
    attributes = plan.attributes.get(item.kind)
    if kind is None or attributes is None:
        warnings.append(Notice.of("unknown_kind", item=item.id, kind=item.kind))
        return domain
    for name, raw in item.attributes:
        attribute = attributes.get(name)
        if attribute is None:
            warnings.append(Notice.of("unknown_attribute", item=item.id, name=name, kind=item.kind))
            continue
        value = attribute.typed(raw)
        if value is None:
            if raw is not None:
                warnings.append(
                    Notice.of(
                        "mistyped_attribute",
                        item=item.id,
                        name=name,
                        type=str(attribute.declared),
                        value=repr(raw),
                    )
                )
            continue
        if attribute.is_name and isinstance(value, str) and len(scripts(value)) > 1:
            mixed = " + ".join(sorted(scripts(value)))
            warnings.append(
                Notice.of("mixed_scripts_attribute", item=item.id, name=name, scripts=mixed)
            )
        domain[name] = value
    if item.read:  # attributes read from the files of a bundle; typed ones win
        counted, unsure = read_values(item, kind, read_min(prepared.params.values), warnings)
        domain.update(counted)
        if unsure:
            prepared.unconfirmed[item.id] = unsure
    return domain


def _file_types(item: Evidence, warnings: list[Notice]) -> tuple[str, ...]:
    """Each file's type; the commonest case (no type sniffed from a bundle) straight away."""
    for named in item.files:
        if named.type is not None:
            return file_types(item, warnings)
    return tuple([file_type(named.name) for named in item.files])
