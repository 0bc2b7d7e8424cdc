"""Derived values as generated Python: one straight-line function per round of a Program.

What ``engine.run.values`` and ``engine.rules.semantics`` mean, written out once per Program
instead of walked per case: every reference becomes a dictionary look-up in a local variable,
every operation a line, every condition the same Python test the reference evaluator's rounds
use. Operations whose meaning depends on the values' types (``a * b`` of a duration and a
number, say) call the one implementation in ``engine.run.values``; constants enter the source
only by name. Read it with ``python_source``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from engine.compile.reference import condition_source
from engine.rules.program import KEY, TYPE, Atom, Derived, Expr, FieldRef, Program
from engine.rules.schema import SINGLETONS
from engine.rules.semantics import converter
from engine.run.values import CALLS, OPERATIONS, binary, call, epoch_seconds

__all__ = ["DerivedRound", "compile_rounds", "python_source"]

# (env, case fact, singleton facts, evidence facts, evidence domains, statuses) -> None
DerivedRound = Callable[..., None]
_EMPTY: Mapping[str, Any] = {}
# the value operations the source calls by their name: '_mul', '_hours', '_min', ...
_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    f"_{name}": function for name, (function, _) in (*OPERATIONS.items(), *CALLS.items())
}


class _Writer:
    """Source lines, fresh temporaries and the constants the source names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._serial = 0
        # derived values computed earlier in the function, always in its outermost block: the
        # variable holding each (None when missing, as the case's value would be)
        self.known: dict[str, str] = {}
        # (domain variable, field) -> the variable a read of it in the outermost block holds:
        # read there, it is read before everything after it (no domain but the case's changes)
        self.read: dict[tuple[str, str], str] = {}

    def temp(self) -> str:
        self._serial += 1
        return f"_t{self._serial}"

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


def _domain_var(alias: str) -> str:
    return f"d_{alias}"


def _fact_var(alias: str) -> str:
    return f"f_{alias}"


def _expr(w: _Writer, expr: Expr, indent: int, domains: Mapping[str, str]) -> str:
    """Lines computing ``expr`` into a temporary (None when missing); the temporary's name."""
    op = expr.op
    out = w.temp()
    if op == "const":
        w.emit(indent, f"{out} = {w.constant(expr.value)}")
        return out
    if op == "ref":
        ref: FieldRef = expr.value
        if ref.alias == "case" and ref.field in w.known:  # computed above in this function
            return w.known[ref.field]
        read = (domains[ref.alias], ref.field)
        if read in w.read:
            return w.read[read]
        w.emit(indent, f"{out} = {read[0]}.get({ref.field!r})")
        if indent == 1 and ref.alias != "case":
            w.read[read] = out
        return out
    if op == "call" and expr.value == "first":  # lazy: stops at the first present value
        first = _expr(w, expr.args[0], indent, domains)
        w.emit(indent, f"{out} = {first}")
        for arg in expr.args[1:]:
            w.emit(indent, f"if {out} is None:")
            indent += 1
            value = _expr(w, arg, indent, domains)
            w.emit(indent, f"{out} = {value}")
        return out
    args = [_expr(w, arg, indent, domains) for arg in expr.args]
    kinds = {arg.type.name for arg in expr.args}
    if op == "call" and expr.value in ("min", "max") and kinds <= {"time", "duration"}:
        # times compare as they are: min/max of the present values, as those builtins pick
        # (the first present, then each later one strictly less/greater)
        symbol = "<" if expr.value == "min" else ">"
        w.emit(indent, f"{out} = None")
        for value in args:
            w.emit(indent, f"if {value} is not None and ({out} is None or {value} {symbol} {out}):")
            w.emit(indent + 1, f"{out} = {value}")
        return out
    if op == "call":
        w.emit(indent, f"{out} = {_call_source(expr.value, args)}")
        return out
    if op == "neg":
        w.emit(indent, f"{out} = None if {args[0]} is None else -{args[0]}")
        return out
    a, b = args
    missing = f"{a} is None or {b} is None"
    if op in ("add", "sub") and kinds <= {"time", "duration"}:  # deadlines: datetime maths
        sign = "+" if op == "add" else "-"
        w.emit(indent, f"{out} = None if {missing} else {a} {sign} {b}")
    else:
        operation = f"_{op}({a}, {b})" if op in OPERATIONS else f"_binary({op!r}, {a}, {b})"
        w.emit(indent, f"{out} = None if {missing} else {operation}")
    return out


