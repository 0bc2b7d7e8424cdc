"""Firings -> evidence statuses, issue results and the Ruling, independent of firing order.

Everything here works on the *set* of firings: an item is admitted when no rule rejected it,
valid when admitted and every requirement of its kind was met by some rule; an issue's score is
the weight of its strongest valid supporting item; the outcome is the fired ruling of highest
priority (two different outcomes at the top priority are a conflict in the rules, an error).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.errors import EngineError
from engine.model import Firing
from engine.rules.program import Effect, Expr, Rule, Text
from engine.rules.semantics import holds
from engine.ruling import (
    EvidenceFinding,
    IssueFinding,
    NextStep,
    ReadFinding,
    Reason,
    RulesRef,
    Ruling,
)
from engine.run.facts import FactPlan, Prepared, singleton_bindings
from engine.run.notices import notice_reason
from engine.run.params import policy_timezone
from engine.run.readings import read_min, requirement_fields
from engine.run.results import EvidenceStatus, IssueResult
from engine.run.values import round_money

__all__ = ["Decider"]

ZERO = Decimal("0")
_OUTCOMES_CACHED = 10_000  # sets of fired outcome rules whose decision is kept
ONE = Decimal("1")
_SCORE_PLACES = Decimal("0.0001")
_NOTHING: frozenset[str] = frozenset()
# the eight possible statuses, made once (frozen, so shared by every case)
_STATUSES = {
    (a, v, u): EvidenceStatus(admitted=a, valid=v, unconfirmed=u)
    for a in (False, True)
    for v in (False, True)
    for u in (False, True)
}


class Decider:
    """Derives statuses, issues and rulings for one program (indexes built once)."""

    def __init__(self, plan: FactPlan) -> None:
        program = plan.program
        self.plan = plan
        self.program = program
        self.rules: dict[str, Rule] = {rule.id: rule for rule in program.rules}
        self.tz = policy_timezone(program)
        # a rule's reason as it appears in rulings: built once, shared by every case
        self._reasons = {
            rule.id: Reason(rule=rule.id, zh=rule.reason.zh, en=rule.reason.en)
            for rule in program.rules
        }
        self._unmet = {
            req.id: Reason(rule=req.id, zh=req.unmet.zh, en=req.unmet.en)
            for req in program.requirements
        }  # why an item fails a requirement it does not meet
        # texts that quote parameters are filled in per case, with the values in force for it
        self._quoting_rules = {rid for rid, r in self._reasons.items() if _quotes(r)}
        self._quoting_requirements = {rid for rid, r in self._unmet.items() if _quotes(r)}
        self._touched = requirement_fields(program)
        self._by_kind: dict[str, dict[str, tuple[Effect, ...]]] = {}
        for rule in program.rules:
            for effect in rule.effects:
                by_rule = self._by_kind.setdefault(effect.kind, {})
                by_rule[rule.id] = (*by_rule.get(rule.id, ()), effect)
        # what the per-case steps look up, by name, instead of searching the Program's lists
        self._index = {rule.id: rule.index for rule in program.rules}
        self._targeted = {
            rule.id: tuple(e for e in rule.effects if e.target is not None)
            for rule in program.rules
        }
        # per rule, what its firing does to an item's status: (target alias, None) rejects the
        # item, (target alias, requirements) meets those requirements of it
        self._status_effects: dict[str, tuple[tuple[str, tuple[str, ...] | None], ...]] = {}
        for rule in program.rules:
            marks = tuple(
                (e.target or "", None if e.kind == "reject" else e.requirements)
                for e in rule.effects
                if e.kind in ("reject", "meets")
            )
            if marks:
                self._status_effects[rule.id] = marks
        self._status_rules = frozenset(self._status_effects)
        # per rule, the items its firing scores for (True) or against (False) an issue
        self._scoring: dict[str, tuple[tuple[str, bool, str, Expr | None], ...]] = {}
        for rule in program.rules:
            scores = tuple(
                (e.issue or "", e.kind == "supports", e.target or "", e.weight)
                for e in rule.effects
                if e.kind in ("supports", "opposes")
            )
            if scores:
                self._scoring[rule.id] = scores
        self._requires = {
            kind.name: frozenset(kind.requirements) for kind in program.evidence_kinds
        }
        self._dispute_types = {d.name: d for d in program.dispute_types}
        self._issues = {issue.name: issue for issue in program.issues}
        self._substitutes = bool(self._by_kind.get("substitute"))
        self._warns = bool(self._by_kind.get("warning"))
        self._refs: dict[str | None, RulesRef] = {}  # by profile
        self._outcomes: dict[frozenset[str], tuple[Rule, Effect]] = {}
        self._issue_aliases = {
            rule.id: frozenset(a.name for a in rule.aliases if a.fact_type == "issue")
            for rule in program.rules
        }

    def _reason(self, rule_id: str, prepared: Prepared) -> Reason:
        """A rule's reason as a ruling gives it: its quoted parameters as in force for the case."""
        reason = self._reasons[rule_id]
        return _quoted(reason, prepared) if rule_id in self._quoting_rules else reason

    def changes_statuses(self, firings: Iterable[Firing]) -> bool:
        """Whether any of these firings rejects an item or meets a requirement."""
        rules = self._status_rules
        for firing in firings:
            if firing.rule_id in rules:
                return True
        return False

    def _effects(self, firings: Iterable[Firing], kind: str) -> Iterable[tuple[Firing, Effect]]:
        by_rule = self._by_kind.get(kind, {})
        for firing in firings:
            for effect in by_rule.get(firing.rule_id, ()):
                yield firing, effect

    # ------------------------------------------------------------ evidence

    def statuses(self, prepared: Prepared, firings: Iterable[Firing]) -> dict[str, EvidenceStatus]:
        rejected: set[str] = set()
        met: dict[str, set[str]] = {}
        status_effects = self._status_effects
        for firing in firings:
            marks = status_effects.get(firing.rule_id)
            if marks is None:
                continue
            for target, requirements in marks:
                key = firing.key_of(target) or ""
                if requirements is None:
                    rejected.add(key)
                else:
                    met.setdefault(key, set()).update(requirements)
        out: dict[str, EvidenceStatus] = {}
        requires = self._requires
        nothing: frozenset[str] = frozenset()
        for item in prepared.case.evidence:
            required = requires.get(item.kind)
            admitted = item.id not in rejected
            item_met = met.get(item.id, nothing)
            valid = admitted and required is not None and required <= item_met
            unsure = prepared.unconfirmed.get(item.id) if prepared.unconfirmed else None
            unconfirmed = False
            if unsure and admitted and required is not None and not valid:
                failed = required - item_met
                unconfirmed = all(self._touched.get(rid, frozenset()) & unsure for rid in failed)
            out[item.id] = _STATUSES[admitted, valid, unconfirmed]
        return out

    # ------------------------------------------------------------ issues

    def issues(
        self,
        prepared: Prepared,
        firings: Iterable[Firing],
        statuses: Mapping[str, EvidenceStatus],
    ) -> tuple[IssueResult, ...]:
        dtype = self._dispute_types.get(prepared.case.dispute.type)
        if dtype is None:
            return ()
        env = prepared.env
        results = []
        skipped = set()
        if dtype.skips:
            bound = singleton_bindings(prepared)
            for name, condition in dtype.skips:
                if holds(condition, bound):
                    skipped.add(name)
        # the items each issue's firings score for or against it, found once for all issues
        scored: dict[str, list[tuple[bool, str, Expr | None]]] = {}
        scoring = self._scoring
        for firing in firings:
            for issue_name, supports, target, weight_expr in scoring.get(firing.rule_id, ()):
                key = firing.key_of(target) or ""
                scored.setdefault(issue_name, []).append((supports, key, weight_expr))
        for name, burden in dtype.burdens:
            issue = self._issues[name]
            if name in skipped:
                standard = _decimal(self.plan.evaluate(issue.standard, env))
                results.append(IssueResult(
                    issue=name, burden=burden, standard=standard, lower_bound=ZERO, margin=ZERO,
                    score=ZERO, against=ZERO, status="skipped", supporting=(), opposing=(),
                ))  # fmt: skip
                continue
            lower = _decimal(self.plan.evaluate(issue.lower_bound, env))
            sides: dict[bool, list[tuple[Decimal, str]]] = {True: [], False: []}
            for supports, key, weight_expr in scored.get(name, ()):
                item = statuses[key]
                if not (item.valid or item.unconfirmed):
                    continue
                weight = _decimal(self.plan.evaluate(weight_expr, env)) if weight_expr else ZERO
                if not item.valid:  # unconfirmed readings: inconclusive at most
                    weight = min(weight, lower)
                sides[supports].append((weight, key))
            score = max((w for w, _ in sides[True]), default=ZERO)
            against = max((w for w, _ in sides[False]), default=ZERO)
            standard = _decimal(self.plan.evaluate(issue.standard, env))
            margin = _decimal(self.plan.evaluate(issue.margin, env))
            if score > 0 and against > 0 and abs(score - against) < margin:
                status = "contested"
            elif score >= standard and score > against:
                status = "proven"
            elif score >= lower and score > against:
                status = "inconclusive"
            else:
                status = "not_proven"
            results.append(
                IssueResult(
                    issue=name,
                    burden=burden,
                    standard=standard,
                    lower_bound=lower,
                    margin=margin,
                    score=score,
                    against=against,
                    status=status,
                    supporting=tuple(sorted({k for _, k in sides[True]})),
                    opposing=tuple(sorted({k for _, k in sides[False]})),
                )  # fmt: skip
            )
        return tuple(results)

    # ------------------------------------------------------------ the ruling

    def ruling(
        self,
        prepared: Prepared,
        firings: Iterable[Firing],
        statuses: Mapping[str, EvidenceStatus],
        issues: tuple[IssueResult, ...],
    ) -> Ruling:
        index = self._index
        firings = sorted(set(firings), key=lambda f: (index[f.rule_id], f.bindings))
        case = prepared.case
        env = prepared.env
        outcome_rule, effect = self._outcome(case.case_id, firings)
        ruling = effect.ruling or ""
        refund_expr, compensation_expr = effect.refund, effect.compensation
        return_required = effect.return_required
        substituted_by = ""
        for firing, sub in self._effects(firings, "substitute") if self._substitutes else ():
            if ruling in dict(sub.substitutes):
                ruling = dict(sub.substitutes)[ruling]
                substituted_by = firing.rule_id
                refund_expr = sub.refund or refund_expr
                compensation_expr = sub.compensation or compensation_expr
                if sub.overrides_return:
                    return_required = sub.return_required
        refund = _money(self.plan.evaluate(refund_expr, env)) if refund_expr else ZERO
        compensation = (
            _money(self.plan.evaluate(compensation_expr, env)) if compensation_expr else ZERO
        )
        # the score of the issues the deciding rule looked at (1 for a procedural or objective
        # outcome, which looks at none)
        issue_aliases = self._issue_aliases[outcome_rule.id]
        decided_on = {
            key.removeprefix("issue:")
            for firing in firings
            if firing.rule_id == outcome_rule.id
            for alias, key in firing.bindings
            if alias in issue_aliases
        }
        scores = [r.score for r in issues if r.issue in decided_on]
        score = max(scores, default=ZERO) if issue_aliases else ONE
        next_step = None
        if effect.next_step_party and effect.next_step_what:
            until = (
                self.plan.evaluate(effect.next_step_until, env) if effect.next_step_until else None
            )
            what = prepared.params.quote(effect.next_step_what)
            next_step = NextStep(
                party=effect.next_step_party,
                what=Reason(rule=outcome_rule.id, zh=what.zh, en=what.en),
                until=self._time(until),
            )
        appeal_deadline = None
        if effect.appealable and self.program.appeal_deadline:
            appeal_deadline = self._time(env["case"].get(self.program.appeal_deadline))
        # sorted, so that the order of evidence items never changes a ruling
        warnings = sorted({notice_reason(n) for n in prepared.warnings}, key=lambda w: w.en)
        seen_warnings = set()
        for firing, _ in self._effects(firings, "warning") if self._warns else ():
            if firing.rule_id in seen_warnings:
                continue
            seen_warnings.add(firing.rule_id)
            warnings.append(self._reason(firing.rule_id, prepared))
        appeal = None
        if case.dispute.appeal is not None and ruling != "appeal_rejected":
            appeal = "confirmed" if ruling == case.dispute.appeal.ruling else "changed"
        return Ruling(
            case_id=case.case_id,
            rules=self._rules_ref(prepared.params.profile),
            ruling=ruling,
            reason_code=effect.reason_code or outcome_rule.id,
            refund_amount=refund,
            compensation_amount=compensation,
            return_required=return_required,
            return_shipping_paid_by=effect.return_shipping_paid_by,
            score=_round_score(score),
            issues=tuple(
                IssueFinding(
                    issue=r.issue,
                    burden=r.burden,
                    standard=r.standard,
                    score=_round_score(r.score),
                    met=r.status == "proven",
                    status=r.status,
                )
                for r in issues
            ),
            evidence=self._evidence(prepared, firings, statuses, issues),
            fired_rules=tuple(dict.fromkeys(f.rule_id for f in firings)),
            next_step=next_step,
            appeal_deadline=appeal_deadline,
            warnings=tuple(warnings),
            appeal=appeal,
            decided_by=outcome_rule.id,
            substituted_by=substituted_by,
        )

    def _rules_ref(self, profile: str | None) -> RulesRef:
        ref = self._refs.get(profile)
        if ref is None:
            program = self.program
            ref = self._refs[profile] = RulesRef(
                name=program.name, version=program.version, digest=program.digest, profile=profile
            )
        return ref

    def _outcome(self, case_id: str, firings: list[Firing]) -> tuple[Rule, Effect]:
        """The deciding rule and its ruling effect: a function of which outcome rules fired,
        worked out once for each such set (a batch meets the same few sets again and again)."""
        deciding = self._by_kind.get("ruling", {})
        fired = frozenset(f.rule_id for f in firings if f.rule_id in deciding)
        found = self._outcomes.get(fired)
        if found is None:
            found = self._choose_outcome(case_id, firings)
            if len(self._outcomes) < _OUTCOMES_CACHED:
                self._outcomes[fired] = found
        return found

    def _choose_outcome(self, case_id: str, firings: list[Firing]) -> tuple[Rule, Effect]:
        candidates: dict[str, Effect] = {}
        for firing, effect in self._effects(firings, "ruling"):
            candidates.setdefault(firing.rule_id, effect)
        if not candidates:
            raise EngineError(
                f"case {case_id}: no outcome rule fired, so the rules give no ruling for it; "
                "add a rule with then: {ruling: ...} that covers this situation"
            )
        top = max(e.priority for e in candidates.values())
        best = [(self.rules[rid], e) for rid, e in candidates.items() if e.priority == top]
        best.sort(key=lambda pair: pair[0].index)
        outcomes = {e.outcome_key() for _, e in best}
        if len(outcomes) > 1:
            listing = ", ".join(f"{r.id} ({e.ruling}, {r.loc})" for r, e in best)
            raise EngineError(
                f"case {case_id}: rules with the same priority {top} give different outcomes: "
                f"{listing}; give one of them a higher priority or make their conditions exclusive"
            )
        return best[0]

    def _evidence(
        self,
        prepared: Prepared,
        firings: list[Firing],
        statuses: Mapping[str, EvidenceStatus],
        issues: tuple[IssueResult, ...],
    ) -> tuple[EvidenceFinding, ...]:
        in_play = {r.issue for r in issues}
        reasons: dict[str, list[Reason]] = {item.id: [] for item in prepared.case.evidence}
        given: set[tuple[str, str]] = set()  # (item, rule): a rule's reason is given once
        weights: dict[str, Decimal] = {}
        met: dict[str, set[str]] = {}
        for firing in firings:
            rule_id = firing.rule_id
            for effect in self._targeted[rule_id]:
                key = firing.key_of(effect.target or "") or ""
                if (key, rule_id) not in given:  # a rule's reason is the same for every effect
                    given.add((key, rule_id))
                    reasons[key].append(self._reason(rule_id, prepared))
                if effect.kind == "meets":
                    met.setdefault(key, set()).update(effect.requirements)
                if effect.kind in ("supports", "opposes") and effect.issue in in_play:
                    weight = (
                        _decimal(self.plan.evaluate(effect.weight, prepared.env))
                        if effect.weight
                        else ZERO
                    )
                    weights[key] = max(weights.get(key, ZERO), weight)
        out = []
        # the least confidence that counts: only items read from files need it
        read = any(item.read for item in prepared.case.evidence)
        minimum = read_min(prepared.params.values) if read else ONE
        lowest = min((r.lower_bound for r in issues), default=ZERO)
        for item in prepared.case.evidence:
            status = statuses[item.id]
            kind = self.plan.kinds.get(item.kind)
            unmet = []
            item_met = met.get(item.id, _NOTHING)
            for rid in kind.requirements if kind is not None else ():
                if rid not in item_met:
                    text = self._unmet[rid]
                    if rid in self._quoting_requirements:
                        text = _quoted(text, prepared)
                    unmet.append(text)
            # an invalid item says first what it failed, then what it met and would have shown
            item_reasons = [*unmet, *reasons[item.id]] if unmet else list(reasons[item.id])
            weight = weights.get(item.id, ZERO)
            if status.unconfirmed:
                weight = min(weight, lowest)
            elif not status.valid:
                weight = ZERO
            out.append(
                EvidenceFinding(
                    id=item.id,
                    admitted=status.admitted,
                    valid=status.valid,
                    weight=_round_score(weight),
                    reasons=tuple(item_reasons),
                    read=tuple(
                        ReadFinding(
                            attribute=r.name,
                            value=r.value,
                            file=r.file,
                            confidence=r.confidence,
                            counted=Decimal(str(r.confidence)) >= minimum,
                        )
                        for r in item.read
                    )
                    if item.read
                    else (),
                    unconfirmed=status.unconfirmed,
                )
            )
        return tuple(out)

    def _time(self, value: Any) -> str | None:
        if not isinstance(value, datetime):
            return None
        return value.astimezone(self.tz).isoformat()


def _decimal(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(value)


def _money(value: Any) -> Decimal:
    return round_money(_decimal(value))


def _round_score(value: Decimal) -> Decimal:
    return value.quantize(_SCORE_PLACES)


def _quotes(reason: Reason) -> bool:
    return "{param." in reason.zh or "{param." in reason.en


def _quoted(reason: Reason, prepared: Prepared) -> Reason:
    text = prepared.params.quote(Text(zh=reason.zh, en=reason.en))
    return Reason(rule=reason.rule, zh=text.zh, en=text.en)
