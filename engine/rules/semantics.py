"""What the compiled form means, in one place for both evaluators, the runtime and the tools.

An atom holds for the facts bound to its aliases (a comparison with a missing value is false);
a condition (alternatives of atoms) holds when one alternative's atoms all hold. Domain values
(datetime, Decimal, timedelta) enter facts in their scalar forms (``converter``). The comparison
operators are written, mirrored and shown here once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.model import Type
from engine.rules.program import NUMBER_SCALE, Atom, Const, FieldRef

__all__ = [
    "MIRRORED",
    "OPERATORS",
    "SYMBOLS",
    "Converter",
    "atom_holds",
    "atom_text",
    "condition_text",
    "converter",
    "decimal_to_fact",
    "holds",
    "to_fact_value",
]

Fact = Mapping[str, Any]
Condition = tuple[tuple[Atom, ...], ...]

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
# ``a op b`` is ``b MIRRORED[op] a``: how a comparison reads with its sides swapped
MIRRORED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


def atom_holds(atom: Atom, bound: Mapping[str, Fact]) -> bool:
    """Whether one atom holds for the facts bound to its aliases (the semantics, spelled out)."""
    left = bound[atom.left.alias].get(atom.left.fact_field)
    op = atom.op
    if op == "present":
        return left is not None
    if op == "missing":
        return left is None
    if left is None:
        return False
    if op == "in":
        return left in atom.options
    right_ref = atom.right
    if isinstance(right_ref, FieldRef):
        right = bound[right_ref.alias].get(right_ref.fact_field)
    else:
        right = right_ref.value if right_ref is not None else None
    if right is None:
        return False
    return OPERATORS[op](left, right)


def holds(condition: Condition, bound: Mapping[str, Fact]) -> bool:
    """Whether one of the condition's alternatives holds (every atom of it)."""
    return any(all(atom_holds(atom, bound) for atom in atoms) for atoms in condition)


# ---------------------------------------------------------------- fact forms

Converter = Callable[[Any], Any]


def decimal_to_fact(value: Decimal, scale: int) -> int:
    """A decimal in fact form: an integer of 1/scale, rounded half-up."""
    return int((value * scale).to_integral_value(ROUND_HALF_UP))  # by position: faster


def _scaled(scale: int) -> Converter:
    return lambda value: decimal_to_fact(Decimal(value), scale)


def _seconds(value: Any) -> int:
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


_CONVERTERS: dict[str, Converter] = {
    "time": lambda value: int(value.timestamp()),
    "duration": _seconds,
    "money": _scaled(100),
    "number": _scaled(NUMBER_SCALE),
    "list": tuple,
}


def converter(type_: Type) -> Converter | None:
    """How a domain value of ``type_`` becomes its fact form (None: unchanged)."""
    return _CONVERTERS.get(type_.name)


def to_fact_value(value: Any, type_: Type) -> Any:
    """A domain value (datetime, Decimal, timedelta, ...) in the form facts hold it."""
    convert = converter(type_)
    return value if value is None or convert is None else convert(value)


# ---------------------------------------------------------------- as text


def atom_text(atom: Atom, predicates: Mapping[str, str] | None = None) -> str:
    """The atom as a policy writer reads it; ``predicates`` maps a predicate's fact field to
    its text as written (``all_in(evidence.file_types, param.accepted_file_types)``)."""
    left = str(atom.left)
    if predicates and atom.left.field in predicates:
        left = predicates[atom.left.field]
        if atom.op == "eq" and isinstance(atom.right, Const) and isinstance(atom.right.value, bool):
            return left if atom.right.value else f"not {left}"
    if atom.op in ("present", "missing"):
        return f"{atom.op}({left})"
    if atom.op == "in":
        return f"{left} in {list(atom.options)}"
    return f"{left} {SYMBOLS[atom.op]} {atom.right}"


def condition_text(condition: Condition, predicates: Mapping[str, str] | None = None) -> str:
    """Alternatives joined by "or", atoms by "and"; "always" for an empty alternative."""
    texts = [
        " and ".join(atom_text(a, predicates) for a in atoms) or "always" for atoms in condition
    ]
    return " or ".join(f"({t})" if len(condition) > 1 and " and " in t else t for t in texts)
