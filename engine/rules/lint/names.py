"""L012: a condition comparing an evidence kind or an issue name with a text that is no kind or
issue of these rules (a typing mistake the loader cannot refuse: a case may carry kinds the rules
do not know)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from engine.errors import did_you_mean, source_lines
from engine.model import SourceLoc
from engine.rules.lint.findings import Finding
from engine.rules.program import Alias, Atom, Const, Program
from engine.rules.semantics import atom_text

__all__ = ["unknown_names"]


def _constants(atom: Atom) -> tuple[str, ...]:
    if atom.op == "in":
        return tuple(v for v in atom.options if isinstance(v, str))
    if (
        atom.op in ("eq", "ne")
        and isinstance(atom.right, Const)
        and isinstance(atom.right.value, str)
    ):
        return (atom.right.value,)
    return ()


def _where(loc: SourceLoc, text: str) -> SourceLoc:
    """The place of ``text`` in the file from ``loc`` on (the rule's condition), else ``loc``."""
    lines = source_lines(loc.path)
    for number in range(max(loc.line, 1), len(lines) + 1):
        column = lines[number - 1].find(text)
        if column >= 0:
            return SourceLoc(path=loc.path, line=number, column=column + 1)
    return loc


def _check(
    atoms: Iterable[Atom], aliases: dict[str, Alias], loc: SourceLoc, program: Program
) -> Iterator[Finding]:
    kinds = [k.name for k in program.evidence_kinds]
    issues = [i.name for i in program.issues]
    for atom in atoms:
        alias = aliases.get(atom.left.alias)
        fact_type = alias.fact_type if alias is not None else atom.left.alias
        if fact_type == "evidence" and atom.left.field == "kind":
            known, what = kinds, "evidence kind"
        elif fact_type == "issue" and atom.left.field == "name":
            known, what = issues, "issue"
        else:
            continue
        for value in _constants(atom):
            if value in known:
                continue
            yield Finding(
                code="L012",
                message=f"'{value}' is no {what} of these rules (in {atom_text(atom)}): "
                f"no {'item' if what == 'evidence kind' else 'issue'} is ever of it",
                loc=_where(loc, f'"{value}"') if loc.line else loc,
                hint=did_you_mean(value, known) or f"{what}s: {', '.join(known)}",
            )


def unknown_names(program: Program) -> Iterator[Finding]:
    evidence = {"evidence": Alias(name="evidence", fact_type="evidence")}
    for rule in program.rules:
        aliases = {a.name: a for a in rule.aliases}
        for atoms in rule.alternatives:
            yield from _check(atoms, aliases, rule.loc, program)
    for item in program.derived:
        for atoms in item.where:
            yield from _check(atoms, evidence, item.loc, program)
    for dtype in program.dispute_types:
        for _, condition in dtype.skips:
            for atoms in condition:
                yield from _check(atoms, {}, dtype.loc, program)
