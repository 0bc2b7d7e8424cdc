"""Scored case -> its trace: parameters in force, and each round's facts and firings.

A plain data structure (dicts, lists, strings) for ``--trace`` and the reports; every firing
carries the rule's location in rules/, the facts it matched and what it concluded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.model import Firing
from engine.rules.program import KEY, TYPE, Effect, Program, Rule
from engine.run.scoring import Scored
from engine.run.values import compile_value

__all__ = ["describe_effect", "trace_of"]


def _show(value: Any) -> str:
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        if seconds % 86400 == 0:
            return f"{seconds // 86400}d"
        if seconds % 3600 == 0:
            return f"{seconds // 3600}h"
        return f"{seconds}s"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def describe_effect(effect: Effect, firing: Firing, env: dict[str, dict[str, Any]]) -> str:
    """What one effect of a firing concluded, in one line."""
    target = firing.key_of(effect.target) if effect.target else None
    if effect.kind == "reject":
        return f"evidence {target} not admitted"
    if effect.kind == "meets":
        return f"evidence {target} meets {', '.join(effect.requirements)}"
    if effect.kind in ("supports", "opposes"):
        weight = compile_value(effect.weight)(env) if effect.weight else 0
        return f"evidence {target} {effect.kind} issue {effect.issue} (weight {_show(weight)})"
    if effect.kind == "ruling":
        return f"outcome {effect.ruling} (priority {effect.priority})"
    if effect.kind == "warning":
        return "warning"
    if effect.kind == "substitute":
        return "substitute " + ", ".join(f"{a} -> {b}" for a, b in effect.substitutes)
    return effect.kind


def _firing(rule: Rule, firing: Firing, env: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "rule": rule.id,
        "title": rule.title,
        "at": str(rule.loc),
        "matched": {alias: key for alias, key in firing.bindings},
        "effects": [describe_effect(e, firing, env) for e in rule.effects],
        "source": rule.source,
    }


def trace_of(program: Program, scored: Scored) -> dict[str, Any]:
    prepared = scored.prepared
    rules = {rule.id: rule for rule in program.rules}
    params = []
    for name, entry in sorted(prepared.params.chosen.items()):
        params.append({
            "name": name,
            "value": _show(prepared.params.values[name]),
            "since": entry.since,
            "platform": entry.platform,
            "profile": entry.profile,
            "at": str(entry.loc),
        })  # fmt: skip
    rounds = []
    for round_ in scored.rounds:
        firings = sorted(round_.firings, key=lambda f: (rules[f.rule_id].index, f.bindings))
        rounds.append({
            "round": round_.stratum,
            "facts": [
                {"fact": fact[TYPE], "key": fact[KEY],
                 "fields": {k: v for k, v in fact.items() if k not in (TYPE, KEY)}}
                for fact in round_.facts
            ],
            "firings": [_firing(rules[f.rule_id], f, prepared.env) for f in firings],
        })  # fmt: skip
    derived = {name: _show(value) for name, value in prepared.env["case"].items()}
    return {
        "case_id": prepared.case.case_id,
        "day": prepared.params.day,
        "platform": prepared.params.platform,
        "profile": prepared.params.profile,
        "parameters": params,
        "not_in_force": list(prepared.params.not_in_force),
        "derived": derived,
        "rounds": rounds,
        "issues": [
            {"issue": r.issue, "burden": r.burden, "status": r.status,
             "score": _show(r.score), "against": _show(r.against),
             "standard": _show(r.standard), "supporting": list(r.supporting),
             "opposing": list(r.opposing)}
            for r in scored.issues
        ],
    }  # fmt: skip
