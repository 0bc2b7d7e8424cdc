"""Value expression strings of rules/ -> typed expression trees: deadlines, amounts, weights.

``dispute.refund_requested_at + param.seller_response_time`` is a time;
``clamp(param.late_rate * order.item_amount, param.late_min, param.late_max)`` money.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.cases.attributes import parse_duration
from engine.errors import did_you_mean
from engine.model import Type
from engine.rules.expr import (
    BOOLEAN,
    DURATION,
    INTEGER,
    NUMBER,
    NUMERIC,
    TEXT,
    TIME,
    VALUE_FUNCTIONS,
    ExprError,
    Scope,
    compatible,
    field_ref,
    is_literal,
    is_ref,
    literal,
    offset_of,
    parse_tree,
)
from engine.rules.program import Expr

__all__ = ["parse_value"]


def parse_value(text: Any, scope: Scope) -> Expr:
    """A value expression (a number, a field, arithmetic, functions) -> a typed ``Expr``."""
    if isinstance(text, bool):
        return Expr(op="const", type=BOOLEAN, value=text, text=str(text).lower())
    if isinstance(text, (int, float, Decimal)):
        return Expr(
            op="const",
            type=NUMBER if not isinstance(text, int) else INTEGER,
            value=Decimal(str(text)) if not isinstance(text, int) else text,
            text=str(text),
        )
    if not isinstance(text, str) or not text.strip():
        raise ExprError("expected a value expression")
    expr = _value(parse_tree(text), text, scope)
    return Expr(op=expr.op, type=expr.type, args=expr.args, value=expr.value, text=text.strip())


_ARITH = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}


def _value(node: ast.expr, text: str, scope: Scope) -> Expr:
    offset = offset_of(text, node)
    if is_literal(node):
        value = literal(node, text)
        if isinstance(value, bool):
            return Expr(op="const", type=BOOLEAN, value=value)
        if isinstance(value, int):
            return Expr(op="const", type=INTEGER, value=value)
        if isinstance(value, float):
            try:
                return Expr(op="const", type=NUMBER, value=Decimal(str(value)))
            except InvalidOperation:  # pragma: no cover - str(float) always parses
                raise ExprError("not a number", offset) from None
        seconds = parse_duration(value)
        if seconds is not None:
            return Expr(op="const", type=DURATION, value=timedelta(seconds=seconds))
        return Expr(op="const", type=TEXT, value=value)
    if is_ref(node):
        ref, type_ = field_ref(node, text, scope)
        return Expr(op="ref", type=type_, value=ref)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        op = _ARITH[type(node.op)]
        left, right = _value(node.left, text, scope), _value(node.right, text, scope)
        return Expr(op=op, type=_arith_type(op, left.type, right.type, offset), args=(left, right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _value(node.operand, text, scope)
        if operand.type.name not in NUMERIC:
            raise ExprError(f"cannot negate {operand.type}", offset)
        return Expr(op="neg", type=operand.type, args=(operand,))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _value_call(node, node.func.id, text, scope)
    raise ExprError("expected a value: a field, a number, arithmetic or a function", offset)


def _arith_type(op: str, a: Type, b: Type, offset: int) -> Type:
    names = (a.name, b.name)
    numbers = ("number", "integer")
    if op in ("add", "sub"):
        if names in (("time", "duration"),) or (op == "add" and names == ("duration", "time")):
            return TIME
        if op == "sub" and names == ("time", "time"):
            return DURATION
        if a.name == b.name and a.name in NUMERIC:
            return a
        if a.name in numbers and b.name in numbers:
            return NUMBER
    if op == "mul":
        for x, y in ((a, b), (b, a)):
            if x.name in ("money", "duration") and y.name in numbers:
                return x
        if a.name in numbers and b.name in numbers:
            return NUMBER if "number" in names else INTEGER
    if op == "div":
        if a.name in ("money", "duration") and b.name in numbers:
            return a
        if a.name in numbers and b.name in numbers:
            return NUMBER
        if a.name == b.name and a.name in ("money", "duration"):
            return NUMBER
    symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[op]
    raise ExprError(f"cannot compute {a} {symbol} {b}", offset)


def _value_call(node: ast.Call, name: str, text: str, scope: Scope) -> Expr:
    offset = offset_of(text, node)
    if name not in VALUE_FUNCTIONS:
        raise ExprError(
            f"unknown function '{name}'",
            offset,
            did_you_mean(name, list(VALUE_FUNCTIONS)) or f"known: {', '.join(VALUE_FUNCTIONS)}",
        )
    args = tuple(_value(arg, text, scope) for arg in node.args)
    if name in ("hours", "days"):
        if len(args) != 1 or args[0].type.name not in ("integer", "number"):
            raise ExprError(f"{name}() takes one number", offset)
        return Expr(op="call", type=DURATION, args=args, value=name)
    if name == "round":
        if len(args) != 1 or args[0].type.name not in ("money", "number"):
            raise ExprError("round() takes one amount (rounded half-up to 0.01)", offset)
        return Expr(op="call", type=args[0].type, args=args, value=name)
    if name == "clamp" and len(args) != 3:
        raise ExprError("clamp() takes a value, a minimum and a maximum", offset)
    if not args:
        raise ExprError(f"{name}() needs arguments", offset)
    type_ = args[0].type
    for arg in args[1:]:
        if not compatible(type_, arg.type) and not (
            type_.name in ("money", "number", "integer") and arg.type.name in ("number", "integer")
        ):
            raise ExprError(f"{name}() mixes {type_} and {arg.type}", offset)
    return Expr(op="call", type=type_, args=args, value=name)
