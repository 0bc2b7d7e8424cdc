"""Which round each rule and derived value runs in, from what it reads and what others write.

A rule that reads ``x.valid`` of an evidence kind must run after every rule that can reject
that kind or meet one of its requirements; a rule on an issue runs after every rule that
supports or opposes an issue. This is the stratification of a Datalog program: rounds replace
negation ("no rule rejected it"), which durable_rules gets wrong. A cycle is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.rules.program import Atom, Derived, EvidenceKind, FieldRef, Rule

__all__ = ["StrataInfo", "assign_strata"]


@dataclass(frozen=True, slots=True)
class StrataInfo:
    rounds: int
    status: tuple[tuple[str, int, int], ...]  # kind -> (admitted known at, valid known at)
    issue: int


Token = tuple[str, str | None]  # ("admitted"|"valid", kind) | ("derived", name) | ("issue", None)


def _atom_reads(atoms: tuple[Atom, ...], kinds_of: dict[str, tuple[str, str | None]]) -> set[Token]:
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

    cyclic = _cyclic_rules(rules, rule_reads, derived, derived_reads, writes)
    for rule in cyclic:
        error(
            rule.loc,
            f"rule '{rule.id}' depends on its own conclusions (a cycle through "
            "valid/admitted or issues)",
            "a rule may not read what it, or a rule after it, decides",
        )
    if cyclic:
        return derived, rules, StrataInfo(rounds=1, status=(), issue=0)

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

    for _ in range(len(rules) + len(derived) + 2):
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


def _cyclic_rules(
    rules: list[Rule],
    rule_reads: list[set[Token]],
    derived: list[Derived],
    derived_reads: list[set[Token]],
    writes: list[set[Token]],
) -> list[Rule]:
    """The rules that lie on a cycle of "reads what another (or itself) decides"."""
    by_name = {item.name: reads for item, reads in zip(derived, derived_reads, strict=True)}

    def expand(reads: set[Token], seen: frozenset[str] = frozenset()) -> set[Token]:
        out = set()
        for token in reads:
            if token[0] == "derived" and token[1] in by_name and token[1] not in seen:
                out |= expand(by_name[token[1]], seen | {token[1] or ""})
            elif token[0] != "derived":
                out.add(token)
        return out

    support_kinds = {t[1] for out in writes for t in out if t[0] == "support"}

    def feeds(written: set[Token], read: Token) -> bool:
        what, kind = read
        if what == "issue":
            return ("issue", None) in written or any(
                t[0] == "valid" and (t[1] is None or t[1] in support_kinds) for t in written
            )
        return any(t[0] == what and (t[1] is None or kind is None or t[1] == kind) for t in written)

    reads = [expand(r) for r in rule_reads]
    edges = [
        [j for j in range(len(rules)) if any(feeds(writes[i], token) for token in reads[j])]
        for i in range(len(rules))
    ]
    cyclic = []
    for start in range(len(rules)):
        stack, seen = list(edges[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                cyclic.append(rules[start])
                break
            if node not in seen:
                seen.add(node)
                stack.extend(edges[node])
    return cyclic
