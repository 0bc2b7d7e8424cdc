"""Which round each rule and derived value runs in, from what it reads and what others write.

A rule that reads ``x.valid`` of an evidence kind must run after every rule that can reject
that kind or meet one of its requirements; a rule on an issue runs after every rule that
supports or opposes an issue. This is the stratification of a Datalog program: rounds replace
negation ("no rule rejected it"), which durable_rules gets wrong. A cycle is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.model import SourceLoc
from engine.rules.program import Atom, Derived, EvidenceKind, FieldRef, Rule

__all__ = ["StrataInfo", "assign_strata"]


@dataclass(frozen=True, slots=True)
class StrataInfo:
    rounds: int
    status: tuple[tuple[str, int, int], ...]  # kind -> (admitted known at, valid known at)
    issue: int


Token = tuple[str, str | None]  # ("admitted"|"valid", kind) | ("derived", name) | ("issue", None)


def _atom_reads(atoms: tuple[Atom, ...], kinds_of: dict[str, tuple[str, str | None]]
                ) -> set[Token]:
    reads: set[Token] = set()
    for atom in atoms:
        for ref in (atom.left, atom.right):
            if not isinstance(ref, FieldRef):
                continue
            fact_type, kind = kinds_of.get(ref.alias, (ref.alias, None))
            if fact_type == "evidence" and ref.field in ("admitted", "valid"):
                reads.add((ref.field, kind))
            elif fact_type == "case":
                reads.add(("derived", ref.field))
            elif fact_type == "issue":
                reads.add(("issue", None))
    return reads


def assign_strata(
    derived: list[Derived],
    rules: list[Rule],
    kinds: dict[str, EvidenceKind],
    error: Callable[..., None],
) -> tuple[list[Derived], list[Rule], StrataInfo]:
    rule_reads: list[set[Token]] = []
    for rule in rules:
        kinds_of = {a.name: (a.fact_type, a.kind) for a in rule.aliases}
        reads: set[Token] = set()
        for atoms in rule.alternatives:
            reads |= _atom_reads(atoms, kinds_of)
        if any(a.fact_type == "issue" for a in rule.aliases):
            reads.add(("issue", None))
        rule_reads.append(reads)
    derived_reads: list[set[Token]] = []
    for item in derived:
        reads = set()
        for atoms in item.where:
            reads |= _atom_reads(atoms, {"evidence": ("evidence", None)})
        for name in _expr_case_refs(item):
            reads.add(("derived", name))
        derived_reads.append(reads)

    # what each rule writes
    writes: list[set[Token]] = []
    for rule in rules:
        out: set[Token] = set()
        for effect in rule.effects:
            if effect.target is None:
                continue
            kind = rule.alias(effect.target).kind
            if effect.kind == "reject":
                out |= {("admitted", kind), ("valid", kind)}
            elif effect.kind == "meets":
                out.add(("valid", kind))
            elif effect.kind in ("supports", "opposes"):
                out |= {("issue", None), ("support", kind)}
        writes.append(out)

    rule_s = [0] * len(rules)
    derived_s = {item.name: 0 for item in derived}
    all_kinds = list(kinds)

    def token_stratum(token: Token) -> int:
        what, kind = token
        if what == "derived":
            return derived_s.get(kind or "", 0)
        if what in ("admitted", "valid"):
            return status_stratum(what, kind)
        return issue_stratum()

    def status_stratum(what: str, kind: str | None) -> int:
        targets = all_kinds if kind is None else [kind]
        best = 0
        for target in targets:
            for i, out in enumerate(writes):
                if (what, target) in out or (what, None) in out:
                    best = max(best, rule_s[i] + 1)
        return best

    def issue_stratum() -> int:
        best = 0
        for i, out in enumerate(writes):
            if ("issue", None) in out:
                best = max(best, rule_s[i] + 1)
                for token in out:
                    if token[0] == "support":
                        best = max(best, status_stratum("valid", token[1]))
        return best

    limit = len(rules) + len(derived) + 2
    for _ in range(limit):
        changed = False
        for item, reads in zip(derived, derived_reads, strict=True):
            value = max((token_stratum(t) for t in reads), default=0)
            if value != derived_s[item.name]:
                derived_s[item.name], changed = value, True
        for i, reads in enumerate(rule_reads):
            value = max((token_stratum(t) for t in reads), default=0)
            if value != rule_s[i]:
                rule_s[i], changed = value, True
        if not changed:
            break
        if max(rule_s, default=0) > limit:
            break
    else:
        pass
    if max(rule_s, default=0) >= limit or max(derived_s.values(), default=0) >= limit:
        cyclic = [r for r, s in zip(rules, rule_s, strict=True) if s >= limit // 2]
        for rule in cyclic[:5]:
            error(rule.loc, f"rule '{rule.id}' depends on its own conclusions (a cycle through "
                  "valid/admitted or issues)", "a rule may not read what it, or a rule after "
                  "it, decides")
        if not cyclic:
            error(SourceLoc(path="rules"), "the rules depend on their own conclusions (a cycle)")
    new_rules = [replace(rule, stratum=s) for rule, s in zip(rules, rule_s, strict=True)]
    new_derived = [replace(item, stratum=derived_s[item.name]) for item in derived]
    status = tuple(
        (kind, status_stratum("admitted", kind), status_stratum("valid", kind)) for kind in kinds
    )
    any_status = (status_stratum("admitted", None), status_stratum("valid", None))
    status += (("*", *any_status),)
    issue = issue_stratum()
    rounds = max([*rule_s, *derived_s.values(), 0]) + 1
    return new_derived, new_rules, StrataInfo(rounds=rounds, status=status, issue=issue)


def _expr_case_refs(item: Derived) -> set[str]:
    names: set[str] = set()

    def walk(expr: object) -> None:
        if expr is None:
            return
        value = getattr(expr, "value", None)
        if isinstance(value, FieldRef) and value.alias == "case":
            names.add(value.field)
        for arg in getattr(expr, "args", ()):
            walk(arg)

    walk(item.expr)
    walk(item.of)
    return names
