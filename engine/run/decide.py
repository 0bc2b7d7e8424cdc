"""Firings -> evidence statuses, issue results and the Ruling, independent of firing order.

Everything here works on the *set* of firings: an item is admitted when no rule rejected it,
valid when admitted and every requirement of its kind was met by some rule; an issue's score is
the weight of its strongest valid supporting item; the outcome is the fired ruling of highest
priority (two different outcomes at the top priority are a conflict in the rules, an error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.cases.slotted import maker
from engine.errors import EngineError
from engine.model import Evidence, Firing
from engine.rules.program import Effect, Expr, Rule
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
from engine.run.findings import (
    ZERO,
    as_decimal,
    case_warnings,
    item_marks,
    money,
    quoted,
    quotes,
    read_findings,
    round_score,
    side_items,
    strongest,
)
from engine.run.params import policy_timezone
from engine.run.readings import read_min, requirement_fields
from engine.run.results import EvidenceStatus, IssueResult

__all__ = ["Decider"]

_OUTCOMES_CACHED = 10_000  # sets of fired outcome rules whose decision is kept
_FINDINGS_CACHED = 10_000  # findings (of items, of issues) kept to be given again
ONE = Decimal("1")
_NOTHING: frozenset[str] = frozenset()
# Ruling(...) by keyword, without its frozen __init__ (one object.__setattr__ a field: 2 µs)
_RULING: Callable[..., Ruling] = maker(Ruling)
_ISSUE_RESULT: Callable[..., IssueResult] = maker(IssueResult)
_NEXT_STEP: Callable[..., NextStep] = maker(NextStep)
_REASON: Callable[..., Reason] = maker(Reason)
# what a rule's firing says of an item it targets: the mark's number, the rule, the alias bound
# to the item, the requirements of it met, and the (issue, weight) of each score it gives it
_ItemMark = tuple[int, str, str, frozenset[str], tuple[tuple[str | None, Expr | None], ...]]
# what makes an evidence finding: item, kind, admitted, valid, unconfirmed, weight and its sign,
# the numbers of the marks the firings made on the item, in order
_FindingKey = tuple[str, str, bool, bool, bool, Decimal, bool, tuple[int, ...]]
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
        self._quoting_rules = {rid for rid, r in self._reasons.items() if quotes(r)}
        self._quoting_requirements = {rid for rid, r in self._unmet.items() if quotes(r)}
        self._quoting = self._quoting_rules | self._quoting_requirements
        self._touched = requirement_fields(program)
        self._by_kind: dict[str, dict[str, tuple[Effect, ...]]] = {}
        for rule in program.rules:
            for effect in rule.effects:
                by_rule = self._by_kind.setdefault(effect.kind, {})
                by_rule[rule.id] = (*by_rule.get(rule.id, ()), effect)
        # what the per-case steps look up, by name, instead of searching the Program's lists
        self._index = {rule.id: rule.index for rule in program.rules}
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
        # per rule, the rulings each of its substitute effects replaces (old -> new), and the effect
        self._substitutions = {
            rule_id: tuple((dict(e.substitutes), e) for e in effects)
            for rule_id, effects in self._by_kind.get("substitute", {}).items()
        }
        self._warning_rules = frozenset(self._by_kind.get("warning", {}))
        self._refs: dict[str | None, RulesRef] = {}  # by profile
        self._outcomes: dict[frozenset[str], tuple[Rule, Effect]] = {}
        self._issue_aliases = {
            rule.id: frozenset(a.name for a in rule.aliases if a.fact_type == "issue")
            for rule in program.rules
        }
        # per rule, what its firing says of the items it targets; and each such mark by number
        self._item_marks: dict[str, tuple[_ItemMark, ...]] = {}
        self._marks: list[_ItemMark] = []
        for rule in program.rules:
            for alias, meets, gives in item_marks(rule):
                mark = (len(self._marks), rule.id, alias, meets, gives)
                self._marks.append(mark)
                self._item_marks[rule.id] = (*self._item_marks.get(rule.id, ()), mark)
        self._findings: dict[_FindingKey, EvidenceFinding] = {}  # see _finding
        self._issue_findings: dict[tuple[str, str, str, Decimal, bool, str], IssueFinding] = {}

    def _reason(self, rule_id: str, prepared: Prepared) -> Reason:
        """A rule's reason as a ruling gives it: its quoted parameters as in force for the case."""
        reason = self._reasons[rule_id]
        return quoted(reason, prepared) if rule_id in self._quoting_rules else reason

    def _unmet_reason(self, requirement: str, prepared: Prepared) -> Reason:
        """Why an item fails a requirement, its quoted parameters as in force for the case."""
        reason = self._unmet[requirement]
        return quoted(reason, prepared) if requirement in self._quoting_requirements else reason

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
        unconfirmed_of = prepared.unconfirmed
        for item in prepared.case.evidence:
            required = requires.get(item.kind)
            admitted = item.id not in rejected
            item_met = met.get(item.id, _NOTHING)
            valid = admitted and required is not None and required <= item_met
            unsure = unconfirmed_of.get(item.id) if unconfirmed_of else None
            unconfirmed = False
            if unsure and admitted and required is not None and not valid:
                failed = required - item_met
                unconfirmed = all(self._touched.get(rid, _NOTHING) & unsure for rid in failed)
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
                standard = as_decimal(self.plan.evaluate(issue.standard, env))
                results.append(_ISSUE_RESULT(
                    issue=name, burden=burden, standard=standard, lower_bound=ZERO, margin=ZERO,
                    score=ZERO, against=ZERO, status="skipped", supporting=(), opposing=(),
                ))  # fmt: skip
                continue
            lower = as_decimal(self.plan.evaluate(issue.lower_bound, env))
            pro: list[tuple[Decimal, str]] = []
            con: list[tuple[Decimal, str]] = []
            for supports, key, weight_expr in scored.get(name, ()):
                item = statuses[key]
                if not (item.valid or item.unconfirmed):
                    continue
                weight = as_decimal(self.plan.evaluate(weight_expr, env)) if weight_expr else ZERO
                if not item.valid:  # unconfirmed readings: inconclusive at most
                    weight = min(weight, lower)
                (pro if supports else con).append((weight, key))
            score = strongest(pro)
            against = strongest(con)
            standard = as_decimal(self.plan.evaluate(issue.standard, env))
            margin = as_decimal(self.plan.evaluate(issue.margin, env))
            if score > ZERO and against > ZERO and abs(score - against) < margin:
                status = "contested"
            elif score >= standard and score > against:
                status = "proven"
            elif score >= lower and score > against:
                status = "inconclusive"
            else:
                status = "not_proven"
            results.append(
                _ISSUE_RESULT(
                    issue=name,
                    burden=burden,
                    standard=standard,
                    lower_bound=lower,
                    margin=margin,
                    score=score,
                    against=against,
                    status=status,
                    supporting=side_items(pro),
                    opposing=side_items(con),
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
        distinct = firings if isinstance(firings, (set, frozenset)) else set(firings)
        firings = sorted(distinct, key=lambda f: (index[f.rule_id], f.bindings))
        case = prepared.case
        env = prepared.env
        outcome_rule, effect = self._outcome(case.case_id, firings)
        ruling = effect.ruling or ""
        refund_expr, compensation_expr = effect.refund, effect.compensation
        return_required = effect.return_required
        substituted_by = ""
        substitutions = self._substitutions
        for firing in firings if substitutions else ():
            for replacing, sub in substitutions.get(firing.rule_id, ()):
                if ruling not in replacing:
                    continue
                ruling = replacing[ruling]
                substituted_by = firing.rule_id
                refund_expr = sub.refund or refund_expr
                compensation_expr = sub.compensation or compensation_expr
                if sub.overrides_return:
                    return_required = sub.return_required
        refund = money(self.plan.evaluate(refund_expr, env)) if refund_expr else ZERO
        compensation = (
            money(self.plan.evaluate(compensation_expr, env)) if compensation_expr else ZERO
        )
        # the score of the issues the deciding rule looked at (1 for a procedural or objective
        # outcome, which looks at none)
        issue_aliases = self._issue_aliases[outcome_rule.id]
        score = ONE
        if issue_aliases:
            decided_on = {
                key.removeprefix("issue:")
                for firing in firings
                if firing.rule_id == outcome_rule.id
                for alias, key in firing.bindings
                if alias in issue_aliases
            }
            score = max([r.score for r in issues if r.issue in decided_on], default=ZERO)
        next_step = None
        if effect.next_step_party and effect.next_step_what:
            until = (
                self.plan.evaluate(effect.next_step_until, env) if effect.next_step_until else None
            )
            what = prepared.params.quote(effect.next_step_what)
            next_step = _NEXT_STEP(
                party=effect.next_step_party,
                what=_REASON(rule=outcome_rule.id, zh=what.zh, en=what.en),
                until=self._time(until),
            )
        appeal_deadline = None
        if effect.appealable and self.program.appeal_deadline:
            appeal_deadline = self._time(env["case"].get(self.program.appeal_deadline))
        # sorted, so that the order of evidence items never changes a ruling
        warnings = case_warnings(prepared)
        if self._warning_rules:
            warnings += self._rule_warnings(firings, prepared)
        appeal = None
        if case.dispute.appeal is not None and ruling != "appeal_rejected":
            appeal = "confirmed" if ruling == case.dispute.appeal.ruling else "changed"
        return _RULING(
            case_id=case.case_id,
            rules=self._rules_ref(prepared.params.profile),
            ruling=ruling,
            reason_code=effect.reason_code or outcome_rule.id,
            refund_amount=refund,
            compensation_amount=compensation,
            return_required=return_required,
            return_shipping_paid_by=effect.return_shipping_paid_by,
            score=round_score(score),
            issues=tuple([self._issue_finding(r) for r in issues]),
            evidence=self._evidence(prepared, firings, statuses, issues),
            fired_rules=tuple(dict.fromkeys([f.rule_id for f in firings])),
            next_step=next_step,
            appeal_deadline=appeal_deadline,
            warnings=tuple(warnings),
            appeal=appeal,
            decided_by=outcome_rule.id,
            substituted_by=substituted_by,
        )

    def _rule_warnings(self, firings: list[Firing], prepared: Prepared) -> list[Reason]:
        """The reasons of the warning rules that fired, each once, in the order of the rules."""
        warning_rules = self._warning_rules
        fired = dict.fromkeys([f.rule_id for f in firings if f.rule_id in warning_rules])
        return [self._reason(rule_id, prepared) for rule_id in fired]

    def _issue_finding(self, result: IssueResult) -> IssueFinding:
        """An issue's finding, made once for each issue, burden, standard, score and status."""
        score, standard = result.score, result.standard
        # Decimals equal in value may be written differently (0.7, 0.70; -0 and 0): the key
        # holds the standard's text and the score's sign (rounding gives it its exponent)
        key = (result.issue, result.burden, str(standard), score, score.is_signed(), result.status)
        finding = self._issue_findings.get(key)
        if finding is None:
            finding = IssueFinding(
                issue=result.issue,
                burden=result.burden,
                standard=standard,
                score=round_score(score),
                met=result.status == "proven",
                status=result.status,
            )
            if len(self._issue_findings) < _FINDINGS_CACHED:
                self._issue_findings[key] = finding
        return finding

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
        fired = frozenset([f.rule_id for f in firings if f.rule_id in deciding])
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
        marked: dict[str, list[int]] = {}  # item -> the marks the firings made on it, in order
        weights: dict[str, Decimal] = {}
        item_marks = self._item_marks
        for firing in firings:
            for number, _, alias, _, scores in item_marks.get(firing.rule_id, ()):
                key = firing.key_of(alias) or ""
                numbers = marked.get(key)
                if numbers is None:
                    marked[key] = [number]
                else:
                    numbers.append(number)
                for issue, weight_expr in scores:
                    if issue in in_play:
                        weight = (
                            as_decimal(self.plan.evaluate(weight_expr, prepared.env))
                            if weight_expr
                            else ZERO
                        )
                        weights[key] = max(weights.get(key, ZERO), weight)
        out = []
        for item in prepared.case.evidence:
            status = statuses[item.id]
            weight = weights.get(item.id, ZERO)
            if status.unconfirmed:  # counts at the lowest lower bound at most
                weight = min(weight, min([r.lower_bound for r in issues], default=ZERO))
            elif not status.valid:
                weight = ZERO
            numbers = marked.get(item.id)
            marks = tuple(numbers) if numbers else ()
            if item.read:
                # the least confidence that counts: only items read from files need it
                reads = read_findings(item.read, read_min(prepared.params.values))
                out.append(self._new_finding(prepared, item, status, weight, marks, reads))
            else:
                out.append(self._finding(prepared, item, status, weight, marks))
        return tuple(out)

    def _finding(
        self,
        prepared: Prepared,
        item: Evidence,
        status: EvidenceStatus,
        weight: Decimal,
        marks: tuple[int, ...],
    ) -> EvidenceFinding:
        """The finding of an item read from no file: the same for every case in which the item
        has its kind, status and weight and the firings made these marks on it, unless a text
        quotes parameters; so each is made once."""
        key = (
            item.id,
            item.kind,
            status.admitted,
            status.valid,
            status.unconfirmed,
            weight,  # not rounded: weights are few objects, each hashed once
            weight.is_signed(),  # -0 equals 0 but is written "-0.0"
            marks,
        )
        finding = self._findings.get(key)
        if finding is None:
            finding = self._new_finding(prepared, item, status, weight, marks, ())
            if len(self._findings) < _FINDINGS_CACHED and not self._quotes_any(finding):
                self._findings[key] = finding
        return finding

    def _new_finding(
        self,
        prepared: Prepared,
        item: Evidence,
        status: EvidenceStatus,
        weight: Decimal,
        marks: tuple[int, ...],
        read: tuple[ReadFinding, ...],
    ) -> EvidenceFinding:
        """An item's finding: an invalid item says first what it failed, then what it met and
        would have shown (each rule's reason once)."""
        met: set[str] = set()
        rules: dict[str, None] = {}
        for number in marks:
            _, rule_id, _, meets, _ = self._marks[number]
            met |= meets
            rules[rule_id] = None
        kind = self.plan.kinds.get(item.kind)
        required = kind.requirements if kind is not None else ()
        unmet = [rid for rid in required if rid not in met]
        return EvidenceFinding(
            id=item.id,
            admitted=status.admitted,
            valid=status.valid,
            weight=round_score(weight),
            reasons=(
                *(self._unmet_reason(rid, prepared) for rid in unmet),
                *(self._reason(rid, prepared) for rid in rules),
            ),
            read=read,
            unconfirmed=status.unconfirmed,
        )

    def _quotes_any(self, finding: EvidenceFinding) -> bool:
        """Whether any of the finding's reasons quotes parameters (filled in for its case)."""
        quoting = self._quoting
        return any(r.rule in quoting for r in finding.reasons) if quoting else False

    def _time(self, value: Any) -> str | None:
        """A moment as a ruling gives it: ISO 8601 in the policy's time zone."""
        if not isinstance(value, datetime):
            return None
        return value.astimezone(self.tz).isoformat()

