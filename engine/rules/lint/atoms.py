"""Atoms compared across rules: renamed to shared fact names, as intervals and allowed values,
to tell whether two tests contradict each other (the algebra behind L001 - L004)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.rules.program import Atom, Const, FieldRef, Rule
from engine.rules.schema import SINGLETONS
from engine.rules.semantics import MIRRORED

__all__ = [
    "Key",
    "RELATIONS",
    "Test",
    "allowed_values",
    "canonical",
    "contradict",
    "contradiction",
    "disjoint",
    "exclusive",
    "field_key",
    "fields_of",
    "interval",
    "tests_of",
]

Key = tuple[str, str]  # (canonical fact, field)
RELATIONS = {
    "eq": {"="}, "ne": {"<", ">"}, "lt": {"<"}, "le": {"<", "="}, "gt": {">"}, "ge": {">", "="},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Test:
    """An atom with its facts renamed, so that atoms of different rules can be compared."""

    op: str
    left: Key
    right: Key | None  # another field
    value: Any = None  # a constant
    options: tuple[Any, ...] = ()


def canonical(rule: Rule, shared: dict[str, str] | None = None) -> dict[str, str]:
    """Alias -> a fact name that means the same fact in every rule where it is shared.

    The singletons (order, dispute, ...) and an issue bound by name are one fact per case;
    other evidence and ``any_issue`` aliases stay private to the rule unless ``shared`` says.
    """
    names: dict[str, str] = {}
    for alias in rule.aliases:
        if alias.name in (shared or {}):
            names[alias.name] = (shared or {})[alias.name]
        elif alias.fact_type in SINGLETONS:
            names[alias.name] = alias.fact_type
        elif alias.fact_type == "issue" and alias.kind is not None:
            names[alias.name] = f"issue:{alias.kind}"
        else:
            names[alias.name] = f"{rule.id}:{alias.name}"
    return names


def field_key(ref: FieldRef, names: dict[str, str]) -> Key:
    return (names.get(ref.alias, ref.alias), ref.fact_field)


def tests_of(atoms: Iterable[Atom], names: dict[str, str]) -> list[Test]:
    out = []
    for atom in atoms:
        left = field_key(atom.left, names)
        if isinstance(atom.right, FieldRef):
            right = field_key(atom.right, names)
            op = atom.op
            if right < left:
                left, right, op = right, left, MIRRORED[op]
            out.append(Test(op, left, right))
        elif isinstance(atom.right, Const):
            out.append(Test(atom.op, left, None, atom.right.value))
        else:
            out.append(Test(atom.op, left, None, None, atom.options))
    return out


def fields_of(test: Test) -> tuple[Key, ...]:
    return (test.left,) if test.right is None else (test.left, test.right)


def interval(test: Test) -> tuple[float, bool, float, bool] | None:
    """(low, low included, high, high included) of a comparison with a number, else None."""
    value = test.value
    if test.right is not None or isinstance(value, bool) or not isinstance(value, int):
        return None
    inf = float("inf")
    return {
        "eq": (value, True, value, True),
        "lt": (-inf, False, value, False),
        "le": (-inf, False, value, True),
        "gt": (value, False, inf, False),
        "ge": (value, True, inf, False),
    }.get(test.op)


def disjoint(a: tuple[float, bool, float, bool], b: tuple[float, bool, float, bool]) -> bool:
    low, low_in = max((a[0], a[1]), (b[0], b[1]), key=lambda x: (x[0], not x[1]))
    high, high_in = min((a[2], a[3]), (b[2], b[3]), key=lambda x: (x[0], x[1]))
    return low > high or (low == high and not (low_in and high_in))


def contradict(a: Test, b: Test) -> bool:
    """True when no facts can satisfy both tests (a comparison with a missing value is false)."""
    if a.op == "missing" or b.op == "missing":
        other, gone = (b, a) if a.op == "missing" else (a, b)
        return other.op != "missing" and gone.left in fields_of(other)
    if a.left != b.left or a.right != b.right:
        return False
    if a.right is not None:  # two fields compared both times
        return not (RELATIONS[a.op] & RELATIONS[b.op])
    if a.op == "present" or b.op == "present":
        return False
    allowed_a, allowed_b = allowed_values(a), allowed_values(b)
    if allowed_a is not None and allowed_b is not None:
        return not (allowed_a & allowed_b)
    for x, y in ((a, b), (b, a)):
        if x.op == "ne" and (allowed := allowed_values(y)) is not None and allowed <= {x.value}:
            return True
    range_a, range_b = interval(a), interval(b)
    return range_a is not None and range_b is not None and disjoint(range_a, range_b)


def allowed_values(test: Test) -> set[Any] | None:
    if test.op == "eq":
        return {test.value}
    if test.op == "in":
        return set(test.options)
    return None


def contradiction(tests: list[Test]) -> tuple[int, int] | None:
    for i, j in itertools.combinations(range(len(tests)), 2):
        if contradict(tests[i], tests[j]):
            return i, j
    return None


def exclusive(first: list[Test], second: list[Test]) -> bool:
    return any(contradict(a, b) for a in first for b in second)
