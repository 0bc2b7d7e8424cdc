"""The reference evaluator: the compiled rules interpreted in plain Python.

It matches exactly what the durable_rules ruleset matches (tests demand identical firings on
every case): a rule fires once per distinct binding of its aliases to facts of the round, with no
fact bound twice, when one of its alternatives holds; a comparison with a missing value is false.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.firing import Firing
from engine.rules.program import KEY, TYPE, Atom, FieldRef, Program

__all__ = ["ReferenceEvaluator", "atom_holds"]

Fact = Mapping[str, Any]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def atom_holds(atom: Atom, bound: Mapping[str, Fact]) -> bool:
    left = bound[atom.left.alias].get(atom.left.fact_field)
    op = atom.op
    if op == "present":
        return left is not None
    if op == "missing":
        return left is None
    if left is None:
        return False
    if op == "in":
        return left in atom.options
    right_ref = atom.right
    if isinstance(right_ref, FieldRef):
        right = bound[right_ref.alias].get(right_ref.fact_field)
    else:
        right = right_ref.value if right_ref is not None else None
    if right is None:
        return False
    return _OPS[op](left, right)


def compile_atom(atom: Atom) -> Callable[[Mapping[str, Fact]], bool]:
    """``atom_holds`` for one atom, as a closure (the reference evaluator's hot path)."""
    alias, name = atom.left.alias, atom.left.fact_field
    op = atom.op
    if op == "present":
        return lambda b: b[alias].get(name) is not None
    if op == "missing":
        return lambda b: b[alias].get(name) is None
    if op == "in":
        options = atom.options
        return lambda b: (v := b[alias].get(name)) is not None and v in options
    compare = _OPS[op]
    right = atom.right
    if isinstance(right, FieldRef):
        other, other_name = right.alias, right.fact_field
        return lambda b: (
            (v := b[alias].get(name)) is not None
            and (w := b[other].get(other_name)) is not None
            and compare(v, w)
        )
    constant = right.value if right is not None else None
    if constant is None:
        return lambda b: False
    return lambda b: (v := b[alias].get(name)) is not None and compare(v, constant)


_Check = Callable[[Mapping[str, Fact]], bool]
_Step = tuple[str, str, str | None, tuple[_Check, ...]]  # alias, fact type, kind, checks


class ReferenceEvaluator:
    """Evaluates one round of a case's facts; stateless, so one instance serves every case."""

    name = "reference"

    def __init__(self, program: Program) -> None:
        self.program = program
        # per round, the alternatives indexed by the most selective group of facts they need
        # (an evidence kind or an issue when they name one): a case only pays for the rules
        # whose facts it has
        self._plans: dict[int, dict[tuple[str, str | None], list[tuple[str, tuple[_Step, ...]]]]]
        self._plans = {}
        for rule in program.rules:
            order = [a.name for a in rule.aliases]
            for atoms in rule.alternatives:
                # each atom is checked as soon as the last alias it needs is bound
                per_step: list[list[_Check]] = [[] for _ in order]
                for atom in atoms:
                    last = max(order.index(name) for name in atom.aliases())
                    per_step[last].append(compile_atom(atom))
                steps = tuple(
                    (alias.name, alias.fact_type, alias.kind, tuple(checks))
                    for alias, checks in zip(rule.aliases, per_step, strict=True)
                )
                keyed = [(a.fact_type, a.kind) for a in rule.aliases if a.kind is not None]
                anchor = keyed[0] if keyed else (rule.aliases[-1].fact_type, None)
                index = self._plans.setdefault(rule.stratum, {})
                index.setdefault(anchor, []).append((rule.id, steps))

    def run(self, stratum: int, facts: Iterable[Fact]) -> set[Firing]:
        groups: dict[tuple[str, str | None], list[Fact]] = {}
        for fact in facts:
            fact_type = fact[TYPE]
            groups.setdefault((fact_type, None), []).append(fact)
            sub = fact.get("name") if fact_type == "issue" else fact.get("kind")
            if sub is not None:
                groups.setdefault((fact_type, sub), []).append(fact)
        fired: set[Firing] = set()
        index = self._plans.get(stratum, {})
        for key in groups:
            for rule_id, steps in index.get(key, ()):
                _match(rule_id, steps, groups, fired)
        return fired


def _match(
    rule_id: str,
    steps: tuple[_Step, ...],
    groups: Mapping[tuple[str, str | None], list[Fact]],
    fired: set[Firing],
) -> None:
    candidates = []
    for _, fact_type, kind, _ in steps:
        found = groups.get((fact_type, kind))
        if not found:
            return
        candidates.append(found)
    if len(steps) == 1:
        name, _, _, checks = steps[0]
        for fact in candidates[0]:
            single = {name: fact}
            if all(check(single) for check in checks):
                fired.add(Firing(rule_id, ((name, fact[KEY]),)))
        return
    if len(steps) == 2:  # the common shape (a singleton and an item, or two items): no recursion
        (name0, _, _, checks0), (name1, _, _, checks1) = steps
        for first in candidates[0]:
            pair = {name0: first}
            if not all(check(pair) for check in checks0):
                continue
            for second in candidates[1]:
                if second is first:  # durable_rules never binds one fact twice in a match
                    continue
                pair[name1] = second
                if all(check(pair) for check in checks1):
                    fired.add(Firing(rule_id, ((name0, first[KEY]), (name1, second[KEY]))))
        return
    bound: dict[str, Fact] = {}
    used: list[int] = []

    def step(i: int) -> None:
        if i == len(steps):
            fired.add(Firing(rule_id, tuple((s[0], bound[s[0]][KEY]) for s in steps)))
            return
        name, _, _, checks = steps[i]
        for fact in candidates[i]:
            if id(fact) in used:  # durable_rules never binds one fact twice in a match
                continue
            bound[name] = fact
            if all(check(bound) for check in checks):
                used.append(id(fact))
                step(i + 1)
                used.pop()
        bound.pop(name, None)

    step(0)
