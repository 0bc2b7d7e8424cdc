"""The state shared by the loader's parts while one rules folder is compiled.

``BuilderBase`` holds the declarations read so far and builds the scopes that expressions are
checked against; ``Declarations`` and ``Rulebook`` add the sections on top of it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.errors import did_you_mean
from engine.model import SourceLoc, Type
from engine.rules.conditions import parse_condition
from engine.rules.expr import ExprError, Scope
from engine.rules.program import (
    Alias,
    Atom,
    CaseField,
    DisputeType,
    EvidenceKind,
    Expr,
    Issue,
    Parameter,
    Requirement,
    Text,
)
from engine.rules.quoting import quoted
from engine.rules.reading import (
    Reader,
)
from engine.rules.schema import (
    APPEAL_FIELDS,
    CASE_FIELDS,
    DISPUTE_FIELDS,
    EVIDENCE_FIELDS,
    ISSUE_FIELDS,
    ORDER_FIELDS,
    SINGLETONS,
    TYPES,
)
from engine.rules.valueexprs import parse_value
from engine.rules.yamlsource import LMap


class BuilderBase:
    def __init__(self, ctx: Reader, docs: list[tuple[str, LMap]]) -> None:
        self.ctx = ctx
        self.docs = docs
        self.params: dict[str, Parameter] = {}
        self.derived_types: dict[str, Type] = {}
        self.kinds: dict[str, EvidenceKind] = {}
        self.requirements: dict[str, Requirement] = {}
        self.issues: dict[str, Issue] = {}
        self.dispute_types: dict[str, DisputeType] = {}
        self.predicates: list[Any] = []
        self.failed_derived: set[str] = set()
        self.declared: dict[tuple[str, str], CaseField] = {}  # (owner, name) -> case field

    def written(self, loc: SourceLoc, raw: Any) -> str:
        """A value as it is written at ``loc`` (a scalar, or a flow list ``[a, b]``), without a
        comment; ``str(raw)`` when it spans lines."""
        lines = self.ctx.lines.get(loc.path, [])
        if not (0 < loc.line <= len(lines) and loc.column > 0):
            return str(raw)
        line = lines[loc.line - 1]
        text = line[loc.column - 1 :]
        if text.startswith("["):
            end = text.find("]")
            return text[: end + 1] if end >= 0 else str(raw)
        if "{" in line[: loc.column - 1] or "[" in line[: loc.column - 1]:  # inside a flow
            for stop in ",}]":
                text = text.split(stop, 1)[0]
        text = text.split(" #", 1)[0].strip()
        if not text or text.startswith(("|", ">", "{")):
            return str(raw)
        return text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else text

    def check_quotes(self, text: Text | None, at: SourceLoc) -> None:
        """Every ``{param.NAME}`` a text quotes names a parameter of these rules."""
        if text is None:
            return
        lines = self.ctx.lines.get(at.path, [])
        for name in quoted(text):
            if name in self.params:
                continue
            # the place of the quote itself, on the text's line or the next few
            loc = at
            for number in range(at.line, min(at.line + 4, len(lines) + 1)):
                column = lines[number - 1].find("{param." + name + "}") if number > 0 else -1
                if column >= 0:
                    loc = SourceLoc(path=at.path, line=number, column=column + 1)
                    break
            self.ctx.error(
                loc,
                f"the text quotes '{{param.{name}}}', but there is no parameter '{name}'",
                did_you_mean(name, sorted(self.params))
                or "declare it under parameters:, or quote one that is",
            )

    # ------------------------------------------------------------ scopes

    def scope(self, aliases: dict[str, Alias]) -> Scope:
        fields: dict[str, dict[str, Type]] = {}
        dispute_fields = dict(DISPUTE_FIELDS)
        dispute_fields["type"] = Type("enum", tuple(self.dispute_types) or ("",))
        order_fields = dict(ORDER_FIELDS)
        for (owner, name), declared in self.declared.items():
            (order_fields if owner == "order" else dispute_fields)[name] = declared.type
        base = {
            "order": order_fields,
            "dispute": dispute_fields,
            "appeal": APPEAL_FIELDS,
            "case": {**CASE_FIELDS, **self.derived_types},
            "param": {name: p.type for name, p in self.params.items()},
        }
        all_aliases = {name: Alias(name=name, fact_type=name) for name in SINGLETONS}
        all_aliases.update(aliases)
        for name, alias in all_aliases.items():
            if alias.fact_type in base:
                fields[name] = dict(base[alias.fact_type])
            elif alias.fact_type == "evidence":
                table = dict(EVIDENCE_FIELDS)
                kind = self.kinds.get(alias.kind or "")
                if kind is not None:
                    table.update(dict(kind.attributes))
                fields[name] = table
            elif alias.fact_type == "issue":
                fields[name] = dict(ISSUE_FIELDS)
        return Scope(
            aliases=all_aliases,
            fields=fields,
            predicates=self.predicates,
            failed=frozenset(self.failed_derived),
        )

    def cond(self, text: Any, loc: SourceLoc, scope: Scope) -> list[list[Atom]] | None:
        if not isinstance(text, str):
            self.ctx.error(loc, 'a condition must be text, e.g. "evidence.copy_no == 1"')
            return None
        try:
            return parse_condition(text, scope)
        except ExprError as exc:
            self.ctx.expr_error(loc, text, exc)
            return None

    def value(
        self, text: Any, loc: SourceLoc, scope: Scope, want: tuple[str, ...] = ()
    ) -> Expr | None:
        try:
            expr = parse_value(text, scope)
        except ExprError as exc:
            self.ctx.expr_error(loc, str(text), exc)
            return None
        if (
            want
            and expr.op == "const"
            and expr.type.name in ("integer", "number")
            and (target := next((w for w in want if w in ("money", "number")), None))
        ):  # a plain number written where an amount or a weight is expected: 0, 0.9
            return replace(expr, type=TYPES[target], value=Decimal(str(expr.value)))
        if want and expr.type.name not in want:
            self.ctx.error(loc, f"expected a {' or '.join(want)} here, this is {expr.type}")
            return None
        return expr

    # ------------------------------------------------------------ sections
