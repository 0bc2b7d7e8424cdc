"""Expression strings of rules/ -> typed conditions (DNF of atoms) and value expressions.

The syntax is a small, safe subset of Python expressions, parsed with ``ast`` and never
evaluated by Python: ``evidence.issuer == order.courier``, ``evidence.copy_no == 1 or
evidence.red_stamp``, ``same_name(evidence.signer_name, order.recipient_name)``,
``dispute.refund_requested_at + param.seller_response_time``,
``clamp(param.late_rate * order.item_amount, param.late_min, param.late_max)``.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.cases.attributes import parse_duration
from engine.errors import did_you_mean
from engine.model import Type
from engine.rules.limits import MAX_ALTERNATIVES
from engine.rules.predicates import PREDICATES
from engine.rules.program import (
    Alias,
    Atom,
    Const,
    Expr,
    FieldRef,
    Predicate,
)
from engine.rules.schema import TYPES
from engine.rules.semantics import MIRRORED, to_fact_value

__all__ = [
    "ExprError",
    "Scope",
    "parse_condition",
    "parse_value",
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


def _parse(text: str) -> ast.expr:
    try:
        tree = ast.parse(_one_line(text), mode="eval")
    except SyntaxError as exc:
        offset = max((exc.offset or 1) - 1, 0)
        raise ExprError(f"cannot read the expression: {exc.msg}", offset) from None
    return tree.body


def _one_line(text: str) -> str:
    """Expressions are one logical line: YAML block scalars may have kept line breaks."""
    return " ".join(text.strip().splitlines())


def _offset(text: str, node: ast.AST) -> int:
    col = getattr(node, "col_offset", 0)
    stripped = _one_line(text)
    lead = len(text) - len(text.lstrip())
    return lead + len(stripped.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


# ---------------------------------------------------------------- constants


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _const_for(value: Any, type_: Type, text: str, offset: int) -> Any:
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


def _literal(node: ast.expr, text: str) -> Any:
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
    raise ExprError("expected a constant", _offset(text, node))


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return True
    if isinstance(node, ast.Name) and node.id in ("true", "false"):
        return True
    return (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and _is_literal(node.operand)
    )


# ---------------------------------------------------------------- references


def _ref(node: ast.expr, text: str, scope: Scope) -> tuple[FieldRef, Type]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        alias, name = node.value.id, node.attr
        type_ = scope.field_type(alias, name, _offset(text, node))
        return FieldRef(alias, name), type_
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        raise ExprError(
            "too many dots: write alias.field (e.g. appeal.filed_at, not dispute.appeal.filed_at)",
            _offset(text, node),
        )
    if isinstance(node, ast.Name):
        raise ExprError(
            f"'{node.id}' alone is not a value: write alias.field, e.g. order.courier",
            _offset(text, node),
        )
    raise ExprError("expected a field such as order.courier", _offset(text, node))


def _is_ref(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute)


# ---------------------------------------------------------------- conditions

DNF = list[list[Atom]]
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}


def parse_condition(text: str, scope: Scope) -> DNF:
    """A condition string -> alternatives of atoms (an empty list of atoms always holds)."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("a condition must be a non-empty text")
    dnf = _cond(_parse(text), text, scope)
    if len(dnf) > MAX_ALTERNATIVES:
        raise ExprError(
            f"this condition expands to {len(dnf)} alternatives (at most {MAX_ALTERNATIVES})",
            0,
            "split the rule into several rules",
        )
    return dnf


