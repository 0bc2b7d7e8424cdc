"""Frozen, slotted dataclasses made fast by generated code (the JSON Lines fast path's records).

A frozen dataclass's __init__ stores each field with ``object.__setattr__`` by name (an Order:
1.9 µs). ``construct_source`` writes code that makes one faster: an instance of a plain class
with the very same slots (its *twin*) has each slot stored, then becomes an instance of the
class by assigning its ``__class__``, which Python allows exactly when the two layouts are the
same (checked once per class by ``twin``); where that is refused, each slot's descriptor sets
it; with a ``__post_init__``, the constructor itself. The code runs in an ``env`` holding
``new`` (``object.__new__``) and ``cls``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

__all__ = ["construct_source", "maker", "twin"]


def construct_source(cls: type[Any], args: list[str], env: dict[str, Any]) -> list[str]:
    """Code that makes the frozen, slotted dataclass ``cls`` from ``args`` ("field=variable";
    every other field gets its default) and returns it: through its twin (0.33 µs for an
    Order), else by each slot's descriptor (0.85 µs), else by its constructor."""
    fields = {field.name for field in dataclasses.fields(cls)}
    # compiled by mypyc: its fields are slots of a C struct, set by their descriptors
    compiled = set(vars(cls).get("__mypyc_attrs__", ())) == fields
    if not (hasattr(cls, "__slots__") or compiled) or hasattr(cls, "__post_init__"):
        return [f"    return cls({', '.join(args)})"]
    given = dict(arg.split("=", 1) for arg in args)
    values = []
    for field in dataclasses.fields(cls):
        if field.name in given:
            values.append((field.name, given[field.name]))
        elif field.default is not dataclasses.MISSING:
            env[f"field_{field.name}"] = field.default
            values.append((field.name, f"field_{field.name}"))
        else:
            raise TypeError(f"{cls.__name__}.{field.name} has no default")
    made_as = twin(cls)
    if made_as is None:
        for name, _ in values:
            env[f"set_{name}"] = getattr(cls, name).__set__
        lines = [f"    set_{name}(made, {value})" for name, value in values]
        return ["    made = new(cls)", *lines, "    return made"]
    env["twin"] = made_as
    lines = [f"    made.{name} = {value}" for name, value in values]
    return ["    made = new(twin)", *lines, "    made.__class__ = cls", "    return made"]


def twin(cls: type[Any]) -> type[Any] | None:
    """A plain class with exactly the slots of ``cls`` (every one a field), whose instances can
    become ``cls`` instances; None when Python refuses that for ``cls``."""
    slots = tuple(vars(cls).get("__slots__", ()))
    if not slots or sorted(slots) != sorted(field.name for field in dataclasses.fields(cls)):
        return None
    plain = type(f"_{cls.__name__}Slots", (), {"__slots__": slots})
    try:
        trial: Any = object.__new__(plain)
        trial.__class__ = cls
    except TypeError:
        return None
    return plain


def _new(cls: type[Any]) -> Callable[[type[Any]], Any]:
    """``object.__new__``, or the class's own ``__new__`` where Python refuses the former for
    it (a class compiled by mypyc: its fields are slots of its own C struct)."""
    try:
        object.__new__(cls)
    except TypeError:
        return cast(Callable[[type[Any]], Any], cls.__new__)
    return object.__new__


def maker(cls: type[Any]) -> Callable[..., Any]:
    """A function of every field of ``cls`` in order (positional) that makes it as
    ``construct_source`` does."""
    names = [field.name for field in dataclasses.fields(cls)]
    env: dict[str, Any] = {"new": _new(cls), "cls": cls}
    lines = [f"def make({', '.join(names)}):"]
    lines += construct_source(cls, [f"{name}={name}" for name in names], env)
    exec(compile("\n".join(lines), f"<casefile/1 fast path: {cls.__name__}>", "exec"), env)
    make: Callable[..., Any] = env["make"]
    return make
