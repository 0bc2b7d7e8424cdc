"""Expression strings of rules/: what conditions (engine.rules.conditions) and value
expressions (engine.rules.valueexprs) share: the scope of names, parsing, constants, references.

The syntax is a small, safe subset of Python expressions, parsed with ``ast`` and never
evaluated by Python: ``evidence.issuer == order.courier``, ``evidence.copy_no == 1 or
evidence.red_stamp``, ``same_name(evidence.signer_name, order.recipient_name)``,
``dispute.refund_requested_at + param.seller_response_time``,
``clamp(param.late_rate * order.item_amount, param.late_min, param.late_max)``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.cases.attributes import parse_duration
from engine.errors import did_you_mean
from engine.model import Type
from engine.rules.program import (
    Alias,
    FieldRef,
    Predicate,
)
from engine.rules.schema import TYPES
from engine.rules.semantics import to_fact_value

__all__ = [
    "BOOLEAN",
    "DURATION",
    "INTEGER",
    "LIST",
    "MONEY",
    "NUMBER",
    "NUMERIC",
    "TEXT",
    "TIME",
    "TRANSFORMS",
    "VALUE_FUNCTIONS",
    "ExprError",
    "Scope",
    "compatible",
    "const_for",
    "field_ref",
    "is_literal",
    "is_ref",
    "literal",
    "offset_of",
    "one_line",
    "parse_tree",
]

BOOLEAN = TYPES["boolean"]
TIME = TYPES["time"]
DURATION = TYPES["duration"]
MONEY = TYPES["money"]
NUMBER = TYPES["number"]
INTEGER = TYPES["integer"]
TEXT = TYPES["text"]
LIST = TYPES["list"]

# transforms usable on both sides of a comparison: materialised as fields of the fact
TRANSFORMS = {"same_name": "name"}
VALUE_FUNCTIONS = ("first", "min", "max", "clamp", "round", "hours", "days")
NUMERIC = ("money", "number", "integer", "duration")


class ExprError(Exception):
    """A problem at ``offset`` (characters into the expression text).

    ``silent`` errors follow from a problem already reported elsewhere (a derived value that
    failed to compile): they stop the expression but are not reported again.
    """

    def __init__(
        self, message: str, offset: int = 0, hint: str = "", *, silent: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint
        self.silent = silent


@dataclass
class Scope:
    """What an expression may refer to: aliases and the typed fields of each."""

    aliases: dict[str, Alias]
    fields: dict[str, dict[str, Type]]  # alias -> field -> type
    predicates: list[Predicate] = field(default_factory=list)
    failed: frozenset[str] = frozenset()  # derived values that did not compile

    def field_type(self, alias: str, name: str, offset: int) -> Type:
        if alias == "case" and name in self.failed:
            raise ExprError(f"case.{name} did not compile", offset, silent=True)
        if alias not in self.fields:
            known = sorted(self.fields)
            raise ExprError(
                f"unknown name '{alias}'",
                offset,
                did_you_mean(alias, known) or f"known here: {', '.join(known)}",
            )
        table = self.fields[alias]
        if name not in table:
            owner = self.aliases[alias]
            what = f"evidence kind '{owner.kind}'" if owner.kind else f"'{alias}'"
            if owner.fact_type == "param":
                message = f"unknown parameter '{name}'"
            elif owner.fact_type == "case":
                message = f"unknown case value '{name}' (not a derived value or a case field)"
            else:
                message = f"unknown attribute '{name}' of {what}"
            raise ExprError(message, offset, did_you_mean(name, sorted(table)))
        return table[name]


def parse_tree(text: str) -> ast.expr:
    try:
        tree = ast.parse(one_line(text), mode="eval")
    except SyntaxError as exc:
        offset = max((exc.offset or 1) - 1, 0)
        raise ExprError(f"cannot read the expression: {exc.msg}", offset) from None
    return tree.body


def one_line(text: str) -> str:
    """Expressions are one logical line: YAML block scalars may have kept line breaks."""
    return " ".join(text.strip().splitlines())


def offset_of(text: str, node: ast.AST) -> int:
    col = getattr(node, "col_offset", 0)
    stripped = one_line(text)
    lead = len(text) - len(text.lstrip())
    return lead + len(stripped.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


# ---------------------------------------------------------------- constants


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def const_for(value: Any, type_: Type, text: str, offset: int) -> Any:
    """Check a constant against the type it is compared with; return its fact form."""
    name = type_.name
    if name == "time":
        parsed = _parse_time(value) if isinstance(value, str) else None
        if parsed is None:
            raise ExprError(
                f"{value!r} is not a time with a UTC offset",
                offset,
                "e.g. '2024-03-01T10:00:00+08:00'",
            )
        return to_fact_value(parsed, type_)
    if name == "duration":
        seconds = parse_duration(value) if isinstance(value, str) else None
        if seconds is None:
            raise ExprError(f"{value!r} is not a duration", offset, "write e.g. '72h' or '3d'")
        return seconds
    if name in ("money", "number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ExprError(f"{value!r} is not a number, but {type_} is compared with it", offset)
        if name == "integer":
            if not isinstance(value, int):
                raise ExprError(f"{value!r} is not a whole number", offset)
            return value
        return to_fact_value(Decimal(str(value)), type_)
    if name == "boolean":
        if not isinstance(value, bool):
            raise ExprError(f"{value!r} is not true or false", offset, "write true or false")
        return value
    if name in ("text", "name", "enum"):
        if not isinstance(value, str):
            raise ExprError(
                f"{value!r} is not text, but {type_} is compared with it",
                offset,
                f'write it in quotes: "{value}"',
            )
        if name == "enum" and value not in type_.values:
            hint = did_you_mean(value, list(type_.values)) or f"one of: {', '.join(type_.values)}"
            raise ExprError(f"'{value}' is not one of the values of {type_}", offset, hint)
        return value
    raise ExprError(f"a {type_} cannot be compared with a constant", offset)


def literal(node: ast.expr, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    if isinstance(node, ast.Name) and node.id in ("true", "false"):
        return node.id == "true"
    raise ExprError("expected a constant", offset_of(text, node))


def is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return True
    if isinstance(node, ast.Name) and node.id in ("true", "false"):
        return True
    return (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and is_literal(node.operand)
    )


# ---------------------------------------------------------------- references


def field_ref(node: ast.expr, text: str, scope: Scope) -> tuple[FieldRef, Type]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        alias, name = node.value.id, node.attr
        type_ = scope.field_type(alias, name, offset_of(text, node))
        return FieldRef(alias, name), type_
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        raise ExprError(
            "too many dots: write alias.field (e.g. appeal.filed_at, not dispute.appeal.filed_at)",
            offset_of(text, node),
        )
    if isinstance(node, ast.Name):
        raise ExprError(
            f"'{node.id}' alone is not a value: write alias.field, e.g. order.courier",
            offset_of(text, node),
        )
    raise ExprError("expected a field such as order.courier", offset_of(text, node))


def is_ref(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute)


def compatible(a: Type, b: Type) -> bool:
    """Whether values of the two types can be compared or combined."""
    if a.is_textual and b.is_textual:
        return True
    return a.name == b.name
