"""An arbitrator confirms or corrects an attribute read from an evidence item's files: the fields
checked, and the case's document with the attribute typed in (typed attributes win over read
ones, so the case is scored on the arbitrator's value from then on).

Only an attribute the item's kind declares under ``extract:`` (one that could be read) and its
case file did not type on import can be confirmed or corrected. Confirming types the value that
was read; correcting types another, checked against the attribute's declared type. A value from
a page's form is text and is read as the type says (``true``, ``12``, JSON for a list); a value
from the API is a JSON value. Every problem is collected, each naming its field
(CorrectionError).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.cases.attributes import typed
from engine.cases.checks import MAX_TEXT
from engine.cases.load import case_from_data
from engine.errors import CaseFileError, CorrectionError, Problem, UnknownEvidence
from engine.model import DeclaredFields, ReadAttribute, SourceLoc, Type
from engine.rules.program import Program
from engine.web.decision_form import MAX_NAME, MAX_REASON
from engine.web.textcheck import invisible, shown

__all__ = ["ACTIONS", "CORRECTION_FIELDS", "Checked", "Target", "check_correction", "target"]

ACTIONS = ("confirm", "correct")
CORRECTION_FIELDS = ("action", "value", "reason", "version", "corrected_by")
_INTEGER = re.compile(r"[+-]?[0-9]{1,16}")
_Report = Callable[..., None]  # problem(field, message, hint="")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The attribute a correction is about."""

    index: int  # of the item in the case's evidence
    item: str
    kind: str
    attribute: str
    type: Type
    read: ReadAttribute | None  # what was read on import (None: nothing was)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    action: str
    value: Any  # as the case file types it (JSON)
    reason: str
    version: int | None
    corrected_by: str
    document: dict[str, Any]  # the case's document with the value typed in


def target(
    program: Program,
    document: Mapping[str, Any],
    typed_on_import: Mapping[str, Any],
    reads: Mapping[str, tuple[ReadAttribute, ...]],
    with_files: set[str],
    item: str,
    attribute: str,
) -> Target:
    """The attribute ``attribute`` of the item ``item``; UnknownEvidence when the case has no
    such item, the item no file on the desk (``with_files``: the items that have), the
    attribute is not one its kind can read, or the case file typed it."""
    items = document.get("evidence") or []
    index = next((i for i, e in enumerate(items) if e.get("id") == item), None)
    if index is None:
        known = ", ".join(str(e.get("id")) for e in items) or "none"
        raise UnknownEvidence(f"the case has no evidence item {item!r} (items: {known})")
    if item not in with_files:
        raise UnknownEvidence(
            f"evidence {item} has no file on the desk (the case was not imported as a bundle): "
            "nothing was read from it to confirm or correct"
        )
    kind_name = str(items[index].get("kind"))
    kind = program.kind(kind_name)
    readable = [e.attribute for e in kind.extract] if kind else []
    type_ = kind.attribute_type(attribute) if kind else None
    if attribute not in readable or type_ is None:
        raise UnknownEvidence(
            f"evidence {item} ({kind_name}): {attribute!r} is not an attribute the rules read "
            f"from its files (readable: {', '.join(readable) or 'none'})"
        )
    if attribute in (typed_on_import.get(item) or {}):
        raise UnknownEvidence(
            f"evidence {item}: {attribute} is typed in the case file, not read from a file: "
            "there is no reading to confirm or correct"
        )
    read = next((r for r in reads.get(item, ()) if r.name == attribute), None)
    return Target(index=index, item=item, kind=kind_name, attribute=attribute, type=type_,
                  read=read)  # fmt: skip


def check_correction(
    fields: Mapping[str, Any],
    goal: Target,
    document: Mapping[str, Any],
    *,
    source: str,
    form: bool,
    declared: DeclaredFields,
    actor: str | None,
) -> Checked:
    """The fields of a confirmation or correction checked against ``goal``; the document with
    the value typed in. ``form``: the value is a page's text, read as the type says.
    ``actor``: the signed-in user, who corrects (the version is then required); None on the
    one-person desk, where ``corrected_by`` names who does."""
    problems: list[Problem] = []

    def problem(field: str, message: str, hint: str = "") -> None:
        where = SourceLoc(path=source)
        problems.append(Problem(where, f"{field}: {message}", path=field, hint=hint))

    for key in fields:
        if key not in CORRECTION_FIELDS:
            problem(str(key), "unknown field", f"known: {', '.join(CORRECTION_FIELDS)}")
    corrected_by = _corrector(fields.get("corrected_by"), actor, problem)
    action = fields.get("action")
    if action not in ACTIONS:
        problem("action", f"expected confirm or correct, got {shown(action)}",
                "confirm types the value read; correct types the value given")  # fmt: skip
    version = _version(fields.get("version"), actor is not None, problem)
    reason = _reason(fields.get("reason"), problem)
    value: Any = None
    if action == "confirm":
        if goal.read is None:
            problem("action", f"nothing was read for {goal.attribute}: there is no value to "
                    "confirm", "correct it with the value the file shows")  # fmt: skip
        else:
            value = goal.read.value
            given = fields.get("value")
            if given not in (None, "") and _value(given, goal.type, form) != value:
                problem("value", f"confirming types the value read ({shown(value)}), not "
                        f"{shown(given)}", "to type another value, correct it")  # fmt: skip
    elif action == "correct":
        value = _checked_value(fields.get("value"), goal, form, problem)
        if not reason:
            problem("reason", "a reason is required to correct what was read",
                    "say what the file shows, e.g. the signer's name on the slip")  # fmt: skip
    revised = copy.deepcopy(dict(document))
    if not problems:
        item = revised["evidence"][goal.index]
        item["attributes"] = {**(item.get("attributes") or {}), goal.attribute: value}
        try:
            case_from_data(revised, source=source, fields=declared)
        except CaseFileError as exc:
            for p in exc.problems:
                problem("value", p.message, p.hint)
    if problems:
        raise CorrectionError(problems)
    assert isinstance(action, str)
    return Checked(action=action, value=value, reason=reason, version=version,
                   corrected_by=corrected_by, document=revised)  # fmt: skip


