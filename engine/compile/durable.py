"""Program -> a durable_rules ruleset definition (rules as data, JSON conditions).

Each alternative of a rule becomes one durable rule ``<id>#<n>`` whose patterns are the rule's
aliases in order; an atom sits in the pattern of the last alias it needs, joined to earlier
aliases by name. Every field an atom reads gets an ``$ex`` test in its own pattern, so that a
missing value makes the comparison false exactly as in the reference evaluator. Every pattern
starts with ``type`` and ``round`` (no pattern made only of absence tests, which loops), no
pattern negation and no regex are emitted (both are wrong in durable_rules 2.0.28).
"""

from __future__ import annotations

from typing import Any

from engine.rules.limits import MAX_PATTERNS
from engine.rules.program import ROUND, TYPE, Atom, Const, FieldRef, Program, Rule
from engine.rules.semantics import MIRRORED

__all__ = ["GUARD", "SINK", "durable_name", "rule_conditions", "to_durable"]

GUARD = "__case_started"  # fires once per case: delete_state is unsafe when nothing fired
SINK = "__sink"  # handles every fact, so none is refused (MessageNotHandledException)
_OPS = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


def durable_name(rule_id: str, alternative: int) -> str:
    return f"{rule_id}#{alternative}"


def _orient(atom: Atom, order: list[str]) -> Atom:
    """Put the atom's later alias on the left, so that it joins to an earlier one."""
    right = atom.right
    if isinstance(right, FieldRef) and order.index(right.alias) > order.index(atom.left.alias):
        return Atom(op=MIRRORED[atom.op], left=right, right=atom.left, text=atom.text)
    return atom


def _test(atom: Atom) -> dict[str, Any]:
    field = atom.left.fact_field
    if atom.op == "present":
        return {"$ex": {field: 1}}
    if atom.op == "missing":
        return {"$nex": {field: 1}}
    if atom.op == "in":
        options = [{field: value} for value in atom.options]
        return options[0] if len(options) == 1 else {"$or": options}
    right = atom.right
    if isinstance(right, Const):
        value: Any = right.value
    elif isinstance(right, FieldRef):
        other = right.fact_field
        value = {"$m": other} if right.alias == atom.left.alias else {right.alias: other}
    else:  # pragma: no cover - the loader never builds such an atom
        raise AssertionError(atom)
    if atom.op == "eq":
        return {field: value}
    return {_OPS[atom.op]: {field: value}}


def rule_conditions(rule: Rule, atoms: tuple[Atom, ...]) -> list[dict[str, Any]]:
    """The ``all`` list of one alternative of ``rule``."""
    order = [alias.name for alias in rule.aliases]
    per_alias: dict[str, list[dict[str, Any]]] = {name: [] for name in order}
    exists: dict[str, set[str]] = {name: set() for name in order}
    for atom in atoms:
        if atom.op != "missing":
            for ref in (atom.left, atom.right):
                if isinstance(ref, FieldRef):
                    exists[ref.alias].add(ref.fact_field)
        oriented = _orient(atom, order)
        per_alias[oriented.left.alias].append(_test(oriented))
    patterns = []
    for alias in rule.aliases:
        tests: list[dict[str, Any]] = [{TYPE: alias.fact_type}, {ROUND: rule.stratum}]
        if alias.kind is not None:
            tests.append({"name" if alias.fact_type == "issue" else "kind": alias.kind})
        tests.extend({"$ex": {field: 1}} for field in sorted(exists[alias.name]))
        tests.extend(per_alias[alias.name])
        patterns.append({alias.name: {"$and": tests}})
    return patterns


def to_durable(program: Program) -> dict[str, dict[str, Any]]:
    """The ruleset definition, without actions (``run`` is added by the runtime)."""
    rules: dict[str, dict[str, Any]] = {}
    for rule in program.rules:
        if len(rule.aliases) > MAX_PATTERNS:
            raise ValueError(f"rule {rule.id} has more than {MAX_PATTERNS} patterns")
        for n, atoms in enumerate(rule.alternatives):
            rules[durable_name(rule.id, n)] = {"all": rule_conditions(rule, atoms)}
    rules[GUARD] = {"all": [{"g": {"$and": [{TYPE: "dispute"}, {ROUND: 0}]}}]}
    rules[SINK] = {"all": [{"n": {TYPE: "__never__"}}, {"a": {"$ex": {TYPE: 1}}}]}
    return rules
