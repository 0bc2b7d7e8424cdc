"""The reference evaluator: the compiled rules as plain Python, generated from the Program.

It matches exactly what the durable_rules ruleset matches (tests demand identical firings on
every case): a rule fires once per distinct binding of its aliases to facts of the round, with no
fact bound twice, when one of its alternatives holds; a comparison with a missing value is false.
Each round's rules become one generated Python function of nested loops, readable with
``adjudicate rules compile --dump --python``; constants enter it only through ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.model import Firing
from engine.rules.program import KEY, TYPE, Atom, Const, FieldRef, Program, Rule
from engine.rules.semantics import SYMBOLS

__all__ = ["ReferenceEvaluator", "atom_source", "condition_source", "python_source"]

Fact = Mapping[str, Any]
Groups = Mapping[tuple[str, str | None], list[Fact]]
# ---------------------------------------------------------------- code generation


def atom_source(atom: Atom, var: Mapping[str, str]) -> str:
    """The atom as a Python expression over the variables bound to its aliases."""
    left = f"{var[atom.left.alias]}.get({atom.left.fact_field!r})"
    if atom.op == "present":
        return f"{left} is not None"
    if atom.op == "missing":
        return f"{left} is None"
    if atom.op == "in":
        return f"{left} in {tuple(atom.options)!r}"
    symbol = SYMBOLS[atom.op]
    right = atom.right
    if isinstance(right, Const):
        return f"((_v := {left}) is not None and _v {symbol} {right.value!r})"
    assert isinstance(right, FieldRef)
    other = f"{var[right.alias]}.get({right.fact_field!r})"
    return f"((_v := {left}) is not None and (_w := {other}) is not None and _v {symbol} _w)"


def condition_source(condition: tuple[tuple[Atom, ...], ...], var: Mapping[str, str]) -> str:
    """A condition (alternatives of atoms) as one Python expression over fact variables."""
    alternatives = [
        "(" + " and ".join(atom_source(atom, var) for atom in atoms) + ")" if atoms else "True"
        for atoms in condition
    ]
    return " or ".join(alternatives) or "False"


def _rule_source(
    rule: Rule, atoms: tuple[Atom, ...], n: int, group: dict[tuple[str, str | None], str]
) -> list[str]:
    names = [alias.name for alias in rule.aliases]
    var = {name: f"x{i}" for i, name in enumerate(names)}
    per_step: list[list[Atom]] = [[] for _ in names]
    for atom in atoms:
        per_step[max(names.index(a) for a in atom.aliases())].append(atom)
    lines = [f"    # {rule.id} #{n}  ({str(rule.loc)!r})"]
    indent = "    "
    for i, alias in enumerate(rule.aliases):
        key = (alias.fact_type, alias.kind)
        name = group.setdefault(key, f"g{len(group)}")
        lines.append(f"{indent}for x{i} in {name}:")
        indent += "    "
        # durable_rules never binds one fact twice in a match; facts of two different types
        # are two different dicts, so only aliases of the same type need the test
        earlier = [
            f"x{i} is x{j}"
            for j in range(i)
            if rule.aliases[j].fact_type == alias.fact_type
        ]
        if earlier:
            lines.append(f"{indent}if {' or '.join(earlier)}:")
            lines.append(f"{indent}    continue")
        for atom in per_step[i]:
            lines.append(f"{indent}if not {atom_source(atom, var)}:")
            lines.append(f"{indent}    continue")
    bindings = ", ".join(f"({name!r}, {var[name]}[KEY])" for name in names)
    lines.append(f"{indent}fired.add(Firing({rule.id!r}, ({bindings},)))")
    return lines


def python_source(program: Program, stratum: int) -> str:
    """The generated Python of one round: a function ``run(groups, fired)``."""
    group: dict[tuple[str, str | None], str] = {}  # (fact type, kind) -> its facts, looked up once
    body: list[str] = []
    for rule in program.rules:
        if rule.stratum != stratum:
            continue
        for n, atoms in enumerate(rule.alternatives):
            body.extend(_rule_source(rule, atoms, n, group))
    lines = [f"def round_{stratum}(groups, fired):"]
    lines += [f"    {name} = groups.get({key!r}, ())" for key, name in group.items()]
    lines += [*body, "    return fired"]
    return "\n".join(lines) + "\n"


def _compile(program: Program, stratum: int) -> Callable[[Groups, set[Firing]], set[Firing]]:
    source = python_source(program, stratum)
    namespace: dict[str, Any] = {"Firing": Firing, "KEY": KEY, "__builtins__": {}}
    code = compile(source, f"<rules {program.name} round {stratum}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source; constants only via repr
    function: Callable[[Groups, set[Firing]], set[Firing]] = namespace[f"round_{stratum}"]
    return function


class ReferenceEvaluator:
    """Evaluates one round of a case's facts; stateless, so one instance serves every case."""

    name = "reference"

    def __init__(self, program: Program) -> None:
        self.program = program
        self._rounds = {stratum: _compile(program, stratum) for stratum in range(program.strata)}

    def run(self, stratum: int, facts: Iterable[Fact]) -> set[Firing]:
        groups: dict[tuple[str, str | None], list[Fact]] = {}
        for fact in facts:
            fact_type = fact[TYPE]
            groups.setdefault((fact_type, None), []).append(fact)
            sub = fact.get("name") if fact_type == "issue" else fact.get("kind")
            if sub is not None:
                groups.setdefault((fact_type, sub), []).append(fact)
        return self._rounds[stratum](groups, set())
