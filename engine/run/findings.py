"""The parts of a ruling's findings that need no Decider: what each rule's firing says of the
items it targets, the findings of attributes read from files, the case file's own warnings, the
two sides of an issue, and the numbers as a ruling writes them (money to the cent, scores to
four places)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.model import ReadAttribute
from engine.rules.program import Expr, Rule, Text
from engine.ruling import ReadFinding, Reason
from engine.run.facts import Prepared
from engine.run.notices import notice_reason
from engine.run.values import round_money

__all__ = [
    "ZERO",
    "as_decimal",
    "case_warnings",
    "item_marks",
    "money",
    "quoted",
    "quotes",
    "read_findings",
    "round_score",
    "side_items",
    "strongest",
]

ZERO = Decimal("0")
_SCORE_PLACES = Decimal("0.0001")


def item_marks(
    rule: Rule,
) -> tuple[tuple[str, frozenset[str], tuple[tuple[str | None, Expr | None], ...]], ...]:
    """What a rule's firing says of each item it targets, by the alias bound to the item: the
    rule's reason, the requirements of the item it meets and the issues it scores the item for
    (with the weight)."""
    meets: dict[str, set[str]] = {}
    scores: dict[str, list[tuple[str | None, Expr | None]]] = {}
    for effect in rule.effects:
        if effect.target is None:
            continue
        alias_meets = meets.setdefault(effect.target, set())
        alias_scores = scores.setdefault(effect.target, [])
        if effect.kind == "meets":
            alias_meets.update(effect.requirements)
        elif effect.kind in ("supports", "opposes"):
            alias_scores.append((effect.issue, effect.weight))
    return tuple((alias, frozenset(meets[alias]), tuple(scores[alias])) for alias in meets)


def read_findings(read: tuple[ReadAttribute, ...], minimum: Decimal) -> tuple[ReadFinding, ...]:
    """The attributes read from an item's files, and whether each counted."""
    return tuple(
        ReadFinding(
            attribute=r.name,
            value=r.value,
            file=r.file,
            confidence=r.confidence,
            counted=Decimal(str(r.confidence)) >= minimum,
        )
        for r in read
    )


def case_warnings(prepared: Prepared) -> list[Reason]:
    """The warnings about the case file, each once, sorted (the order of its items never
    changes a ruling)."""
    if not prepared.warnings:
        return []
    return sorted({notice_reason(n) for n in prepared.warnings}, key=lambda w: w.en)


def strongest(side: list[tuple[Decimal, str]]) -> Decimal:
    """The greatest weight on one side of an issue (the first of equal ones), 0 for none."""
    return max([weight for weight, _ in side]) if side else ZERO


def side_items(side: list[tuple[Decimal, str]]) -> tuple[str, ...]:
    """The items on one side of an issue, each once, sorted."""
    if len(side) <= 1:
        return tuple(key for _, key in side)
    return tuple(sorted({key for _, key in side}))


def as_decimal(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(value)


def money(value: Any) -> Decimal:
    return round_money(as_decimal(value))


def round_score(value: Decimal) -> Decimal:
    return value.quantize(_SCORE_PLACES)


def quotes(reason: Reason) -> bool:
    return "{param." in reason.zh or "{param." in reason.en


def quoted(reason: Reason, prepared: Prepared) -> Reason:
    text = prepared.params.quote(Text(zh=reason.zh, en=reason.en))
    return Reason(rule=reason.rule, zh=text.zh, en=text.en)