def _corrector(value: Any, actor: str | None, problem: _Report) -> str:
    if actor is not None:
        if value not in (None, ""):
            problem("corrected_by", f"who corrects is the signed-in user ({actor}); a body "
                    "cannot name it", "remove the field")  # fmt: skip
        return actor
    hint = "who corrects: your name"
    if value is None or value == "":
        problem("corrected_by", "required field is missing", hint)
        return ""
    if not isinstance(value, str):
        problem("corrected_by", f"expected text, got {shown(value)}", hint)
        return ""
    bad = invisible(value)
    if len(value) > MAX_NAME or bad is not None:
        problem("corrected_by", bad or f"longer than {MAX_NAME} characters", hint)
        return ""
    if not value.strip():
        problem("corrected_by", "required field is blank", hint)
    return value.strip()


def _version(value: Any, required: bool, problem: _Report) -> int | None:
    hint = "the case's version as its page or GET /v1/cases/{id} shows it"
    if value is None or value == "":
        if required:
            problem("version", "required field is missing", hint)
        return None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        problem("version", f"expected a whole number >= 0, got {shown(value)}", hint)
        return None
    return value


def _reason(value: Any, problem: _Report) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        problem("reason", f"expected text, got {shown(value)}")
        return ""
    if len(value) > MAX_REASON:
        problem("reason", f"longer than {MAX_REASON} characters", "shorten it")
        return ""
    bad = invisible(value, lines=True)
    if bad is not None:
        problem("reason", bad, "remove it: a correction is read by people, as it is shown")
        return ""
    return value.strip()


def _checked_value(given: Any, goal: Target, form: bool, problem: _Report) -> Any:
    if given is None or (form and given == ""):
        problem("value", "required to correct an attribute", f"a value of type {goal.type}")
        return None
    value = _value(given, goal.type, form)
    if value is None or typed(value, goal.type) is None:
        problem("value", f"{shown(given)} is not a value of {goal.attribute}'s type: "
                f"{_expected(goal.type)}")  # fmt: skip
        return None
    for text in _texts(value):
        if len(text) > MAX_TEXT:
            problem("value", f"the text is {len(text):,} characters, more than {MAX_TEXT:,}")
            return None
        bad = invisible(text)
        if bad is not None:
            problem("value", bad, "remove it: the value is read by people, as it is shown")
            return None
    if goal.type.name in ("text", "name") and isinstance(value, str):
        value = value.strip()
    return value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (str(k), *_texts(v))]
    return []


def _value(given: Any, type_: Type, form: bool) -> Any:
    """A value as the case file would type it: a page's text read as the type says, or the
    API's JSON value as it is. None when the text cannot be read so."""
    if not form or not isinstance(given, str):
        return given
    text = given.strip()
    name = type_.name
    if name == "boolean":
        return {"true": True, "false": False}.get(text.lower())
    if name == "integer":
        return int(text) if _INTEGER.fullmatch(text) else None
    if name in ("number", "money"):
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        if number == number.to_integral_value():
            return int(number)
        exact = float(number)
        return exact if Decimal(str(exact)) == number else None
    if name == "list":
        try:
            return json.loads(text)
        except ValueError:
            return None
    return given if name in ("text", "name") else text


def _expected(type_: Type) -> str:
    name = type_.name
    if name == "enum":
        return f"one of {', '.join(type_.values)}"
    if name == "list":
        of = f" of {', '.join(type_.values)}" if type_.values else ""
        return f"a list{of} (JSON on a page, e.g. [\"a\", \"b\"])"
    return {
        "boolean": "true or false",
        "integer": "a whole number",
        "number": "a number",
        "money": "an amount in CNY",
        "time": "an ISO-8601 time with a UTC offset, e.g. 2024-03-07T11:20:00+08:00",
        "duration": "a duration such as 72h or 3d",
        "text": "text",
        "name": "a name (text)",
    }.get(name, name)
