"""The ``rules:`` section: each rule's match, conditions and effects, compiled and checked."""

from __future__ import annotations

from typing import Any

from engine.errors import did_you_mean
from engine.model import SourceLoc
from engine.rules.building import BuilderBase
from engine.rules.expr import Scope
from engine.rules.limits import MAX_PATTERNS
from engine.rules.program import (
    Alias,
    Atom,
    Effect,
    FieldRef,
    Rule,
)
from engine.rules.reading import (
    ANY_ISSUE,
    ANY_KIND,
    RULE_KEYS,
    THEN_KEYS,
    bilingual,
    is_kebab,
    unknown_keys,
)
from engine.rules.schema import PARTIES, SINGLETONS
from engine.rules.yamlsource import LList, LMap
from engine.ruling import RULINGS


class Rulebook(BuilderBase):
    def rules(self) -> list[Rule]:
        out: list[Rule] = []
        seen: dict[str, SourceLoc] = {}
        for _, doc in self.docs:
            body = doc.get("rules")
            if body is None:
                continue
            if not isinstance(body, LList):
                self.ctx.error(doc.value_loc("rules"), "'rules' must be a list of rules")
                continue
            for i, raw in enumerate(body):
                loc = body.item_loc(i)
                if not isinstance(raw, LMap):
                    self.ctx.error(
                        loc, "a rule is a mapping (id, title, source, when, then, reason)"
                    )
                    continue
                rule_id = raw.get("id")
                if isinstance(rule_id, str) and rule_id in seen:
                    self.ctx.error(
                        raw.value_loc("id"),
                        f"rule id '{rule_id}' is already used at {seen[rule_id]}",
                    )
                    continue
                rule = self.rule(raw, loc, len(out))
                if rule is not None:
                    seen[rule.id] = rule.loc
                    out.append(rule)
        return out

    def rule(self, raw: LMap, loc: SourceLoc, index: int) -> Rule | None:
        errors_before = len(self.ctx.problems)
        unknown_keys(self.ctx, raw, RULE_KEYS)
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not is_kebab(rule_id):
            self.ctx.error(
                raw.value_loc("id") if "id" in raw else loc,
                "a rule needs an id in kebab-case, e.g. receipt-wrong-courier",
            )
            rule_id = "?"
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            self.ctx.error(
                raw.key_loc("title") if "title" in raw else loc, f"rule '{rule_id}' needs a title"
            )
        source = raw.get("source")
        if not isinstance(source, str) or not source.strip():
            self.ctx.error(
                raw.key_loc("source") if "source" in raw else loc,
                f"rule '{rule_id}' needs a source: the seed sentence or the practice it encodes",
            )
        reason = bilingual(self.ctx, raw.get("reason"), raw, "reason")
        self.check_quotes(reason, raw.value_loc("reason") if "reason" in raw else loc)
        matched_before = len(self.ctx.problems)
        aliases = self.match(raw)
        if len(self.ctx.problems) > matched_before:
            return None  # conditions on an alias that is not bound would only repeat the error
        scope = self.scope(aliases)
        alternatives: list[list[Atom]] = [[]]
        if "dispute_type" in raw:
            alternatives = self.dispute_scope(raw)
        when = raw.get("when")
        conditions = [when] if isinstance(when, str) else when
        if when is not None and not isinstance(conditions, list):
            self.ctx.error(raw.value_loc("when"), "'when' is a condition or a list of conditions")
            conditions = []
        for i, cond in enumerate(conditions or []):
            cloc = when.item_loc(i) if isinstance(when, LList) else raw.value_loc("when")
            dnf = self.cond(cond, cloc, scope)
            if dnf is None:
                continue
            alternatives = [a + b for a in alternatives for b in dnf]
        effects = self.effects(raw, aliases, scope, rule_id)
        if len(self.ctx.problems) > errors_before or reason is None:
            return None
        used = _aliases_used(alternatives, effects)
        bound = [Alias(name=n, fact_type=n) for n in SINGLETONS if n in used]
        bound += list(aliases.values())
        if not bound:
            bound = [Alias(name="dispute", fact_type="dispute")]
        if len(bound) > MAX_PATTERNS:
            self.ctx.error(
                loc,
                f"rule '{rule_id}' looks at {len(bound)} facts at once; "
                f"durable_rules takes at most {MAX_PATTERNS}",
                "split it into several rules",
            )
            return None
        return Rule(
            id=rule_id,
            title=str(title),
            source=str(source),
            reason=reason,
            aliases=tuple(bound),
            alternatives=tuple(tuple(_dedupe(a)) for a in alternatives),
            effects=tuple(effects),
            stratum=0,
            index=index,
            loc=raw.value_loc("id") if "id" in raw else loc,
            dispute_types=tuple(map(str, _names(raw.get("dispute_type")))),
            when=tuple(str(c).strip() for c in conditions or ()),
        )

    def dispute_scope(self, raw: LMap) -> list[list[Atom]]:
        value = raw["dispute_type"]
        names = (
            [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
        )
        if not names:
            self.ctx.error(raw.value_loc("dispute_type"), "dispute_type: a name or a list of names")
        for name in names:
            if name not in self.dispute_types:
                self.ctx.error(
                    raw.value_loc("dispute_type"),
                    f"unknown dispute type '{name}'",
                    did_you_mean(str(name), sorted(self.dispute_types)),
                )
        atom = Atom(
            op="in",
            left=FieldRef("dispute", "type"),
            options=tuple(names),
            text=f"dispute.type in {names}",
        )
        return [[atom]]

    def match(self, raw: LMap) -> dict[str, Alias]:
        body = raw.get("match")
        aliases: dict[str, Alias] = {}
        if body is None:
            return aliases
        if not isinstance(body, LMap):
            self.ctx.error(
                raw.value_loc("match"),
                "match: a mapping alias: evidence kind or issue",
                "e.g. match: {evidence: <evidence kind>}",
            )
            return aliases
        for name, target in body.items():
            loc = body.value_loc(name)
            if name in SINGLETONS or not name.isidentifier():
                self.ctx.error(body.key_loc(name), f"'{name}' cannot be used as an alias name")
                continue
            if target == ANY_KIND:
                aliases[name] = Alias(name=name, fact_type="evidence")
            elif target == ANY_ISSUE:
                aliases[name] = Alias(name=name, fact_type="issue")
            elif target in self.kinds:
                aliases[name] = Alias(name=name, fact_type="evidence", kind=target)
            elif target in self.issues:
                aliases[name] = Alias(name=name, fact_type="issue", kind=target)
            else:
                options = [*self.kinds, *self.issues, ANY_KIND, ANY_ISSUE]
                self.ctx.error(
                    loc,
                    f"unknown evidence kind or issue '{target}'",
                    did_you_mean(str(target), options),
                )
        return aliases

    def effects(
        self, raw: LMap, aliases: dict[str, Alias], scope: Scope, rule_id: str
    ) -> list[Effect]:
        then = raw.get("then")
        loc = raw.value_loc("then") if "then" in raw else raw.loc
        if not isinstance(then, LMap) or not then:
            self.ctx.error(
                loc,
                f"rule '{rule_id}' needs 'then': what it concludes",
                "e.g. then: {meets: <requirement>}",
            )
            return []
        unknown_keys(self.ctx, then, THEN_KEYS)
        out: list[Effect] = []
        target = then.get("of", "evidence")
        evidence_keys = [k for k in ("reject", "meets", "supports", "opposes") if k in then]
        if evidence_keys or "of" in then:
            alias = aliases.get(target)
            if alias is None or alias.fact_type != "evidence":
                self.ctx.error(
                    then.value_loc("of") if "of" in then else then.key_loc(evidence_keys[0]),
                    f"'{evidence_keys[0] if evidence_keys else 'of'}' concerns an "
                    f"evidence item, but '{target}' is not bound to one in match:",
                    "e.g. match: {evidence: <evidence kind>}",
                )
                return out
            kind = self.kinds.get(alias.kind or "")
            if then.get("reject") is True:
                out.append(Effect(kind="reject", target=target))
            elif "reject" in then:
                self.ctx.error(then.value_loc("reject"), "reject: true")
            if "meets" in then:
                reqs = then["meets"]
                reqs = (
                    [reqs]
                    if isinstance(reqs, str)
                    else list(reqs)
                    if isinstance(reqs, list)
                    else []
                )
                for req in reqs:
                    if kind is None or req not in kind.requirements:
                        options = list(kind.requirements) if kind else []
                        what = (
                            f"of evidence kind '{kind.name}'"
                            if kind
                            else "(meets needs an alias bound to one evidence kind)"
                        )
                        self.ctx.error(
                            then.value_loc("meets"),
                            f"'{req}' is not a requirement {what}",
                            did_you_mean(str(req), options),
                        )
                out.append(Effect(kind="meets", target=target, requirements=tuple(reqs)))
            for key in ("supports", "opposes"):
                if key not in then:
                    continue
                issue = then[key]
                if issue not in self.issues:
                    self.ctx.error(
                        then.value_loc(key),
                        f"unknown issue '{issue}'",
                        did_you_mean(str(issue), sorted(self.issues)),
                    )
                    continue
                if "weight" not in then:
                    self.ctx.error(
                        then.key_loc(key),
                        f"'{key}' needs a weight",
                        "e.g. weight: param.weight_decisive",
                    )
                    continue
                weight = self.value(
                    then["weight"], then.value_loc("weight"), scope, ("number", "integer")
                )
                out.append(Effect(kind=key, target=target, issue=issue, weight=weight))
        if "ruling" in then:
            effect = self.ruling_effect(then, scope)
            if effect is not None:
                out.append(effect)
        if then.get("warning") is True:
            out.append(Effect(kind="warning"))
        if "substitute" in then:
            subs = then["substitute"]
            if not isinstance(subs, LMap) or not all(
                a in RULINGS and b in RULINGS for a, b in subs.items()
            ):
                self.ctx.error(
                    then.value_loc("substitute"),
                    "substitute: a mapping ruling: replacement ruling",
                    "e.g. substitute: {return_and_refund: exchange}",
                )
            elif "ruling" in then:
                self.ctx.error(
                    then.key_loc("substitute"),
                    "a rule either gives a ruling or substitutes one, not both",
                )
            else:
                amounts = {
                    key: self.value(then[key], then.value_loc(key), scope, ("money",))
                    for key in ("refund", "compensation")
                    if key in then
                }
                out.append(
                    Effect(
                        kind="substitute",
                        substitutes=tuple(subs.items()),
                        refund=amounts.get("refund"),
                        compensation=amounts.get("compensation"),
                        return_required=then.get("return_required") is True,
                        overrides_return="return_required" in then,
                    )
                )
        return out

    def ruling_effect(self, then: LMap, scope: Scope) -> Effect | None:
        ruling = then["ruling"]
        if ruling not in RULINGS:
            self.ctx.error(
                then.value_loc("ruling"),
                f"unknown ruling '{ruling}'",
                did_you_mean(str(ruling), list(RULINGS)) or f"one of: {', '.join(RULINGS)}",
            )
            return None
        priority = then.get("priority", 0)
        if not isinstance(priority, int) or isinstance(priority, bool):
            self.ctx.error(then.value_loc("priority"), "priority is a whole number (higher wins)")
            priority = 0
        amounts = {}
        for key in ("refund", "compensation"):
            if key in then:
                amounts[key] = self.value(then[key], then.value_loc(key), scope, ("money",))
        paid_by = then.get("return_shipping_paid_by")
        if paid_by is not None and paid_by not in ("buyer", "seller"):
            self.ctx.error(then.value_loc("return_shipping_paid_by"), "buyer, seller or null")
        party = what = until = None
        if "next_step" in then:
            step = then["next_step"]
            if not isinstance(step, LMap):
                self.ctx.error(
                    then.value_loc("next_step"), "next_step: {party, what: {zh, en}, until}"
                )
            else:
                unknown_keys(self.ctx, step, ("party", "what", "until"))
                party = step.get("party")
                if party not in PARTIES:
                    self.ctx.error(
                        step.value_loc("party") if "party" in step else step.loc,
                        "next_step.party is buyer, seller or platform",
                    )
                what = bilingual(self.ctx, step.get("what"), step, "what")
                self.check_quotes(what, step.value_loc("what") if "what" in step else step.loc)
                if "until" in step:
                    until = self.value(step["until"], step.value_loc("until"), scope, ("time",))
        for key in ("return_required", "appealable"):
            if key in then and not isinstance(then[key], bool):
                self.ctx.error(then.value_loc(key), f"{key} is true or false")
        return Effect(
            kind="ruling",
            ruling=ruling,
            priority=priority,
            reason_code=then.get("reason_code"),
            refund=amounts.get("refund"),
            compensation=amounts.get("compensation"),
            return_required=then.get("return_required") is True,
            return_shipping_paid_by=paid_by,
            next_step_party=party,
            next_step_what=what,
            next_step_until=until,
            appealable=then.get("appealable", True) is not False,
        )


def _aliases_used(alternatives: list[list[Atom]], effects: list[Effect]) -> set[str]:
    used: set[str] = set()
    for atoms in alternatives:
        for atom in atoms:
            used.update(atom.aliases())
    return used


def _dedupe(atoms: list[Atom]) -> list[Atom]:
    out: list[Atom] = []
    for atom in atoms:
        if atom not in out:
            out.append(atom)
    return out


def _names(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
