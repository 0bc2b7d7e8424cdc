"""Ruling + Scored + Program -> the context of an explanation report: plain data, no wording.

The templates ``reports/report.md.j2`` and ``reports/report.html.j2`` turn this context into
words, from the message catalogue and the rules' bilingual texts. For a party (``buyer`` or
``seller``) the context leaves out what only the arbitrator sees: scores, weights, standards,
rule ids, sources and the trace. Those keys are absent, not empty, so a template that used them
for a party would fail (StrictUndefined) instead of leaking them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.explain.trace import trace_of
from engine.explain.whatif import Fix, MissingEvidence, Outcome, Step, WhatIf
from engine.model import Firing
from engine.rules.program import Atom, FieldRef, Program, Rule, Text
from engine.rules.schema import APPEAL_FIELDS, DISPUTE_FIELDS, ORDER_FIELDS, SINGLETONS
from engine.rules.semantics import atom_holds
from engine.run.facts import singleton_bindings
from engine.run.params import policy_timezone
from engine.run.scoring import Scored

__all__ = ["AUDIENCES", "report_context"]

AUDIENCES = ("arbitrator", "buyer", "seller")
_EVENT_SOURCES = (("order", ORDER_FIELDS), ("dispute", DISPUTE_FIELDS), ("appeal", APPEAL_FIELDS))
_RELATIONS = {-1: "before", 0: "at", 1: "after"}


def report_context(
    program: Program, scored: Scored, whatif: WhatIf | None, audience: str = "arbitrator"
) -> dict[str, Any]:
    """Everything a report shows about one scored case, for one audience."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    return _Context(program, scored, audience).build(whatif or WhatIf())


def _bilingual(title: str) -> dict[str, str]:
    """A rule title written "中文 / English" as {zh, en}."""
    zh, sep, en = title.partition(" / ")
    return {"zh": zh.strip(), "en": en.strip()} if sep else {"zh": title, "en": title}


