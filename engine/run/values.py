"""Evaluate value expressions (derived values, remedies, weights) over a case's domain values.

A missing operand makes arithmetic missing (None); ``first`` takes the first present value;
``min``/``max`` ignore missing values; ``round`` and money results round half-up to 0.01.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.rules.program import Expr, FieldRef

__all__ = [
    "CALLS",
    "CENT",
    "EXACT_SECONDS",
    "OPERATIONS",
    "Compiled",
    "binary",
    "call",
    "compile_value",
    "epoch_seconds",
    "round_money",
]

CENT = Decimal("0.01")
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
# below 2**33 seconds (the year 2242) a float timestamp's spacing is under a microsecond: int()
# of it is then the whole seconds, whatever the microseconds
EXACT_SECONDS = 2**33
_OFFSETS_KEPT = 1024
_offsets: dict[timezone, int] = {}  # a fixed offset in whole seconds -> their number


def epoch_seconds(value: Any) -> int:
    """``int(value.timestamp())``, a time's fact form, from the datetime's own fields when its
    offset is fixed (a ``timezone``: every time read from ISO text) and the result surely the
    same; otherwise by ``timestamp`` itself."""
    if type(value) is datetime:
        zone = value.tzinfo
        if type(zone) is timezone:
            offset = _offset_seconds(zone)
            if offset is not None:
                seconds: int = (
                    (value.toordinal() - _EPOCH_ORDINAL) * 86400
                    + value.hour * 3600 + value.minute * 60 + value.second - offset
                )  # fmt: skip
                if 0 <= seconds < EXACT_SECONDS:
                    return seconds
    return int(value.timestamp())


def _offset_seconds(zone: timezone) -> int | None:
    """The fixed offset in seconds; None when it has a fraction of a second."""
    seconds = _offsets.get(zone)
    if seconds is None:
        offset = zone.utcoffset(None)
        if offset.microseconds:
            return None
        seconds = offset.days * 86400 + offset.seconds
        if len(_offsets) < _OFFSETS_KEPT:
            _offsets[zone] = seconds
    return seconds


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)  # the rounding by position: faster


def binary(op: str, a: Any, b: Any) -> Any:
    if op == "add":
        return add(a, b)
    if op == "sub":
        return subtract(a, b)
    if op == "mul":
        return multiply(a, b)
    if op == "div":
        return divide(a, b)
    raise AssertionError(op)


def add(a: Any, b: Any) -> Any:
    return _num(a) + _num(b) if not _is_time_like(a, b) else a + b


def subtract(a: Any, b: Any) -> Any:
    return _num(a) - _num(b) if not _is_time_like(a, b) else a - b


def multiply(a: Any, b: Any) -> Any:
    if isinstance(a, timedelta):
        return timedelta(seconds=float(Decimal(a.total_seconds()) * _num(b)))
    if isinstance(b, timedelta):
        return timedelta(seconds=float(_num(a) * Decimal(b.total_seconds())))
    return _num(a) * _num(b)


def divide(a: Any, b: Any) -> Any:
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return Decimal(a.total_seconds()) / Decimal(b.total_seconds())
    if isinstance(a, timedelta):
        return timedelta(seconds=float(Decimal(a.total_seconds()) / _num(b)))
    if _num(b) == 0:
        return None
    return _num(a) / _num(b)


def _is_time_like(a: Any, b: Any) -> bool:
    return isinstance(a, (datetime, timedelta)) or isinstance(b, (datetime, timedelta))


def _num(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def call(name: str, args: list[Any]) -> Any:
    if name == "first":
        return next((a for a in args if a is not None), None)
    if name == "hours":
        return hours(args[0])
    if name == "days":
        return days(args[0])
    if name == "round":
        return round_value(args[0])
    if name == "min":
        return least(args)
    if name == "max":
        return greatest(args)
    if name == "clamp":
        value, low, high = args
        return clamp(value, low, high)
    raise AssertionError(name)


def hours(value: Any) -> Any:
    return None if value is None else timedelta(seconds=int(_num(value) * 3600))


def days(value: Any) -> Any:
    return None if value is None else timedelta(seconds=int(_num(value) * 86400))


def round_value(value: Any) -> Any:
    return None if value is None else round_money(_num(value))


def least(args: list[Any]) -> Any:
    present = [a for a in args if a is not None]
    return min(present, key=_key) if present else None


def greatest(args: list[Any]) -> Any:
    present = [a for a in args if a is not None]
    return max(present, key=_key) if present else None


def clamp(value: Any, low: Any, high: Any) -> Any:
    if value is None:
        return None
    key = _key(value)
    if low is not None and key < _key(low):
        value, key = low, _key(low)
    if high is not None and key > _key(high):
        value = high
    return value


# the implementations generated code calls directly: name -> (function, its number of
# arguments, None for one list of any length)
OPERATIONS: dict[str, tuple[Callable[..., Any], int | None]] = {
    "add": (add, 2), "sub": (subtract, 2), "mul": (multiply, 2), "div": (divide, 2),
}  # fmt: skip
CALLS: dict[str, tuple[Callable[..., Any], int | None]] = {
    "hours": (hours, 1), "days": (days, 1), "round": (round_value, 1), "clamp": (clamp, 3),
    "min": (least, None), "max": (greatest, None),
}  # fmt: skip


def _key(value: Any) -> Any:
    return _num(value) if isinstance(value, (int, Decimal)) else value


# ---------------------------------------------------------------- compiled form

Env = Mapping[str, Mapping[str, Any]]
Compiled = Callable[[Env], Any]
_EMPTY: Mapping[str, Any] = {}


def _compiled_call(function: str, args: list[Compiled]) -> Compiled:
    """A call of the function's implementation itself when the arguments fit it."""
    found = CALLS.get(function)
    if found is not None and found[1] is None:
        many = found[0]
        return lambda env: many([arg(env) for arg in args])
    if found is not None and found[1] == len(args):
        fixed = found[0]
        return lambda env: fixed(*[arg(env) for arg in args])
    return lambda env: call(function, [arg(env) for arg in args])


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
        return _compiled_call(function, args)
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
