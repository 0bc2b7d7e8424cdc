"""What a decision may award: for each ruling, the largest refund and compensation the rules
give that ruling on this case, read off the Program, never written here.

A ruling's amounts come from the outcome rules that conclude it (``then: {ruling, refund,
compensation}``) and from the substitutions that turn another ruling into it (an exchange for a
return and refund, with its own amounts). Each such expression is evaluated on the scored
case's values (``case.refund_due`` is the claim capped at ``item_amount + shipping_fee``, for
instance); the ceiling is the largest. A ruling no rule gives an amount to allows none:
``pay_seller`` carries no refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.rules.program import Expr, Program
from engine.run.scoring import Scored, Scorer
from engine.run.values import round_money

__all__ = ["Ceiling", "ceilings"]

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Ceiling:
    refund: Decimal
    compensation: Decimal
    rules: tuple[str, ...]  # the rules the amounts come from, for the message


def _formulas(program: Program) -> dict[str, list[tuple[Expr | None, Expr | None, str]]]:
    """ruling -> (refund, compensation, rule id) of every way the rules reach it."""
    out: dict[str, list[tuple[Expr | None, Expr | None, str]]] = {}
    for rule in program.rules:
        for effect in rule.effects:
            if effect.kind == "ruling" and effect.ruling:
                out.setdefault(effect.ruling, []).append(
                    (effect.refund, effect.compensation, rule.id)
                )
    for rule in program.rules:
        for effect in rule.effects:
            if effect.kind != "substitute":
                continue
            for source, target in effect.substitutes:
                for refund, compensation, _ in list(out.get(source, ())):
                    out.setdefault(target, []).append(
                        (effect.refund or refund, effect.compensation or compensation, rule.id)
                    )
    return out


def ceilings(scorer: Scorer, scored: Scored) -> dict[str, Ceiling]:
    """For every ruling the rules can give, the most it may refund and compensate on the case
    ``scored``; a ruling not in the result (or with no amount formula) allows 0."""
    env = scored.prepared.env
    out: dict[str, Ceiling] = {}
    for ruling, ways in _formulas(scorer.program).items():
        refunds, compensations, rules = [ZERO], [ZERO], []
        for refund, compensation, rule_id in ways:
            for expr, into in ((refund, refunds), (compensation, compensations)):
                if expr is None:
                    continue
                try:
                    value = scorer.plan.evaluate(expr, env)
                except (ArithmeticError, TypeError, ValueError):
                    continue  # a value this case does not have: this way does not apply
                if value is not None:
                    into.append(round_money(Decimal(value)))
                    rules.append(rule_id)
        out[ruling] = Ceiling(
            refund=max(refunds),
            compensation=max(compensations),
            rules=tuple(dict.fromkeys(rules)),
        )
    return out