def _call_source(function: str, args: list[str]) -> str:
    """A call of ``function``'s implementation itself when the arguments fit it, otherwise
    through ``call`` (which fails as the rules' evaluator would)."""
    found = CALLS.get(function)
    if found is not None and found[1] is None:
        return f"_{function}([{', '.join(args)}])"
    if found is not None and found[1] == len(args):
        return f"_{function}({', '.join(args)})"
    return f"_call({function!r}, [{', '.join(args)}])"


def _store(w: _Writer, item: Derived, value: str, indent: int, in_fact: bool) -> None:
    w.emit(indent, f"if {value} is not None:")
    w.emit(indent + 1, f"d_case[{item.name!r}] = {value}")
    if in_fact:
        convert = converter(item.type)
        if item.type.name == "time":  # the commonest: inline, as the fact builders do
            shown = f"_epoch({value})"
        else:
            shown = value if convert is None else f"{w.constant(convert)}({value})"
        w.emit(indent + 1, f"f_case[{item.name!r}] = {shown}")


def _aggregate(w: _Writer, item: Derived, domains: dict[str, str], facts: dict[str, str]) -> str:
    out, count, values = w.temp(), w.temp(), w.temp()
    w.emit(1, f"{count} = 0")
    w.emit(1, f"{values} = []")
    guard = _guard(item.where, facts)
    items = (
        "zip(evidence, evidence_env)"
        if guard is None
        else f"(zip(evidence, evidence_env) if {guard} else ())"
    )
    w.emit(1, f"for f_evidence, d_evidence in {items}:")
    if _reads_status(item.where):  # otherwise the item's fact as it is will do
        w.emit(2, "_status = statuses.get(f_evidence[KEY])")
        w.emit(2, "if _status is not None:")
        w.emit(3, "f_evidence = f_evidence.copy()")
        w.emit(3, "f_evidence['admitted'] = _status.admitted")
        w.emit(3, "f_evidence['valid'] = _status.valid")
    w.emit(2, f"if not ({condition_source(item.where, {**facts, 'evidence': 'f_evidence'})}):")
    w.emit(3, "continue")
    w.emit(2, f"{count} += 1")
    if item.of is not None:
        value = _expr(w, item.of, 2, {**domains, "evidence": "d_evidence"})
        w.emit(2, f"if {value} is not None:")
        w.emit(3, f"{values}.append({value})")
    if item.aggregate == "count":
        w.emit(1, f"{out} = {count}")
    else:
        pick = "max" if item.aggregate == "latest" else "min"
        w.emit(1, f"{out} = {pick}({values}) if {values} else None")
    return out