def _cond(node: ast.expr, text: str, scope: Scope) -> DNF:
    if isinstance(node, ast.BoolOp):
        parts = [_cond(value, text, scope) for value in node.values]
        if isinstance(node.op, ast.Or):
            return [alt for part in parts for alt in part]
        product: DNF = [[]]
        for part in parts:
            product = [a + b for a, b in itertools.product(product, part)]
            if len(product) > MAX_ALTERNATIVES:
                raise ExprError("too many alternatives", _offset(text, node))
        return product
    if isinstance(node, ast.Compare):
        atoms: list[Atom] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            atoms.extend(_compare(left, op, right, text, scope, node))
            left = right
        return [atoms]
    if isinstance(node, ast.Call):
        return [_call_atoms(node, text, scope, negate=False)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        operand = node.operand
        if isinstance(operand, ast.Call):
            return [_call_atoms(operand, text, scope, negate=True)]
        if _is_ref(operand):
            ref, type_ = _ref(operand, text, scope)
            _expect_bool(type_, text, operand)
            return [[Atom(op="eq", left=ref, right=Const(False), text=_src(text, node))]]
        raise ExprError(
            "'not' may only stand before a true/false field or a function such as present()",
            _offset(text, node),
            "write the opposite comparison instead, e.g. a != b",
        )
    if _is_ref(node):
        ref, type_ = _ref(node, text, scope)
        _expect_bool(type_, text, node)
        return [[Atom(op="eq", left=ref, right=Const(True), text=_src(text, node))]]
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return [[]] if node.value else []
    if isinstance(node, ast.Name) and node.id in ("true", "false"):
        return [[]] if node.id == "true" else []
    if isinstance(node, ast.BinOp):
        raise ExprError(
            "arithmetic is not allowed in a condition",
            _offset(text, node),
            "define the value under derived: and compare with case.<name>",
        )
    raise ExprError("expected a comparison, e.g. evidence.copy_no == 1", _offset(text, node))


def _src(text: str, node: ast.expr) -> str:
    segment = ast.get_source_segment(_one_line(text), node)
    return segment or _one_line(text)


def _expect_bool(type_: Type, text: str, node: ast.expr) -> None:
    if type_.name != "boolean":
        raise ExprError(
            f"this field is {type_}, not true/false",
            _offset(text, node),
            'compare it with something, e.g. == "value"',
        )


def _compatible(a: Type, b: Type) -> bool:
    if a.is_textual and b.is_textual:
        return True
    return a.name == b.name


def _compare(
    left: ast.expr, op: ast.cmpop, right: ast.expr, text: str, scope: Scope, whole: ast.expr
) -> list[Atom]:
    src = _src(text, whole)
    if isinstance(op, (ast.In, ast.NotIn)):
        return _membership(left, right, text, scope, src, negate=isinstance(op, ast.NotIn))
    if type(op) not in _CMP:
        raise ExprError("unsupported comparison", _offset(text, whole), "use == != < <= > >= in")
    cmp = _CMP[type(op)]
    if _is_literal(left) and _is_literal(right):
        raise ExprError("a comparison needs at least one field", _offset(text, whole))
    if _is_literal(left):
        left, right, cmp = right, left, MIRRORED[cmp]
    lref, ltype = _operand(left, text, scope)
    if _is_literal(right):
        value = _const_for(_literal(right, text), ltype, text, _offset(text, right))
        if lref.transform:
            value = _transform_const(lref.transform, value)
        _check_order(cmp, ltype, text, whole)
        return [Atom(op=cmp, left=lref, right=Const(value), text=src)]
    rref, rtype = _operand(right, text, scope)
    if not _compatible(ltype, rtype):
        raise ExprError(f"cannot compare {ltype} with {rtype}", _offset(text, whole))
    _check_order(cmp, ltype, text, whole)
    return [Atom(op=cmp, left=lref, right=rref, text=src)]


def _check_order(cmp: str, type_: Type, text: str, node: ast.expr) -> None:
    if cmp in ("lt", "le", "gt", "ge") and type_.name in ("boolean", "list"):
        raise ExprError(f"{type_} values have no order", _offset(text, node))


def _operand(node: ast.expr, text: str, scope: Scope) -> tuple[FieldRef, Type]:
    if isinstance(node, (ast.BinOp, ast.UnaryOp)) or (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in VALUE_FUNCTIONS
    ):
        raise ExprError(
            "arithmetic is not allowed in a condition",
            _offset(text, node),
            "define the value under derived: and compare with case.<name>",
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "name":
        if len(node.args) != 1:
            raise ExprError("name() takes one field", _offset(text, node))
        ref, type_ = _ref(node.args[0], text, scope)
        if not type_.is_textual:
            raise ExprError(f"name() needs text, this is {type_}", _offset(text, node))
        return FieldRef(ref.alias, ref.field, "name"), type_
    if _is_ref(node):
        ref, type_ = _ref(node, text, scope)
        if type_.name == "list":
            raise ExprError(
                "a list cannot be compared directly",
                _offset(text, node),
                "use contains(), all_in() or any_in()",
            )
        return ref, type_
    raise ExprError("expected a field or a constant", _offset(text, node))


def _transform_const(transform: str, value: Any) -> Any:
    from engine.cases.names import normalise_name

    if transform == "name":
        return normalise_name(value)
    raise AssertionError(transform)


def _membership(
    left: ast.expr, right: ast.expr, text: str, scope: Scope, src: str, *, negate: bool
) -> list[Atom]:
    if isinstance(right, (ast.List, ast.Tuple)):
        ref, type_ = _operand(left, text, scope)
        values = tuple(
            _const_for(_literal(item, text), type_, text, _offset(text, item))
            for item in right.elts
        )
        if not values:
            raise ExprError("an empty list", _offset(text, right))
        if negate:
            return [Atom(op="ne", left=ref, right=Const(v), text=src) for v in values]
        return [Atom(op="in", left=ref, options=values, text=src)]
    # "value" in evidence.list_attribute -> a predicate computed on the fact
    if _is_literal(left) and _is_ref(right):
        call = ast.Call(func=ast.Name(id="contains"), args=[right, left], keywords=[])
        ast.copy_location(call, right)
        ast.copy_location(call.func, right)
        return _call_atoms(call, text, scope, negate=negate)
    raise ExprError(
        'write \'field in ["a", "b"]\' or \'"value" in evidence.list_field\'',
        _offset(text, left),
    )


def _call_atoms(node: ast.Call, text: str, scope: Scope, *, negate: bool) -> list[Atom]:
    if not isinstance(node.func, ast.Name):
        raise ExprError("unknown function", _offset(text, node))
    name = node.func.id
    src = _src(text, node)
    if node.keywords:
        raise ExprError("functions take no named arguments", _offset(text, node))
    if name in ("present", "missing"):
        if len(node.args) != 1:
            raise ExprError(f"{name}() takes one field", _offset(text, node))
        ref, _ = _ref(node.args[0], text, scope)
        op = "present" if (name == "present") != negate else "missing"
        return [Atom(op=op, left=ref, text=src)]
    if name in TRANSFORMS:
        if negate:
            raise ExprError(
                f"'not {name}(...)' is not allowed",
                _offset(text, node),
                "a missing name would make it true: compare with != instead",
            )
        if len(node.args) != 2:
            raise ExprError(f"{name}() takes two fields or a field and a text", _offset(text, node))
        transform = TRANSFORMS[name]
        a, b = node.args
        if _is_literal(a):
            a, b = b, a
        lref, ltype = _ref(a, text, scope)
        if not ltype.is_textual:
            raise ExprError(f"{name}() compares text, this is {ltype}", _offset(text, a))
        lref = FieldRef(lref.alias, lref.field, transform)
        if _is_literal(b):
            value = _literal(b, text)
            if not isinstance(value, str):
                raise ExprError(f"{name}() compares text", _offset(text, b))
            return [
                Atom(op="eq", left=lref, right=Const(_transform_const(transform, value)), text=src)
            ]
        rref, rtype = _ref(b, text, scope)
        if not rtype.is_textual:
            raise ExprError(f"{name}() compares text, this is {rtype}", _offset(text, b))
        return [
            Atom(op="eq", left=lref, right=FieldRef(rref.alias, rref.field, transform), text=src)
        ]
    if name in PREDICATES:
        return [_predicate_atom(node, name, text, scope, src, negate)]
    known = sorted(["present", "missing", *TRANSFORMS, *PREDICATES])
    raise ExprError(
        f"unknown function '{name}' in a condition",
        _offset(text, node),
        did_you_mean(name, known) or f"known: {', '.join(known)}",
    )


def _predicate_atom(
    node: ast.Call, name: str, text: str, scope: Scope, src: str, negate: bool
) -> Atom:
    function = PREDICATES[name]
    expected = (function.subject, function.argument)
    if len(node.args) != len(expected):
        raise ExprError(f"{name}() takes {len(expected)} arguments", _offset(text, node))
    subject, type_ = _ref(node.args[0], text, scope)
    if type_.name != expected[0].name and not (expected[0].is_textual and type_.is_textual):
        raise ExprError(
            f"{name}() needs a {expected[0]} first, this is {type_}", _offset(text, node.args[0])
        )
    alias = scope.aliases[subject.alias]
    args = [Expr(op="ref", type=type_, value=FieldRef(subject.alias, subject.field))]
    for arg in node.args[1:]:
        if isinstance(arg, (ast.List, ast.Tuple)):
            items = tuple(_literal(item, text) for item in arg.elts)
            args.append(Expr(op="const", type=LIST, value=items))
        elif _is_literal(arg):
            args.append(Expr(op="const", type=TEXT, value=_literal(arg, text)))
        else:
            ref, rtype = _ref(arg, text, scope)
            if scope.aliases[ref.alias].fact_type != "param":
                raise ExprError(
                    f"{name}() takes constants or parameters after the field", _offset(text, arg)
                )
            args.append(Expr(op="ref", type=rtype, value=ref))
    # one predicate per distinct call, shared by every rule that writes the same call
    key = (alias.fact_type, name, tuple(_expr_key(a) for a in args))
    for existing in scope.predicates:
        if (
            existing.alias_type,
            existing.function,
            tuple(_expr_key(a) for a in existing.args),
        ) == key:
            pred = existing
            break
    else:
        pred = Predicate(
            field=f"__p{len(scope.predicates)}",
            alias_type=alias.fact_type,
            function=name,
            args=tuple(args),
            text=src,
        )
        scope.predicates.append(pred)
    ref = FieldRef(subject.alias, pred.field)
    return Atom(op="eq", left=ref, right=Const(not negate), text=src)


def _expr_key(expr: Expr) -> Any:
    if isinstance(expr.value, FieldRef):
        return ("ref", expr.value.field)
    return (expr.op, expr.value)


# ---------------------------------------------------------------- value expressions


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
    expr = _value(_parse(text), text, scope)
    return Expr(op=expr.op, type=expr.type, args=expr.args, value=expr.value, text=text.strip())


_ARITH = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}


def _value(node: ast.expr, text: str, scope: Scope) -> Expr:
    offset = _offset(text, node)
    if _is_literal(node):
        value = _literal(node, text)
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
    if _is_ref(node):
        ref, type_ = _ref(node, text, scope)
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
    offset = _offset(text, node)
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
        if not _compatible(type_, arg.type) and not (
            type_.name in ("money", "number", "integer") and arg.type.name in ("number", "integer")
        ):
            raise ExprError(f"{name}() mixes {type_} and {arg.type}", offset)
    return Expr(op="call", type=type_, args=args, value=name)
