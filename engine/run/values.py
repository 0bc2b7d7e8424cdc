"""Evaluate value expressions (derived values, remedies, weights) over a case's domain values.

A missing operand makes arithmetic missing (None); ``first`` takes the first present value;
``min``/``max`` ignore missing values; ``round`` and money results round half-up to 0.01.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.rules.program import Expr, FieldRef

__all__ = ["CENT", "Compiled", "binary", "call", "compile_value", "round_money"]

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def binary(op: str, a: Any, b: Any) -> Any:
    if op == "add":
        return _num(a) + _num(b) if not _is_time_like(a, b) else a + b
    if op == "sub":
        return _num(a) - _num(b) if not _is_time_like(a, b) else a - b
    if op == "mul":
        if isinstance(a, timedelta):
            return timedelta(seconds=float(Decimal(a.total_seconds()) * _num(b)))
        if isinstance(b, timedelta):
            return timedelta(seconds=float(_num(a) * Decimal(b.total_seconds())))
        return _num(a) * _num(b)
    if op == "div":
        if isinstance(a, timedelta) and isinstance(b, timedelta):
            return Decimal(a.total_seconds()) / Decimal(b.total_seconds())
        if isinstance(a, timedelta):
            return timedelta(seconds=float(Decimal(a.total_seconds()) / _num(b)))
        if _num(b) == 0:
            return None
        return _num(a) / _num(b)
    raise AssertionError(op)


def _is_time_like(a: Any, b: Any) -> bool:
    return isinstance(a, (datetime, timedelta)) or isinstance(b, (datetime, timedelta))


def _num(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def call(name: str, args: list[Any]) -> Any:
    if name == "first":
        return next((a for a in args if a is not None), None)
    if name in ("hours", "days"):
        if args[0] is None:
            return None
        unit = 3600 if name == "hours" else 86400
        return timedelta(seconds=int(_num(args[0]) * unit))
    if name == "round":
        return None if args[0] is None else round_money(_num(args[0]))
    present = [a for a in args if a is not None]
    if name == "min":
        return min(present, key=_key) if present else None
    if name == "max":
        return max(present, key=_key) if present else None
    if name == "clamp":
        value, low, high = args
        if value is None:
            return None
        if low is not None and _key(value) < _key(low):
            value = low
        if high is not None and _key(value) > _key(high):
            value = high
        return value
    raise AssertionError(name)


def _key(value: Any) -> Any:
    return _num(value) if isinstance(value, (int, Decimal)) else value


# ---------------------------------------------------------------- compiled form

Env = Mapping[str, Mapping[str, Any]]
Compiled = Callable[[Env], Any]
_EMPTY: Mapping[str, Any] = {}


def compile_value(expr: Expr) -> Compiled:
    """The expression as a Python closure over a case's domain values (alias -> field ->
    value): the one evaluator of value expressions."""
    op = expr.op
    if op == "const":
        constant = expr.value
        return lambda env: constant
    if op == "ref":
        ref: FieldRef = expr.value
        alias, name = ref.alias, ref.field
        return lambda env: env.get(alias, _EMPTY).get(name)
    args = [compile_value(arg) for arg in expr.args]
    if op == "call":
        function = expr.value
        if function == "first":  # the commonest call: no list, stop at the first value

            def first(env: Env) -> Any:
                for arg in args:
                    value = arg(env)
                    if value is not None:
                        return value
                return None

            return first
        return lambda env: call(function, [arg(env) for arg in args])
    if op == "neg":
        (inner,) = args

        def negate(env: Env) -> Any:
            value = inner(env)
            return None if value is None else -value

        return negate
    left, right = args
    kinds = {arg.type.name for arg in expr.args}
    if op in ("add", "sub") and kinds <= {"time", "duration"}:  # deadlines: plain datetime maths
        plus = op == "add"

        def shift(env: Env) -> Any:
            a, b = left(env), right(env)
            if a is None or b is None:
                return None
            return a + b if plus else a - b

        return shift

    def operation(env: Env) -> Any:
        a, b = left(env), right(env)
        if a is None or b is None:
            return None
        return binary(op, a, b)

    return operation
