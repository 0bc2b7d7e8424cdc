"""Condition strings of rules/ -> disjunctive normal form: alternatives of typed atoms.

``evidence.issuer == order.courier and (evidence.copy_no == 1 or evidence.red_stamp)`` becomes
two alternatives of two atoms each; ``not`` is pushed down to the comparisons (durable_rules
gets negated patterns wrong), and predicates become boolean fields computed with the facts.
"""

from __future__ import annotations

import ast
import itertools
from typing import Any

from engine.errors import did_you_mean
from engine.model import Type
from engine.rules.expr import (
    LIST,
    TEXT,
    TRANSFORMS,
    VALUE_FUNCTIONS,
    ExprError,
    Scope,
    compatible,
    const_for,
    field_ref,
    is_literal,
    is_ref,
    literal,
    offset_of,
    one_line,
    parse_tree,
)
from engine.rules.limits import MAX_ALTERNATIVES
from engine.rules.predicates import PREDICATES
from engine.rules.program import Atom, Const, Expr, FieldRef, Predicate
from engine.rules.semantics import MIRRORED

__all__ = ["DNF", "parse_condition"]


DNF = list[list[Atom]]
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}


def parse_condition(text: str, scope: Scope) -> DNF:
    """A condition string -> alternatives of atoms (an empty list of atoms always holds)."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("a condition must be a non-empty text")
    dnf = _cond(parse_tree(text), text, scope)
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
                raise ExprError("too many alternatives", offset_of(text, node))
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
        if is_ref(operand):
            ref, type_ = field_ref(operand, text, scope)
            _expect_bool(type_, text, operand)
            return [[Atom(op="eq", left=ref, right=Const(False), text=_src(text, node))]]
        raise ExprError(
            "'not' may only stand before a true/false field or a function such as present()",
            offset_of(text, node),
            "write the opposite comparison instead, e.g. a != b",
        )
    if is_ref(node):
        ref, type_ = field_ref(node, text, scope)
        _expect_bool(type_, text, node)
        return [[Atom(op="eq", left=ref, right=Const(True), text=_src(text, node))]]
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return [[]] if node.value else []
    if isinstance(node, ast.Name) and node.id in ("true", "false"):
        return [[]] if node.id == "true" else []
    if isinstance(node, ast.BinOp):
        raise ExprError(
            "arithmetic is not allowed in a condition",
            offset_of(text, node),
            "define the value under derived: and compare with case.<name>",
        )
    raise ExprError("expected a comparison, e.g. evidence.copy_no == 1", offset_of(text, node))


def _src(text: str, node: ast.expr) -> str:
    segment = ast.get_source_segment(one_line(text), node)
    return segment or one_line(text)


def _expect_bool(type_: Type, text: str, node: ast.expr) -> None:
    if type_.name != "boolean":
        raise ExprError(
            f"this field is {type_}, not true/false",
            offset_of(text, node),
            'compare it with something, e.g. == "value"',
        )


def _compare(
    left: ast.expr, op: ast.cmpop, right: ast.expr, text: str, scope: Scope, whole: ast.expr
) -> list[Atom]:
    src = _src(text, whole)
    if isinstance(op, (ast.In, ast.NotIn)):
        return _membership(left, right, text, scope, src, negate=isinstance(op, ast.NotIn))
    if type(op) not in _CMP:
        raise ExprError("unsupported comparison", offset_of(text, whole), "use == != < <= > >= in")
    cmp = _CMP[type(op)]
    if is_literal(left) and is_literal(right):
        raise ExprError("a comparison needs at least one field", offset_of(text, whole))
    if is_literal(left):
        left, right, cmp = right, left, MIRRORED[cmp]
    lref, ltype = _operand(left, text, scope)
    if is_literal(right):
        value = const_for(literal(right, text), ltype, text, offset_of(text, right))
        if lref.transform:
            value = _transform_const(lref.transform, value)
        _check_order(cmp, ltype, text, whole)
        return [Atom(op=cmp, left=lref, right=Const(value), text=src)]
    rref, rtype = _operand(right, text, scope)
    if not compatible(ltype, rtype):
        raise ExprError(f"cannot compare {ltype} with {rtype}", offset_of(text, whole))
    _check_order(cmp, ltype, text, whole)
    return [Atom(op=cmp, left=lref, right=rref, text=src)]


def _check_order(cmp: str, type_: Type, text: str, node: ast.expr) -> None:
    if cmp in ("lt", "le", "gt", "ge") and type_.name in ("boolean", "list"):
        raise ExprError(f"{type_} values have no order", offset_of(text, node))


def _operand(node: ast.expr, text: str, scope: Scope) -> tuple[FieldRef, Type]:
    if isinstance(node, (ast.BinOp, ast.UnaryOp)) or (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in VALUE_FUNCTIONS
    ):
        raise ExprError(
            "arithmetic is not allowed in a condition",
            offset_of(text, node),
            "define the value under derived: and compare with case.<name>",
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "name":
        if len(node.args) != 1:
            raise ExprError("name() takes one field", offset_of(text, node))
        ref, type_ = field_ref(node.args[0], text, scope)
        if not type_.is_textual:
            raise ExprError(f"name() needs text, this is {type_}", offset_of(text, node))
        return FieldRef(ref.alias, ref.field, "name"), type_
    if is_ref(node):
        ref, type_ = field_ref(node, text, scope)
        if type_.name == "list":
            raise ExprError(
                "a list cannot be compared directly",
                offset_of(text, node),
                "use contains(), all_in() or any_in()",
            )
        return ref, type_
    raise ExprError("expected a field or a constant", offset_of(text, node))


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
            const_for(literal(item, text), type_, text, offset_of(text, item))
            for item in right.elts
        )
        if not values:
            raise ExprError("an empty list", offset_of(text, right))
        if negate:
            return [Atom(op="ne", left=ref, right=Const(v), text=src) for v in values]
        return [Atom(op="in", left=ref, options=values, text=src)]
    # "value" in evidence.list_attribute -> a predicate computed on the fact
    if is_literal(left) and is_ref(right):
        call = ast.Call(func=ast.Name(id="contains"), args=[right, left], keywords=[])
        ast.copy_location(call, right)
        ast.copy_location(call.func, right)
        return _call_atoms(call, text, scope, negate=negate)
    raise ExprError(
        'write \'field in ["a", "b"]\' or \'"value" in evidence.list_field\'',
        offset_of(text, left),
    )


def _call_atoms(node: ast.Call, text: str, scope: Scope, *, negate: bool) -> list[Atom]:
    if not isinstance(node.func, ast.Name):
        raise ExprError("unknown function", offset_of(text, node))
    name = node.func.id
    src = _src(text, node)
    if node.keywords:
        raise ExprError("functions take no named arguments", offset_of(text, node))
    if name in ("present", "missing"):
        if len(node.args) != 1:
            raise ExprError(f"{name}() takes one field", offset_of(text, node))
        ref, _ = field_ref(node.args[0], text, scope)
        op = "present" if (name == "present") != negate else "missing"
        return [Atom(op=op, left=ref, text=src)]
    if name in TRANSFORMS:
        if negate:
            raise ExprError(
                f"'not {name}(...)' is not allowed",
                offset_of(text, node),
                "a missing name would make it true: compare with != instead",
            )
        if len(node.args) != 2:
            raise ExprError(
                f"{name}() takes two fields or a field and a text", offset_of(text, node)
            )
        transform = TRANSFORMS[name]
        a, b = node.args
        if is_literal(a):
            a, b = b, a
        lref, ltype = field_ref(a, text, scope)
        if not ltype.is_textual:
            raise ExprError(f"{name}() compares text, this is {ltype}", offset_of(text, a))
        lref = FieldRef(lref.alias, lref.field, transform)
        if is_literal(b):
            value = literal(b, text)
            if not isinstance(value, str):
                raise ExprError(f"{name}() compares text", offset_of(text, b))
            return [
                Atom(op="eq", left=lref, right=Const(_transform_const(transform, value)), text=src)
            ]
        rref, rtype = field_ref(b, text, scope)
        if not rtype.is_textual:
            raise ExprError(f"{name}() compares text, this is {rtype}", offset_of(text, b))
        return [
            Atom(op="eq", left=lref, right=FieldRef(rref.alias, rref.field, transform), text=src)
        ]
    if name in PREDICATES:
        return [_predicate_atom(node, name, text, scope, src, negate)]
    known = sorted(["present", "missing", *TRANSFORMS, *PREDICATES])
    raise ExprError(
        f"unknown function '{name}' in a condition",
        offset_of(text, node),
        did_you_mean(name, known) or f"known: {', '.join(known)}",
    )


def _predicate_atom(
    node: ast.Call, name: str, text: str, scope: Scope, src: str, negate: bool
) -> Atom:
    function = PREDICATES[name]
    expected = (function.subject, function.argument)
    if len(node.args) != len(expected):
        raise ExprError(f"{name}() takes {len(expected)} arguments", offset_of(text, node))
    subject, type_ = field_ref(node.args[0], text, scope)
    if type_.name != expected[0].name and not (expected[0].is_textual and type_.is_textual):
        raise ExprError(
            f"{name}() needs a {expected[0]} first, this is {type_}", offset_of(text, node.args[0])
        )
    alias = scope.aliases[subject.alias]
    args = [Expr(op="ref", type=type_, value=FieldRef(subject.alias, subject.field))]
    for arg in node.args[1:]:
        if isinstance(arg, (ast.List, ast.Tuple)):
            items = tuple(literal(item, text) for item in arg.elts)
            args.append(Expr(op="const", type=LIST, value=items))
        elif is_literal(arg):
            args.append(Expr(op="const", type=TEXT, value=literal(arg, text)))
        else:
            ref, rtype = field_ref(arg, text, scope)
            if scope.aliases[ref.alias].fact_type != "param":
                raise ExprError(
                    f"{name}() takes constants or parameters after the field", offset_of(text, arg)
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
