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

__all__ = [
    "PREDICATES",
    "PredicateFunction",
    "Test",
    "Witness",
    "predicate_test",
]

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


Test = Callable[[Any], bool]  # subject value -> the predicate's result


def _all_in(arg: Any) -> Test:
    options = _options(arg)

    def all_in(subject: Any) -> bool:  # all(...) of a generator, without making one
        for x in subject:
            if str(x).lower() not in options:
                return False
        return True

    return all_in


def _any_in(arg: Any) -> Test:
    options = _options(arg)

    def any_in(subject: Any) -> bool:  # any(...) of a generator, without making one
        for x in subject:
            if str(x).lower() in options:
                return True
        return False

    return any_in


def _contains(arg: Any) -> Test:
    return lambda subject: arg in subject


def _contains_any(arg: Any) -> Test:
    return lambda subject: any(str(word) in subject for word in arg)


def _all_have(arg: Any) -> Test:
    return lambda subject: all(
        isinstance(r, Mapping | Record) and r.get(arg) not in (None, "") for r in subject
    )


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
    # (argument value) -> the test of subject values (what depends on the argument alone, such
    # as a set of options, is worked out once for each argument)
    test: Callable[[Any], Test]
    # (argument value, wanted result, placeholder text) -> a subject that gives it, or None
    witness: Callable[[Any, bool, str], Witness | None]
    doc: str


PREDICATES: dict[str, PredicateFunction] = {
    p.name: p
    for p in (
        PredicateFunction(
            name="all_in", subject=_LIST, argument=_LIST, test=_all_in, witness=_one_option,
            doc="every item of the list is one of the options (case-insensitive)",
        ),
        PredicateFunction(
            name="any_in", subject=_LIST, argument=_LIST, test=_any_in, witness=_one_option,
            doc="some item of the list is one of the options (case-insensitive)",
        ),
        PredicateFunction(
            name="contains", subject=_LIST, argument=_TEXT,
            test=_contains, witness=_contains_witness,
            doc="the list holds the value",
        ),
        PredicateFunction(
            name="contains_any", subject=_TEXT, argument=_LIST,
            test=_contains_any, witness=_contains_any_witness,
            doc="the text holds one of the words",
        ),
        PredicateFunction(
            name="all_have", subject=_LIST, argument=_TEXT, test=_all_have,
            witness=_all_have_witness,
            doc="every record of the list has a non-empty value under the key",
        ),
    )
}  # fmt: skip


def predicate_test(function: str, argument: Any) -> Test:
    """Predicate ``function`` with its argument given: a test of one fact's subject value."""
    return PREDICATES[function].test(argument)
