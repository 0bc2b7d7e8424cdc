"""Case + Program -> the facts of each round, identical for both evaluators.

Facts are flat dicts in the engine's scalar forms (see ``engine.rules.program``): ``type`` and
``key`` (the case's own id: "order", "E1", "issue:<name>"), then only the fields some rule
reads, including materialised transforms (``signer_name__name``) and predicates (``__p3``).
A value that is missing is left out of the fact (durable_rules treats ``None`` as present).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from engine.compile.reference import atom_holds
from engine.model import Case, Evidence
from engine.names import normalise_name
from engine.params import Resolved, resolve_parameters
from engine.rules.expr import parse_duration, to_fact_value
from engine.rules.program import KEY, TYPE, Derived, FieldRef, Predicate, Program, Type
from engine.rules.schema import (
    APPEAL_FIELDS,
    CASE_FIELDS,
    DISPUTE_FIELDS,
    EVIDENCE_FIELDS,
    ISSUE_FIELDS,
    ORDER_FIELDS,
    SINGLETONS,
)
from engine.values import evaluate

__all__ = ["EvidenceStatus", "IssueResult", "Prepared", "prepare", "round_facts"]

Fact = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceStatus:
    admitted: bool
    valid: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueResult:
    issue: str
    burden: str
    standard: Decimal
    lower_bound: Decimal
    margin: Decimal
    score: Decimal  # the strongest valid item supporting the issue
    against: Decimal  # the strongest valid item opposing it
    status: str  # proven | not_proven | inconclusive | contested
    supporting: tuple[str, ...]
    opposing: tuple[str, ...]


@dataclass
class Prepared:
    """Everything about one case that does not depend on firings."""

    case: Case
    params: Resolved
    env: dict[str, dict[str, Any]]  # alias -> domain values, for value expressions
    types: dict[str, Mapping[str, Type]]  # fact type -> field -> type
    singletons: dict[str, Fact] = field(default_factory=dict)  # fact form, for conditions
    evidence: list[Fact] = field(default_factory=list)
    evidence_env: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)
    derived_done: set[str] = field(default_factory=set)


def _fields(program: Program, fact_type: str) -> tuple[str, ...]:
    for name, fields in program.fields:
        if name == fact_type:
            return fields
    return ()


def _domain(obj: Any, table: Mapping[str, Type]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in table if getattr(obj, name, None) is not None}


def _fact(
    fact_type: str,
    key: str,
    domain: Mapping[str, Any],
    types: Mapping[str, Type],
    wanted: tuple[str, ...],
) -> Fact:
    fact: Fact = {TYPE: fact_type, KEY: key}
    for name in wanted:
        base, _, transform = name.partition("__")
        if not base:  # a predicate field, filled in separately
            continue
        value = domain.get(base)
        if value is None or base not in types:
            continue
        if transform == "name":
            fact[name] = normalise_name(str(value))
        elif not transform:
            fact[name] = to_fact_value(value, types[base])
    return fact


def prepare(program: Program, case: Case) -> Prepared:
    """Type the case's values, resolve parameters, compute round-0 derived values."""
    params = resolve_parameters(program, case.platform, case.dispute.intervention_requested_at)
    env: dict[str, dict[str, Any]] = {
        "order": _domain(case.order, ORDER_FIELDS),
        "dispute": _domain(case.dispute, DISPUTE_FIELDS),
        "case": {"case_id": case.case_id, "platform": case.platform},
        "param": dict(params.values),
    }
    if case.dispute.appeal is not None:
        env["appeal"] = _domain(case.dispute.appeal, APPEAL_FIELDS)
    types: dict[str, Mapping[str, Type]] = {
        "order": ORDER_FIELDS, "dispute": DISPUTE_FIELDS, "appeal": APPEAL_FIELDS,
        "case": {**CASE_FIELDS, **{d.name: d.type for d in program.derived}},
        "param": {p.name: p.type for p in program.parameters},
    }  # fmt: skip
    prepared = Prepared(case=case, params=params, env=env, types=types)
    wanted = tuple(sorted({*_fields(program, "evidence"), "kind"}))
    for item in case.evidence:
        domain = _evidence_domain(program, item, prepared.warnings)
        kind = program.kind(item.kind)
        table = dict(EVIDENCE_FIELDS)
        if kind is not None:
            table.update(dict(kind.attributes))
        fact = _fact("evidence", item.id, domain, table, wanted)
        _predicates(program, "evidence", fact, domain, env)
        prepared.evidence_env.append(domain)
        prepared.evidence.append(fact)
    for name in ("order", "dispute", "appeal", "param"):
        if name in env:
            fact = _fact(name, name, env[name], types[name], _fields(program, name))
            _predicates(program, name, fact, env[name], env)
            prepared.singletons[name] = fact
    _compute_derived(program, prepared, stratum=0, statuses={})
    return prepared


