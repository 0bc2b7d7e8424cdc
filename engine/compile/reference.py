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
from engine.rules.program import KEY, TYPE, Alias, Atom, FieldRef, Program, Rule

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


def _candidates(alias: Alias, by_type: Mapping[str, list[Fact]]) -> list[Fact]:
    facts = by_type.get(alias.fact_type, [])
    if alias.kind is None:
        return facts
    field = "name" if alias.fact_type == "issue" else "kind"
    return [f for f in facts if f.get(field) == alias.kind]


class ReferenceEvaluator:
    """Evaluates one round of a case's facts; stateless, so one instance serves every case."""

    name = "reference"

    def __init__(self, program: Program) -> None:
        self.program = program
        self._plans: dict[int, list[tuple[Rule, list[list[list[Atom]]]]]] = {}
        for rule in program.rules:
            plans = []
            for atoms in rule.alternatives:
                # atoms grouped by the position of the last alias they need
                order = [a.name for a in rule.aliases]
                per_step: list[list[Atom]] = [[] for _ in order]
                for atom in atoms:
                    last = max(order.index(name) for name in atom.aliases())
                    per_step[last].append(atom)
                plans.append(per_step)
            self._plans.setdefault(rule.stratum, []).append((rule, plans))

    def run(self, stratum: int, facts: Iterable[Fact]) -> set[Firing]:
        by_type: dict[str, list[Fact]] = {}
        for fact in facts:
            by_type.setdefault(fact[TYPE], []).append(fact)
        fired: set[Firing] = set()
        for rule, plans in self._plans.get(stratum, []):
            candidates = [_candidates(alias, by_type) for alias in rule.aliases]
            if any(not c for c in candidates):
                continue
            names = [alias.name for alias in rule.aliases]
            for per_step in plans:
                for bound in _matches(names, candidates, per_step):
                    fired.add(Firing(rule.id, tuple((n, bound[n][KEY]) for n in names)))
        return fired


def _matches(
    names: list[str], candidates: list[list[Fact]], per_step: list[list[Atom]]
) -> Iterable[dict[str, Fact]]:
    bound: dict[str, Fact] = {}
    used: list[int] = []

    def step(i: int) -> Iterable[dict[str, Fact]]:
        if i == len(names):
            yield dict(bound)
            return
        for fact in candidates[i]:
            if id(fact) in used:
                continue
            bound[names[i]] = fact
            if all(atom_holds(atom, bound) for atom in per_step[i]):
                used.append(id(fact))
                yield from step(i + 1)
                used.pop()
            del bound[names[i]]

    yield from step(0)
