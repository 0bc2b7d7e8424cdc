"""Two rule versions -> which of their changes explain a case's flip: the rules whose definition
changed and that fired in either version, the parameters whose value in force for the case
changed and that something fired reads, the issues whose standard changed.

Not every rule whose firing differs: an evidence rule that fires only under the new rules
because a parameter moved is a consequence; the parameter is the cause.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from engine.model import Case
from engine.rules.program import Atom, Derived, Effect, Expr, FieldRef, Program, Rule
from engine.ruling import Ruling
from engine.run.params import Resolved

__all__ = ["Responsibility"]


def _expr_refs(expr: Expr | None) -> Iterator[FieldRef]:
    if expr is None:
        return
    if expr.op == "ref" and isinstance(expr.value, FieldRef):
        yield expr.value
    for arg in expr.args:
        yield from _expr_refs(arg)


def _atom_refs(atoms: Iterable[Atom]) -> Iterator[FieldRef]:
    for atom in atoms:
        yield atom.left
        if isinstance(atom.right, FieldRef):
            yield atom.right


def _effect_refs(effect: Effect) -> Iterator[FieldRef]:
    for expr in (
        effect.weight, effect.refund, effect.compensation, effect.next_step_until,
    ):  # fmt: skip
        yield from _expr_refs(expr)


def _definition(rule: Rule) -> tuple[Any, ...]:
    """What a rule does (not where it is written, nor its title, source or wording)."""
    return (rule.aliases, rule.alternatives, rule.effects)


class _Reads:
    """The parameters each rule of one program reads, directly, through derived values
    (``case.x``) and through predicates (``all_in(evidence.file_types, param.x)``)."""

    def __init__(self, program: Program) -> None:
        derived: dict[str, Derived] = {d.name: d for d in program.derived}
        predicates = {p.field: p for p in program.predicates}
        self._derived_params: dict[str, frozenset[str]] = {}

        def through(ref: FieldRef, seen: frozenset[str]) -> set[str]:
            if ref.alias == "param":
                return {ref.field}
            if ref.alias == "case" and ref.field in derived and ref.field not in seen:
                return set(self._of_derived(derived[ref.field], through, seen | {ref.field}))
            if ref.field in predicates:
                pred = predicates[ref.field]
                return {r.field for a in pred.args for r in _expr_refs(a) if r.alias == "param"}
            return set()

        self.rules: dict[str, frozenset[str]] = {}
        for rule in program.rules:
            refs = [*_atom_refs(a for alt in rule.alternatives for a in alt)]
            refs += [r for effect in rule.effects for r in _effect_refs(effect)]
            self.rules[rule.id] = frozenset(p for ref in refs for p in through(ref, frozenset()))
        self.issues: dict[str, frozenset[str]] = {
            issue.name: frozenset(
                p
                for expr in (issue.standard, issue.lower_bound, issue.margin)
                for ref in _expr_refs(expr)
                for p in through(ref, frozenset())
            )
            for issue in program.issues
        }

    @staticmethod
    def _of_derived(item: Derived, through: Any, seen: frozenset[str]) -> Iterator[str]:
        refs = [*_expr_refs(item.expr), *_expr_refs(item.of)]
        refs += _atom_refs(a for alt in item.where for a in alt)
        for ref in refs:
            yield from through(ref, seen)


class Responsibility:
    """What changed from ``old`` to ``new``, to name the changes behind each flip."""

    def __init__(self, old: Program, new: Program) -> None:
        before = {rule.id: _definition(rule) for rule in old.rules}
        after = {rule.id: _definition(rule) for rule in new.rules}
        self.changed_rules = frozenset(
            rid for rid in before.keys() | after.keys() if before.get(rid) != after.get(rid)
        )
        old_issues = {
            i.name: (i.standard.text, i.lower_bound.text, i.margin.text) for i in old.issues
        }
        self.changed_issues = frozenset(
            i.name
            for i in new.issues
            if old_issues.get(i.name) != (i.standard.text, i.lower_bound.text, i.margin.text)
        )
        self.reads = (_Reads(old), _Reads(new))
        before_fields, after_fields = old.declared_fields(), new.declared_fields()
        self.changed_fields = frozenset(
            (owner, name)
            for owner in before_fields.keys() | after_fields.keys()
            for name in {**before_fields.get(owner, {}), **after_fields.get(owner, {})}
            if before_fields.get(owner, {}).get(name) != after_fields.get(owner, {}).get(name)
        )

    def explain(
        self,
        case: Case,
        old: Ruling | Exception,
        new: Ruling | Exception,
        params: tuple[Resolved | None, Resolved | None],
    ) -> list[str]:
        """The rules (their ids), parameters (``param.NAME``), issue standards (``issue NAME``)
        and declared case fields (``case field order.NAME``) whose change explains a flip."""
        rulings = [r for r in (old, new) if isinstance(r, Ruling)]
        carried = {("order", n) for n, _ in case.order.extra}
        carried |= {("dispute", n) for n, _ in case.dispute.extra}
        fields = [
            f"case field {owner}.{name}" for owner, name in sorted(carried & self.changed_fields)
        ]
        fired = [set(r.fired_rules) if isinstance(r, Ruling) else set() for r in (old, new)]
        out = sorted((fired[0] | fired[1]) & self.changed_rules)
        read: set[str] = set()
        for reads, ids in zip(self.reads, fired, strict=True):
            for rid in ids:
                read |= reads.rules.get(rid, frozenset())
        issues = {i.issue for r in rulings for i in r.issues}
        for reads in self.reads:
            for name in issues:
                read |= reads.issues.get(name, frozenset())
        before, after = params
        if before is not None and after is not None:
            moved = {
                name
                for name in before.values.keys() | after.values.keys()
                if before.values.get(name) != after.values.get(name)
            }
            out += [f"param.{name}" for name in sorted(moved & read)]
        out += [f"issue {name}" for name in sorted(issues & self.changed_issues)]
        if len(rulings) < 2:  # read or scored under one version only: a declared field is why
            out = fields + out
        if out:
            return out
        # nothing the definitions say: the rules whose firing differs, as a last resort
        differ = sorted(fired[0] ^ fired[1])
        if differ:
            return differ
        return [r.decided_by or r.reason_code for r in rulings[-1:]]