def _case_fact(program: Program, prepared: Prepared) -> Fact:
    env = prepared.env["case"]
    fact = _fact("case", "case", env, prepared.types["case"], _fields(program, "case"))
    _predicates(program, "case", fact, env, prepared.env)
    return fact


def _evidence_domain(
    program: Program, item: Evidence, warnings: list[tuple[str, str]]
) -> dict[str, Any]:
    file_types = tuple(PurePosixPath(f.name).suffix.lower().lstrip(".") for f in item.files)
    digests = sorted({f.sha256 for f in item.files if f.sha256})
    domain: dict[str, Any] = {
        "id": item.id, "party": item.party, "kind": item.kind, "submitted_at": item.submitted_at,
        "file_count": len(item.files), "file_types": file_types,
        "fingerprint": _fingerprint(item),
    }  # fmt: skip
    if digests and len(digests) == len(item.files):
        domain["files_digest"] = hashlib.sha256("\n".join(digests).encode()).hexdigest()[:32]
    kind = program.kind(item.kind)
    if kind is None:
        warnings.append(
            (
                f"证据 {item.id} 的类型 '{item.kind}' 规则未定义，不计权重",
                f"evidence {item.id}: kind '{item.kind}' is not defined by the rules; "
                "it is given no weight",
            )
        )
        return domain
    for name, raw in item.attributes:
        type_ = kind.attribute_type(name)
        if type_ is None:
            warnings.append(
                (
                    f"证据 {item.id} 的属性 '{name}' 规则未定义，已忽略",
                    f"evidence {item.id}: attribute '{name}' is not defined for kind "
                    f"'{item.kind}'; ignored",
                )
            )
            continue
        value = _typed(raw, type_)
        if value is None and raw is not None:
            warnings.append(
                (
                    f"证据 {item.id} 的属性 '{name}' 应为 {type_}，已忽略",
                    f"evidence {item.id}: attribute '{name}' should be {type_}; "
                    f"got {raw!r}, ignored",
                )
            )
            continue
        if value is not None:
            domain[name] = value
    return domain