def _text(text: Text) -> dict[str, str]:
    return {"zh": text.zh, "en": text.en}


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _shown(value: Any) -> Any:
    """A value of a case file as the templates show it: text, yes/no, a list, or records."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        if value and all(_is_record(v) for v in value):
            return [{str(k): _shown(v) for k, v in record} for record in value]
        return [_shown(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _is_record(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) for pair in value
    )


class _Context:
    def __init__(self, program: Program, scored: Scored, audience: str) -> None:
        self.program = program
        self.scored = scored
        self.ruling = scored.ruling
        self.case = scored.prepared.case
        self.env = scored.prepared.env
        self.audience = audience
        self.internal = audience == "arbitrator"
        self.tz = policy_timezone(program)
        self.rules: dict[str, Rule] = {rule.id: rule for rule in program.rules}
        self.fired = {firing.rule_id for firing in scored.firings}
        self.events = self._events()
        self.deadlines = self._deadlines()
        self.relevant = self._relevant()

    def build(self, whatif: WhatIf) -> dict[str, Any]:
        ruling = self.ruling
        out: dict[str, Any] = {
            "audience": self.audience,
            "internal": self.internal,
            "case": self._case(),
            "ruling": self._ruling(),
            "decided_by": self._rule_ref(ruling.decided_by),
            "timeline": self._timeline(),
            "comparisons": self._comparisons(),
            "checks": self._checks(),
            "issues": [self._issue(i) for i in range(len(self.scored.issues))],
            "evidence": [self._evidence(item.id) for item in self.case.evidence],
            "whatif": self._whatif(whatif),
            "warnings": [
                {"zh": w.zh, "en": w.en, **({"rule": w.rule} if self.internal else {})}
                for w in ruling.warnings
            ],
            "rules": {
                "name": ruling.rules.name,
                "version": ruling.rules.version,
                "digest": ruling.rules.digest,
                "profile": ruling.rules.profile,
                "profile_title": self._profile_title(ruling.rules.profile),
                "day": self.scored.prepared.params.day,
                "platform": self.case.platform,
                "timezone": self.program.timezone,
            },
        }
        if self.internal:
            out["score"] = _number(ruling.score)
            out["confidence"] = self._confidence(whatif)
            out["trace"] = self._trace()
        return out

    # ------------------------------------------------------------ the case and the ruling

    def _time(self, value: Any) -> str | None:
        if isinstance(value, datetime):
            return value.astimezone(self.tz).isoformat()
        return None

    def _case(self) -> dict[str, Any]:
        case = self.case
        order, dispute = case.order, case.dispute
        dtype = self.program.dispute_type(dispute.type)
        appeal = dispute.appeal
        return {
            "case_id": case.case_id,
            "platform": case.platform,
            "order": {
                "order_id": order.order_id,
                "item": order.item,
                "item_amount": _money(order.item_amount),
                "shipping_fee": _money(order.shipping_fee),
                "goods_type": order.goods_type,
                "recipient_name": order.recipient_name,
                "courier": order.courier,
                "tracking_no": order.tracking_no,
            },
            "dispute": {
                "type": dispute.type,
                "type_title": _text(dtype.title)
                if dtype
                else {"zh": dispute.type, "en": dispute.type},
                "service": dispute.service,
                "claimed_amount": _money(dispute.claimed_amount),
                "reason": dispute.reason,
            },
            "appeal": None
            if appeal is None
            else {
                "party": appeal.party,
                "ruling": appeal.ruling,
                "filed_at": self._time(appeal.filed_at),
                "ruled_at": self._time(appeal.ruled_at),
            },
        }

    def _ruling(self) -> dict[str, Any]:
        ruling = self.ruling
        step = ruling.next_step
        return {
            "ruling": ruling.ruling,
            "reason_code": ruling.reason_code,
            "refund_amount": _money(ruling.refund_amount),
            "compensation_amount": _money(ruling.compensation_amount),
            "has_refund": ruling.refund_amount > 0,
            "has_compensation": ruling.compensation_amount > 0,
            "return_required": ruling.return_required,
            "return_shipping_paid_by": ruling.return_shipping_paid_by,
            "appeal": ruling.appeal,
            "appeal_deadline": ruling.appeal_deadline,
            "next_step": None
            if step is None
            else {"party": step.party, "what": {"zh": step.what.zh, "en": step.what.en},
                  "until": step.until},
        }  # fmt: skip

    def _rule_ref(self, rule_id: str) -> dict[str, Any]:
        rule = self.rules.get(rule_id)
        if rule is None:
            return {"reason": {"zh": "", "en": ""}, "title": {"zh": "", "en": ""}}
        reason = _text(self.scored.prepared.params.quote(rule.reason))
        out: dict[str, Any] = {"reason": reason, "title": _bilingual(rule.title)}
        if self.internal:
            out.update({"rule": rule.id, "source": rule.source, "at": str(rule.loc)})
        return out

    def _profile_title(self, name: str | None) -> dict[str, str] | None:
        for profile in self.program.profiles:
            if profile.name == name:
                return _text(profile.title)
        return None

    # ------------------------------------------------------------ procedural facts

    def _events(self) -> dict[tuple[str, str], datetime]:
        events: dict[tuple[str, str], datetime] = {}
        for alias, table in _EVENT_SOURCES:
            for name, type_ in table.items():
                value = self.env.get(alias, {}).get(name)
                if type_.name == "time" and isinstance(value, datetime):
                    events[(alias, name)] = value
        return events

    def _deadlines(self) -> dict[str, datetime]:
        derived = {d.name for d in self.program.derived if d.type.name == "time"}
        return {
            name: value
            for name, value in self.env.get("case", {}).items()
            if name in derived and isinstance(value, datetime)
        }

    def _comparison(self, atom: Atom) -> tuple[str, str, str] | None:
        """(alias, field, derived name) when ``atom`` compares an event of the case with a
        derived time of it."""
        if atom.op not in ("lt", "le", "gt", "ge", "eq"):
            return None
        refs = [s for s in (atom.left, atom.right) if isinstance(s, FieldRef)]
        if len(refs) != 2 or any(ref.alias not in SINGLETONS for ref in refs):
            return None
        event = next((r for r in refs if (r.alias, r.field) in self.events), None)
        limit = next((r for r in refs if r.alias == "case" and r.field in self.deadlines), None)
        if event is None or limit is None:
            return None
        return (event.alias, event.field, limit.field)

    def _relevant(self) -> list[tuple[Atom, ...]]:
        """The alternatives of every rule whose other tests about the case as a whole hold:
        their comparisons of events with deadlines are what this case is judged on."""
        bound = singleton_bindings(self.scored.prepared)
        out = []
        for rule in self.program.rules:
            for atoms in rule.alternatives:
                if all(
                    self._comparison(atom) is not None
                    or any(alias not in SINGLETONS for alias in atom.aliases())
                    or atom_holds(atom, bound)
                    for atom in atoms
                ):
                    out.append(atoms)
        return out

    def _timeline(self) -> list[dict[str, Any]]:
        """The case's own dates, and the derived times the rules judge it by, in order."""
        names = {
            ref.field
            for atoms in self.relevant
            for atom in atoms
            for ref in (atom.left, atom.right)
            if isinstance(ref, FieldRef) and ref.alias == "case" and ref.field in self.deadlines
        }
        if self.ruling.appeal_deadline and self.program.appeal_deadline in self.deadlines:
            names.add(self.program.appeal_deadline)
        rows = [
            {"source": alias, "name": name, "at": self._time(value), "sort": value}
            for (alias, name), value in self.events.items()
        ]
        rows += [
            {"source": "case", "name": name, "at": self._time(self.deadlines[name]),
             "sort": self.deadlines[name]}
            for name in names
        ]  # fmt: skip
        rows.sort(key=lambda row: (row["sort"], row["source"] == "case", row["name"]))
        for row in rows:
            del row["sort"]
        return rows

    def _comparisons(self) -> list[dict[str, Any]]:
        """Each event of the case compared with a derived time a relevant rule compares it
        with: whether it came before, at or after it (deadlines met or missed)."""
        pairs = dict.fromkeys(
            found
            for atoms in self.relevant
            for atom in atoms
            if (found := self._comparison(atom)) is not None
        )
        out = []
        for alias, name, deadline in pairs:
            when, limit = self.events[(alias, name)], self.deadlines[deadline]
            relation = _RELATIONS[(when > limit) - (when < limit)]
            out.append({
                "source": alias, "name": name, "at": self._time(when),
                "deadline": deadline, "deadline_at": self._time(limit), "relation": relation,
            })  # fmt: skip
        return out

    def _checks(self) -> list[dict[str, Any]]:
        """The admission checks: outcome rules about the case as a whole (no evidence, no
        issue, any dispute type), and whether each applied."""
        out = []
        has_appeal = self.case.dispute.appeal is not None
        for rule in self.program.rules:
            if not any(e.kind == "ruling" for e in rule.effects):
                continue
            if any(a.fact_type not in SINGLETONS for a in rule.aliases):
                continue
            atoms = [atom for alternative in rule.alternatives for atom in alternative]
            if any(a.left.alias == "dispute" and a.left.field == "type" for a in atoms):
                continue
            if not has_appeal and any(a.left.alias == "appeal" for a in atoms):
                continue
            check: dict[str, Any] = {
                "applies": rule.id in self.fired,
                "title": _bilingual(rule.title),
                "reason": _text(self.scored.prepared.params.quote(rule.reason)),
            }
            if self.internal:
                check.update({"rule": rule.id, "source": rule.source, "at": str(rule.loc)})
            out.append(check)
        return out

    # ------------------------------------------------------------ issues and evidence

    def _issue(self, index: int) -> dict[str, Any]:
        result = self.scored.issues[index]
        issue = self.program.issue(result.issue)
        out: dict[str, Any] = {
            "issue": result.issue,
            "title": _text(issue.title) if issue else {"zh": result.issue, "en": result.issue},
            "burden": result.burden,
            "status": result.status,
            "supporting": list(result.supporting),
            "opposing": list(result.opposing),
        }
        if self.internal:
            out.update({
                "standard": _number(result.standard), "lower_bound": _number(result.lower_bound),
                "margin": _number(result.margin), "score": _number(result.score),
                "against": _number(result.against),
            })  # fmt: skip
        return out

    def _evidence(self, item_id: str) -> dict[str, Any]:
        item = next(e for e in self.case.evidence if e.id == item_id)
        finding = next(f for f in self.ruling.evidence if f.id == item_id)
        kind = self.program.kind(item.kind)
        reasons = []
        for reason in finding.reasons:
            rule = self.rules.get(reason.rule or "")
            requirement = self.program.requirement(reason.rule or "")
            # the decider adds an unmet requirement as its id with the requirement's own text
            said = self.scored.prepared.params.quote(requirement.unmet) if requirement else None
            unmet = said is not None and (reason.zh, reason.en) == (said.zh, said.en)
            effect = "unmet" if unmet else self._effect_of(rule, item_id)
            if effect in ("supports", "opposes") and not finding.valid:
                effect += "_if_valid"  # an invalid item's effect is what it would have shown
            entry: dict[str, Any] = {"effect": effect, "zh": reason.zh, "en": reason.en}
            if self.internal:
                source = requirement if unmet else rule
                entry.update({
                    "rule": reason.rule,
                    "source": source.source if source else "",
                    "at": str(source.loc) if source else "",
                })  # fmt: skip
            reasons.append(entry)
        out: dict[str, Any] = {
            "id": item.id,
            "party": item.party,
            "kind": item.kind,
            "kind_title": _text(kind.title) if kind else None,
            "submitted_at": self._time(item.submitted_at),
            "admitted": finding.admitted,
            "valid": finding.valid,
            "attributes": [{"name": k, "value": _shown(v)} for k, v in item.attributes],
            "files": [f.name for f in item.files],
            "reasons": reasons,
            "read": [
                {
                    "name": r.attribute,
                    "value": _shown(r.value),
                    "file": r.file,
                    "percent": int(round(r.confidence * 100)),
                    "counted": r.counted,
                }
                for r in finding.read
            ],
            "unconfirmed": finding.unconfirmed,
        }
        if self.internal:
            out["weight"] = _number(finding.weight)
        return out

    def _effect_of(self, rule: Rule | None, item_id: str) -> str:
        if rule is None:
            return "other"
        firings: list[Firing] = [f for f in self.scored.firings if f.rule_id == rule.id]
        for effect in rule.effects:
            if effect.target and any(f.key_of(effect.target) == item_id for f in firings):
                return effect.kind
        return "other"

    # ------------------------------------------------------------ what would change the ruling

    def _outcome(self, outcome: Outcome) -> dict[str, Any]:
        return {
            "ruling": outcome.ruling,
            "refund_amount": _money(outcome.refund_amount),
            "compensation_amount": _money(outcome.compensation_amount),
            "has_refund": outcome.refund_amount > 0,
            "has_compensation": outcome.compensation_amount > 0,
            "decided_by": self._rule_ref(outcome.decided_by),
        }

    def _step(self, step: Step) -> dict[str, Any]:
        out: dict[str, Any] = {
            "requirement": step.requirement,
            "met_by": self._rule_ref(step.rule),
            "alternatives": [self._rule_ref(rid) for rid in step.alternatives],
        }
        return out

    def _kind_title(self, name: str) -> dict[str, str]:
        kind = self.program.kind(name)
        return _text(kind.title) if kind else {"zh": name, "en": name}

    def _missing(self, found: MissingEvidence) -> dict[str, Any]:
        issue = self.program.issue(found.issue)
        placeholders = set(found.placeholders)
        return {
            "issue": found.issue,
            "issue_title": _text(issue.title) if issue else {"zh": found.issue, "en": found.issue},
            "side": found.side,
            "party": found.party,
            "kind": found.kind,
            "kind_title": self._kind_title(found.kind),
            "attributes": [
                {"name": name, "value": _shown(value), "placeholder": name in placeholders}
                for name, value in found.attributes
            ],
            "submitted_by": self._time(found.submitted_at),
            "steps": [self._step(step) for step in found.steps],
            "outcome": self._outcome(found.outcome),
        }

    def _fix(self, fix: Fix) -> dict[str, Any]:
        return {
            "requirements": list(fix.requirements),
            "possible": fix.possible,
            "changes": [
                {"attribute": c.attribute, "old": _shown(c.old), "new": _shown(c.new)}
                for c in fix.changes
            ],
            "steps": [self._step(step) for step in fix.steps],
            "valid": fix.valid,
            "outcome": self._outcome(fix.outcome) if fix.outcome else None,
        }

    def _whatif(self, whatif: WhatIf) -> dict[str, Any]:
        parties = {item.id: item.party for item in self.case.evidence}

        def shown(party: str) -> bool:
            return self.internal or party == self.audience

        invalid = []
        for found in whatif.invalid:
            if not shown(parties.get(found.evidence, "")):
                continue
            failed = []
            for rid in found.failed:
                requirement = self.program.requirement(rid)
                entry: dict[str, Any] = {
                    "requirement": rid,
                    "unmet": (
                        _text(self.scored.prepared.params.quote(requirement.unmet))
                        if requirement
                        else {"zh": rid, "en": rid}
                    ),
                }
                if self.internal and requirement:
                    entry.update({"source": requirement.source, "at": str(requirement.loc)})
                failed.append(entry)
            invalid.append({
                "evidence": found.evidence, "kind": found.kind,
                "kind_title": self._kind_title(found.kind), "failed": failed,
                "fixes": [self._fix(fix) for fix in found.fixes],
            })  # fmt: skip
        return {
            "missing": [self._missing(m) for m in whatif.missing if shown(m.party)],
            "invalid": invalid,
        }

    # ------------------------------------------------------------ for the arbitrator only

    def _confidence(self, whatif: WhatIf) -> str:
        """How sure the engine is: ``abstains`` (contested), ``pending`` (waits for evidence),
        ``certain`` (the outcome reads no issue: dates and amounts decide), ``low`` (decided on
        inconclusive evidence after the deadlines), ``medium`` (one attribute of one item would
        change it), ``high``."""
        statuses = {result.issue: result.status for result in self.scored.issues}
        if "contested" in statuses.values():
            return "abstains"
        if self.ruling.next_step is not None:
            return "pending"
        rule = self.rules.get(self.ruling.decided_by)
        read = {a.kind for a in rule.aliases if a.fact_type == "issue"} if rule else set()
        if not read:
            return "certain"
        decisive = [s for name, s in statuses.items() if None in read or name in read]
        if "inconclusive" in decisive:
            return "low"
        fragile = any(
            fix.outcome is not None and len(fix.changes) == 1
            for item in whatif.invalid
            for fix in item.fixes
        )
        return "medium" if fragile else "high"

    def _trace(self) -> dict[str, Any]:
        trace = trace_of(self.program, self.scored)
        titles = {p.name: _text(p.title) for p in self.program.parameters}
        return {
            "day": trace["day"],
            "parameters": [{**p, "title": titles.get(p["name"])} for p in trace["parameters"]],
            "rounds": [
                {"round": r["round"], "facts": len(r["facts"]), "firings": r["firings"]}
                for r in trace["rounds"]
            ],
            "issues": trace["issues"],
        }
