"""Facts as generated Python: for each fact type (and each evidence kind), one straight-line
function from a domain (field -> value) to the fact the rules read.

The same fields, converters and transforms as ``FactPlan``'s field plans, unrolled: a field the
domain lacks is left out of the fact, a name is normalised, a time becomes its epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.cases.names import normalise_name
from engine.model import Type
from engine.rules.program import KEY, TYPE
from engine.rules.semantics import Converter, converter
from engine.run.values import epoch_seconds

__all__ = ["FactBuilder", "Field", "fact_builder"]

Field = tuple[str, str, Converter | None, bool]  # fact field, source field, converter, is name
FactBuilder = Callable[[str, Mapping[str, Any]], dict[str, Any]]

_TIME = converter(Type("time"))


def fact_builder(fact_type: str, fields: tuple[Field, ...]) -> FactBuilder:
    """``build(key, domain)``: the fact of type ``fact_type`` with the planned fields."""
    constants: dict[str, Any] = {}
    lines = ["def build(key, domain):", f"    fact = {{TYPE: {fact_type!r}, KEY: key}}"]
    for name, base, convert, is_name in fields:
        lines.append(f"    value = domain.get({base!r})")
        lines.append("    if value is not None:")
        if is_name:
            shown = "_name(str(value))"
        elif convert is None:
            shown = "value"
        elif convert is _TIME:
            shown = "_epoch(value)"
        else:
            shown = f"_k{len(constants)}(value)"
            constants[f"_k{len(constants)}"] = convert
        lines.append(f"        fact[{name!r}] = {shown}")
    lines.append("    return fact")
    namespace: dict[str, Any] = {
        **constants, "TYPE": TYPE, "KEY": KEY, "_name": normalise_name, "_epoch": epoch_seconds,
        "__builtins__": {"str": str},
    }  # fmt: skip
    code = compile("\n".join(lines) + "\n", f"<facts of {fact_type}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source; constants by name only
    build: FactBuilder = namespace["build"]
    return build


def domain_builder(table: Mapping[str, Type]) -> Callable[[Any], dict[str, Any]]:
    """``domain(obj)``: the fields of ``table`` that ``obj`` (an Order, a Dispute) has."""
    lines = ["def domain(obj):", "    out = {}"]
    for name in table:
        lines.append(f"    value = obj.{name}" if name.isidentifier() else "    value = None")
        lines.append("    if value is not None:")
        lines.append(f"        out[{name!r}] = value")
    lines.append("    return out")
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(compile("\n".join(lines) + "\n", "<domain>", "exec"), namespace)  # noqa: S102
    domain: Callable[[Any], dict[str, Any]] = namespace["domain"]
    return domain