def _fingerprint(item: Evidence) -> str:
    """Equal for two items of the same kind with the same attributes (a resubmission)."""
    body = json.dumps(
        [item.kind, sorted(item.attributes, key=lambda kv: kv[0])],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _typed(raw: Any, type_: Type) -> Any:
    name = type_.name
    if raw is None:
        return None
    if name in ("text", "name"):
        if isinstance(raw, bool):
            return None
        return str(raw) if isinstance(raw, (str, int)) else None
    if name == "enum":
        return raw if isinstance(raw, str) and raw in type_.values else None
    if name == "integer":
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if name in ("number", "money"):
        if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
            return None
        value = Decimal(str(raw))
        return value if value.is_finite() else None
    if name == "boolean":
        return raw if isinstance(raw, bool) else None
    if name == "time":
        if not isinstance(raw, str):
            return None
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    if name == "duration":
        seconds = parse_duration(raw) if isinstance(raw, str) else None
        return None if seconds is None else timedelta(seconds=seconds)
    if name == "list":
        if not isinstance(raw, (list, tuple)):
            return None
        if type_.values and not all(isinstance(x, str) and x in type_.values for x in raw):
            return None
        return tuple(raw)
    return None


def _predicates(
    program: Program,
    fact_type: str,
    fact: Fact,
    domain: Mapping[str, Any],
    env: Mapping[str, Mapping[str, Any]],
) -> None:
    for pred in program.predicates:
        if pred.alias_type != fact_type:
            continue
        subject_ref = pred.args[0].value
        assert isinstance(subject_ref, FieldRef)
        subject = domain.get(subject_ref.field)
        if subject is None:
            continue
        args = [evaluate(arg, env) for arg in pred.args[1:]]
        if any(a is None for a in args):
            continue
        fact[pred.field] = _predicate(pred, subject, args)


def _predicate(pred: Predicate, subject: Any, args: list[Any]) -> bool:
    name = pred.function
    if name == "all_in":
        options = {str(o).lower() for o in args[0]}
        return all(str(x).lower() in options for x in subject)
    if name == "any_in":
        options = {str(o).lower() for o in args[0]}
        return any(str(x).lower() in options for x in subject)
    if name == "contains":
        return args[0] in subject
    if name == "contains_any":
        return any(str(word) in subject for word in args[0])
    if name == "all_have":
        return all(isinstance(r, Mapping) and r.get(args[0]) not in (None, "") for r in subject)
    raise AssertionError(name)


def _compute_derived(
    program: Program, prepared: Prepared, stratum: int, statuses: Mapping[str, EvidenceStatus]
) -> None:
    """Compute the derived values of ``stratum`` (in dependency order), then the case fact."""
    for item in program.derived:
        if item.stratum != stratum or item.name in prepared.derived_done:
            continue
        value = _derived_value(program, item, prepared, statuses)
        prepared.derived_done.add(item.name)
        if value is not None:
            prepared.env["case"][item.name] = value
    prepared.singletons["case"] = _case_fact(program, prepared)


def singleton_bindings(prepared: Prepared) -> dict[str, Fact]:
    """The singleton facts by name; a fact the case lacks (no appeal) is bound empty, so that
    conditions such as ``missing(appeal.filed_at)`` can be asked of every case."""
    bound: dict[str, Fact] = {name: {TYPE: name, KEY: name} for name in SINGLETONS}
    bound.update(prepared.singletons)
    return bound


def _derived_value(
    program: Program, item: Derived, prepared: Prepared, statuses: Mapping[str, EvidenceStatus]
) -> Any:
    env = prepared.env
    bound = singleton_bindings(prepared)
    bound["case"] = _case_fact(program, prepared)
    if item.expr is not None:
        if not any(all(atom_holds(a, bound) for a in atoms) for atoms in item.where):
            return None
        return evaluate(item.expr, env)
    values = []
    count = 0
    for fact, domain in zip(prepared.evidence, prepared.evidence_env, strict=True):
        status = statuses.get(str(fact[KEY]))
        if status is not None:
            fact = {**fact, "admitted": status.admitted, "valid": status.valid}
        bound["evidence"] = fact
        if not any(all(atom_holds(a, bound) for a in atoms) for atoms in item.where):
            continue
        count += 1
        if item.of is not None:
            value = evaluate(item.of, {**env, "evidence": domain})
            if value is not None:
                values.append(value)
    if item.aggregate == "count":
        return count
    if not values:
        return None
    return max(values) if item.aggregate == "latest" else min(values)


def round_facts(
    program: Program,
    prepared: Prepared,
    stratum: int,
    statuses: Mapping[str, EvidenceStatus],
    issues: tuple[IssueResult, ...] | None,
) -> list[Fact]:
    """The facts of round ``stratum``: singletons, evidence with known statuses, issues."""
    if stratum > 0 and any(d.stratum == stratum for d in program.derived):
        _compute_derived(program, prepared, stratum, statuses)
    facts: list[Fact] = list(prepared.singletons.values())
    status_at = {kind: (a, v) for kind, a, v in program.status_strata}
    for item, fact in zip(prepared.case.evidence, prepared.evidence, strict=True):
        admitted_at, valid_at = status_at.get(item.kind, status_at["*"])
        status = statuses.get(item.id)
        if status is None or (stratum < admitted_at and stratum < valid_at):
            facts.append(fact)
            continue
        fact = dict(fact)
        if stratum >= admitted_at:
            fact["admitted"] = status.admitted
        if stratum >= valid_at:
            fact["valid"] = status.valid
        facts.append(fact)
    if issues is not None and stratum >= program.issue_stratum:
        for result in issues:
            facts.append({
                TYPE: "issue", KEY: f"issue:{result.issue}", "name": result.issue,
                "status": result.status, "burden": result.burden,
                "score": to_fact_value(result.score, ISSUE_FIELDS["score"]),
            })  # fmt: skip
    return facts