def python_source(
    program: Program, stratum: int, in_fact: frozenset[str]
) -> tuple[str, dict[str, Any]]:
    """The source of round ``stratum``'s derived values, and the constants it names."""
    w = _Writer()
    items = [d for d in program.derived if d.stratum == stratum]
    aliases = sorted(
        {ref.alias for d in items for e in (d.expr, d.of) if e is not None for ref in _refs(e)}
        - {"evidence"}
    )
    domains = {alias: _domain_var(alias) for alias in aliases}
    domains["case"] = "d_case"
    facts = {name: _fact_var(name) for name in SINGLETONS}
    for item in items:
        w.emit(1, f"# {item.name}  ({str(item.loc)!r})")
        conditional = item.expr is None or item.where != ((),)
        if item.expr is None:
            value = _aggregate(w, item, domains, facts)
            _store(w, item, value, 1, item.name in in_fact)
        elif conditional:
            value = w.temp()
            w.emit(1, f"{value} = None")
            w.emit(1, f"if {condition_source(item.where, facts)}:")
            inner = _expr(w, item.expr, 2, domains)
            w.emit(2, f"{value} = {inner}")
            _store(w, item, value, 1, item.name in in_fact)
        else:
            value = _expr(w, item.expr, 1, domains)
            _store(w, item, value, 1, item.name in in_fact)
        w.known[item.name] = value
    w.emit(1, "return None")
    body = "\n".join(w.lines) + "\n"
    head = [
        f"def derived_{stratum}(env, f_case, singletons, evidence, evidence_env, statuses):",
        "    d_case = env['case']",
    ]
    # the other domains and facts the body reads, bound once
    for alias in aliases:
        if alias != "case" and _names(domains[alias], body):
            head.append(f"    {domains[alias]} = env.get({alias!r}, _EMPTY)")
    for name in SINGLETONS:
        if name != "case" and _names(facts[name], body):
            head.append(f"    {facts[name]} = singletons.get({name!r}, _EMPTY)")
    return "\n".join(head) + "\n" + body, w.constants


def _names(variable: str, source: str) -> bool:
    """Whether the generated source names the variable."""
    return re.search(rf"\b{re.escape(variable)}\b", source) is not None


def _guard(where: tuple[tuple[Atom, ...], ...], facts: Mapping[str, str]) -> str | None:
    """A test, of the facts other than the item's alone, that holds when ``where`` may hold
    for some item: of each alternative, the values besides the item's that its atoms need
    present (absent or present, as a test of presence or absence asks); None when some
    alternative needs none of them. Only presence is tested (what cannot fail)."""
    alternatives = []
    for atoms in where:
        needs: list[str] = []
        for atom in atoms:
            for test in _needs(atom, facts):
                if test not in needs:
                    needs.append(test)
        if not needs:
            return None
        alternatives.append("(" + " and ".join(needs) + ")")
    return "(" + " or ".join(alternatives) + ")" if alternatives else None


def _needs(atom: Atom, facts: Mapping[str, str]) -> list[str]:
    """What the atom needs of values besides the evidence item's for it to hold: a value
    present (absent for ``missing``); nothing for ``in``, whose options may hold None."""
    if atom.op == "in":
        return []
    refs = [atom.left] + ([atom.right] if isinstance(atom.right, FieldRef) else [])
    needs = []
    for ref in refs:
        if ref.alias == "evidence":
            continue
        test = "is None" if atom.op == "missing" else "is not None"
        needs.append(f"{facts[ref.alias]}.get({ref.fact_field!r}) {test}")
    return needs


def _reads_status(where: tuple[tuple[Atom, ...], ...]) -> bool:
    """Whether the condition reads an evidence item's status (admitted or valid)."""
    refs = [ref for atoms in where for atom in atoms for ref in (atom.left, atom.right)]
    return any(
        isinstance(ref, FieldRef)
        and ref.alias == "evidence"
        and ref.fact_field in ("admitted", "valid")
        for ref in refs
    )


def _refs(expr: Expr) -> list[FieldRef]:
    if expr.op == "ref":
        return [expr.value]
    return [ref for arg in expr.args for ref in _refs(arg)]


def compile_rounds(program: Program, in_fact: frozenset[str]) -> dict[int, DerivedRound]:
    """For each round with derived values, its generated function."""
    out: dict[int, DerivedRound] = {}
    for stratum in sorted({d.stratum for d in program.derived}):
        source, constants = python_source(program, stratum, in_fact)
        namespace: dict[str, Any] = {
            **constants, **_IMPLEMENTATIONS, "KEY": KEY, "TYPE": TYPE, "_EMPTY": _EMPTY,
            "_binary": binary, "_call": call, "_epoch": epoch_seconds,
            "__builtins__": {"zip": zip, "max": max, "min": min},
        }  # fmt: skip
        code = compile(source, f"<derived values {program.name} round {stratum}>", "exec")
        exec(code, namespace)  # noqa: S102 - our own generated source; constants by name only
        out[stratum] = namespace[f"derived_{stratum}"]
    return out
