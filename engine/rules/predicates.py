"""The predicates a condition may call on one fact's values, each in one place: its signature
(checked when rules load), what it computes (when facts are built) and how to make it hold
(the what-if search, which builds hypothetical evidence).

A predicate's first argument is a field of the fact; the second a constant or a parameter. Its
result is stored in the fact as a boolean field that atoms test (see ``Predicate``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.model import Record, Type

__all__ = ["PREDICATES", "PredicateFunction", "Witness", "predicate_holds"]

_LIST, _TEXT = Type("list"), Type("text")


@dataclass(frozen=True, slots=True, kw_only=True)
class Witness:
    """How to give a hypothetical item's ``subject`` field a value for which the predicate is
    what is wanted: set it to ``value``, or add ``member`` to the list it holds."""

    value: Any = None
    member: Any = None
    if_unset: bool = False  # ``value`` only when nothing else has set the field
    placeholder: bool = False  # ``value`` holds a placeholder (only presence matters)


def _options(arg: Any) -> set[str]:
    return {str(option).lower() for option in arg}


def _first(arg: Any) -> Any:
    return arg if isinstance(arg, str) else next(iter(arg), None)


def _all_in(subject: Any, arg: Any) -> bool:
    options = _options(arg)
    return all(str(x).lower() in options for x in subject)


def _any_in(subject: Any, arg: Any) -> bool:
    options = _options(arg)
    return any(str(x).lower() in options for x in subject)


def _all_have(subject: Any, arg: Any) -> bool:
    return all(isinstance(r, Mapping | Record) and r.get(arg) not in (None, "") for r in subject)


def _one_option(arg: Any, wanted: bool, placeholder: str) -> Witness | None:
    option = _first(arg)
    return Witness(value=(option,)) if wanted and option is not None else None


def _contains_witness(arg: Any, wanted: bool, placeholder: str) -> Witness | None:
    return Witness(member=arg) if wanted else Witness(value=(), if_unset=True)


def _contains_any_witness(arg: Any, wanted: bool, placeholder: str) -> Witness | None:
    option = _first(arg)
    return Witness(value=str(option)) if wanted and option is not None else None


def _all_have_witness(arg: Any, wanted: bool, placeholder: str) -> Witness | None:
    option = _first(arg)
    if not wanted or option is None:
        return None
    return Witness(value=(((str(option), placeholder),),), placeholder=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class PredicateFunction:
    name: str
    subject: Type  # the type of the field it is called on
    argument: Type  # the type of its second argument
    holds: Callable[[Any, Any], bool]  # (subject value, argument value) -> result
    # (argument value, wanted result, placeholder text) -> a subject that gives it, or None
    witness: Callable[[Any, bool, str], Witness | None]
    doc: str


PREDICATES: dict[str, PredicateFunction] = {
    p.name: p
    for p in (
        PredicateFunction(
            name="all_in", subject=_LIST, argument=_LIST, holds=_all_in, witness=_one_option,
            doc="every item of the list is one of the options (case-insensitive)",
        ),
        PredicateFunction(
            name="any_in", subject=_LIST, argument=_LIST, holds=_any_in, witness=_one_option,
            doc="some item of the list is one of the options (case-insensitive)",
        ),
        PredicateFunction(
            name="contains", subject=_LIST, argument=_TEXT,
            holds=lambda subject, arg: arg in subject, witness=_contains_witness,
            doc="the list holds the value",
        ),
        PredicateFunction(
            name="contains_any", subject=_TEXT, argument=_LIST,
            holds=lambda subject, arg: any(str(word) in subject for word in arg),
            witness=_contains_any_witness,
            doc="the text holds one of the words",
        ),
        PredicateFunction(
            name="all_have", subject=_LIST, argument=_TEXT, holds=_all_have,
            witness=_all_have_witness,
            doc="every record of the list has a non-empty value under the key",
        ),
    )
}  # fmt: skip


def predicate_holds(function: str, subject: Any, argument: Any) -> bool:
    """The result of predicate ``function`` on one fact's ``subject`` value."""
    return PREDICATES[function].holds(subject, argument)
