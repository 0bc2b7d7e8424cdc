"""Recommendations vs decisions: how often arbitrators keep the ruling the engine recommends.

A decision agrees with a recommendation when it keeps its ruling and its amounts (an amount the
decision does not record is not compared). The figures are grouped by dispute type, by the rule
that decided the recommendation, and by every rule that fired in it: a rule whose
recommendations are often overridden is one for policy staff to read again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from engine.model import Decision
from engine.ruling import Ruling

__all__ = ["Agreement", "Comparison", "Row", "agreement", "compare", "keeps"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """One decided case: what was recommended and what the arbitrator decided."""

    case_id: str
    dispute_type: str
    recommended: str
    recommended_refund: Decimal
    recommended_compensation: Decimal
    deciding_rule: str  # the outcome rule that decided the recommendation
    fired_rules: tuple[str, ...]
    decided: str
    decided_refund: Decimal | None
    decided_compensation: Decimal | None

    @property
    def agrees(self) -> bool:
        return _keeps(
            self.decided,
            self.decided_refund,
            self.decided_compensation,
            self.recommended,
            self.recommended_refund,
            self.recommended_compensation,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    key: str
    decided: int
    agreed: int

    @property
    def rate(self) -> float:
        return self.agreed / self.decided if self.decided else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Agreement:
    decided: int
    agreed: int
    by_dispute_type: tuple[Row, ...]
    by_deciding_rule: tuple[Row, ...]
    by_fired_rule: tuple[Row, ...]
    overrides: tuple[tuple[str, str, int], ...]  # (recommended, decided, count), most first

    @property
    def rate(self) -> float:
        return self.agreed / self.decided if self.decided else 0.0


def compare(ruling: Ruling, decision: Decision, dispute_type: str) -> Comparison:
    """A recommendation (ruling/1) and the decision recorded for the same case."""
    return Comparison(
        case_id=ruling.case_id,
        dispute_type=dispute_type,
        recommended=ruling.ruling,
        recommended_refund=ruling.refund_amount,
        recommended_compensation=ruling.compensation_amount,
        deciding_rule=ruling.decided_by,
        fired_rules=ruling.fired_rules,
        decided=decision.ruling,
        decided_refund=decision.refund_amount,
        decided_compensation=decision.compensation_amount,
    )


def keeps(decision: Decision, ruling: Ruling) -> bool:
    """Whether ``decision`` keeps the recommendation ``ruling`` (``compare(...).agrees``
    without building the Comparison: the batch asks it of every recorded case)."""
    return _keeps(
        decision.ruling,
        decision.refund_amount,
        decision.compensation_amount,
        ruling.ruling,
        ruling.refund_amount,
        ruling.compensation_amount,
    )


def _keeps(
    decided: str,
    refund: Decimal | None,
    compensation: Decimal | None,
    recommended: str,
    recommended_refund: Decimal,
    recommended_compensation: Decimal,
) -> bool:
    """The same ruling, and the amounts the decision records (None: not recorded)."""
    return (
        decided == recommended
        and refund in (None, recommended_refund)
        and compensation in (None, recommended_compensation)
    )


def _rows(items: list[Comparison], keys: Callable[[Comparison], Iterable[str]]) -> tuple[Row, ...]:
    decided: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    for item in items:
        for key in set(keys(item)):
            decided[key] += 1
            agreed[key] += item.agrees
    rows = [Row(key=key, decided=n, agreed=agreed[key]) for key, n in decided.items()]
    # the least agreed first (what to look at), then the most decided, then by name
    return tuple(sorted(rows, key=lambda row: (row.rate, -row.decided, row.key)))


def agreement(comparisons: Iterable[Comparison]) -> Agreement:
    """Agreement figures over decided cases."""
    items = list(comparisons)
    overrides = Counter((c.recommended, c.decided) for c in items if not c.agrees)
    return Agreement(
        decided=len(items),
        agreed=sum(item.agrees for item in items),
        by_dispute_type=_rows(items, lambda c: (c.dispute_type,)),
        by_deciding_rule=_rows(items, lambda c: (c.deciding_rule,) if c.deciding_rule else ()),
        by_fired_rule=_rows(items, lambda c: c.fired_rules),
        overrides=tuple(
            (rec, dec, n)
            for (rec, dec), n in sorted(overrides.items(), key=lambda x: (-x[1], x[0]))
        ),
    )
