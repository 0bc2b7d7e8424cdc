"""The declaration sections of rules/: policy, parameters, profiles, evidence kinds, issues,
dispute types and derived values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import did_you_mean
from engine.model import SourceLoc, Type
from engine.rules.building import BuilderBase
from engine.rules.program import (
    RESERVED_FIELDS,
    Alias,
    Atom,
    CaseField,
    Derived,
    DisputeType,
    EvidenceKind,
    Expr,
    Issue,
    Parameter,
    ParamValue,
    Profile,
    Requirement,
)
from engine.rules.reading import (
    PARAM_TYPES,
    attribute_type,
    bilingual,
    is_date,
    merged,
    param_value_of,
    unknown_keys,
)
from engine.rules.schema import (
    CASE_FIELD_OWNERS,
    CASE_FIELD_TYPES,
    CASE_FIELDS,
    DISPUTE_FIELDS,
    EVIDENCE_FIELDS,
    ORDER_FIELDS,
    TYPES,
)
from engine.rules.yamlsource import LList, LMap


class Declarations(BuilderBase):
    def policy(self) -> dict[str, Any]:
        found: list[tuple[LMap, LMap]] = []
        for _, doc in self.docs:
            if "policy" in doc:
                found.append((doc, doc["policy"]))
        if not found:
            where = SourceLoc(path=self.docs[0][0] if self.docs else "rules")
            self.ctx.error(where, "no 'policy' section (name, version, timezone) in any rule file")
            return {"name": "", "version": "", "timezone": "+08:00"}
        if len(found) > 1:
            self.ctx.error(found[1][0].key_loc("policy"), "'policy' is defined twice")
        doc, body = found[0]
        if not isinstance(body, LMap):
            self.ctx.error(doc.value_loc("policy"), "'policy' must be a mapping")
            return {"name": "", "version": "", "timezone": "+08:00"}
        unknown_keys(self.ctx, body, ("name", "version", "timezone", "appeal_deadline", "title"))
        out: dict[str, Any] = {"timezone": "+08:00"}
        for key in ("name", "version"):
            value = body.get(key)
            if not isinstance(value, (str, int, float)) or not str(value):
                self.ctx.error(body.loc, f"policy '{key}' is required")
            out[key] = str(value)
        timezone = body.get("timezone", "+08:00")
        if not isinstance(timezone, str) or len(timezone) != 6 or timezone[0] not in "+-":
            self.ctx.error(body.value_loc("timezone"), "timezone is a UTC offset such as +08:00")
        else:
            out["timezone"] = timezone
        if "appeal_deadline" in body:
            out["appeal_deadline"] = body["appeal_deadline"]
            self._appeal_deadline_loc = body.value_loc("appeal_deadline")
        return out

    def parameters(self) -> None:
        for name, body, owner in merged(self.ctx, self.docs, "parameters"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"parameter '{name}' must be a mapping (title, type, values)")
                continue
            unknown_keys(self.ctx, body, ("title", "type", "values", "unit", "source"))
            title = bilingual(self.ctx, body.get("title"), body, "title")
            ptype = body.get("type")
            if ptype not in PARAM_TYPES:
                self.ctx.error(
                    body.value_loc("type") if "type" in body else loc,
                    f"parameter type must be one of {', '.join(PARAM_TYPES)}",
                    did_you_mean(str(ptype), list(PARAM_TYPES)),
                )
                continue
            type_ = TYPES[ptype]
            values = body.get("values")
            if not isinstance(values, LList) or not values:
                self.ctx.error(
                    loc,
                    f"parameter '{name}' needs a list of dated values",
                    "values: [{since: 2021-03-18, value: ...}]",
                )
                continue
            parsed = []
            for i, entry in enumerate(values):
                item = self.param_value(name, type_, entry, values.item_loc(i))
                if item is not None:
                    parsed.append(item)
            keys = [(v.since, v.platform) for v in parsed]
            for i, key in enumerate(keys):
                if key in keys[:i]:
                    self.ctx.error(
                        parsed[i].loc,
                        f"two values of '{name}' start on {key[0]}"
                        + (f" for {key[1]}" if key[1] else ""),
                    )
            if title is not None:
                self.params[name] = Parameter(
                    name=name, type=type_, title=title, values=tuple(parsed), loc=loc
                )

    def param_value(self, name: str, type_: Type, entry: Any, loc: SourceLoc) -> ParamValue | None:
        if not isinstance(entry, LMap):
            self.ctx.error(loc, "a dated value is a mapping: {since: YYYY-MM-DD, value: ...}")
            return None
        unknown_keys(self.ctx, entry, ("since", "value", "platform", "profile", "source"))
        since = entry.get("since")
        if not isinstance(since, str) or not is_date(since):
            self.ctx.error(
                entry.value_loc("since") if "since" in entry else loc,
                "'since' must be a date, YYYY-MM-DD (China time)",
            )
            return None
        platform = entry.get("platform")
        if platform is not None and platform not in CASE_FIELDS["platform"].values:
            self.ctx.error(
                entry.value_loc("platform"),
                f"unknown platform '{platform}'",
                f"one of: {', '.join(CASE_FIELDS['platform'].values)}",
            )
        raw = entry.get("value")
        value = param_value_of(raw, type_)
        if value is None:
            self.ctx.error(
                entry.value_loc("value") if "value" in entry else loc,
                f"value of '{name}' must be a {type_.name}",
                "durations are written like 72h or 3d" if type_.name == "duration" else "",
            )
            return None
        return ParamValue(
            since=since,
            value=value,
            platform=platform,
            profile=entry.get("profile"),
            loc=loc,
            text=self.written(entry.value_loc("value"), raw),
        )

    def profiles(self) -> tuple[Profile, ...]:
        out = []
        for name, body, owner in merged(self.ctx, self.docs, "profiles"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"profile '{name}' must be a mapping")
                continue
            unknown_keys(self.ctx, body, ("title", "since", "until", "platform", "source"))
            title = bilingual(self.ctx, body.get("title"), body, "title")
            dates = {}
            for key in ("since", "until"):
                value = body.get(key)
                if value is not None and (not isinstance(value, str) or not is_date(value)):
                    self.ctx.error(body.value_loc(key), f"'{key}' must be a date, YYYY-MM-DD")
                dates[key] = value
            if title is not None:
                out.append(
                    Profile(
                        name=name,
                        title=title,
                        since=dates["since"],
                        until=dates["until"],
                        platform=body.get("platform"),
                        loc=loc,
                    )
                )
        declared = {p.name for p in out}
        for param in self.params.values():
            for value in param.values:
                if value.profile is not None and value.profile not in declared:
                    self.ctx.error(
                        value.loc,
                        f"unknown profile '{value.profile}'",
                        did_you_mean(value.profile, sorted(declared)),
                    )
        return tuple(out)

    def case_fields(self) -> None:
        """``case_fields: {order: {station_allowed: boolean}}``: fields the case files of this
        policy may carry beyond casefile/1, each typed as evidence attributes are."""
        contract = {"order": ORDER_FIELDS, "dispute": DISPUTE_FIELDS}
        for owner, body, section in merged(self.ctx, self.docs, "case_fields"):
            loc = section.key_loc(owner)
            if owner not in CASE_FIELD_OWNERS:
                self.ctx.error(
                    loc,
                    f"case fields belong to the order or the dispute, not '{owner}'",
                    did_you_mean(owner, CASE_FIELD_OWNERS) or "write order: or dispute:",
                )
                continue
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"case_fields: {owner}: a mapping name: type")
                continue
            for name, spec in body.items():
                self._case_field(owner, name, spec, body, contract[owner])

    def _case_field(
        self, owner: str, name: str, spec: Any, body: LMap, contract: Mapping[str, Type]
    ) -> None:
        at = body.key_loc(name)
        title = None
        if isinstance(spec, LMap) and "type" in spec:
            unknown_keys(self.ctx, spec, ("type", "title"))
            if "title" in spec:
                title = bilingual(self.ctx, spec.get("title"), spec, "title")
            spec = spec.get("type")
        type_ = attribute_type(spec)
        previous = self.declared.get((owner, name))
        if not name.isidentifier() or name.startswith("_") or name in RESERVED_FIELDS:
            self.ctx.error(at, f"'{name}' cannot be a field name", "use letters, digits and _")
        elif name in contract:
            self.ctx.error(
                at,
                f"{owner}.{name} is a field of casefile/1 already",
                "declare only fields the contract does not have",
            )
        elif previous is not None:
            self.ctx.error(at, f"{owner}.{name} is declared twice (first at {previous.loc})")
        elif type_ is None or type_.name not in CASE_FIELD_TYPES:
            allowed = [t for t in CASE_FIELD_TYPES if t != "enum"] + ["{enum: [...]}"]
            self.ctx.error(
                body.value_loc(name) if not isinstance(body.get(name), LMap) else at,
                f"a case field cannot be of type {spec!r}",
                did_you_mean(str(spec), list(CASE_FIELD_TYPES)) or f"one of: {', '.join(allowed)}",
            )
        else:
            self.declared[(owner, name)] = CaseField(
                owner=owner, name=name, type=type_, title=title, loc=at
            )

    def evidence_kinds(self) -> None:
        for name, body, owner in merged(self.ctx, self.docs, "evidence_kinds"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"evidence kind '{name}' must be a mapping")
                continue
            unknown_keys(self.ctx, body, ("title", "attributes", "requires", "source", "extract"))
            title = bilingual(self.ctx, body.get("title"), body, "title")
            attributes: list[tuple[str, Type]] = []
            attrs = body.get("attributes") or LMap()
            if not isinstance(attrs, LMap):
                self.ctx.error(body.value_loc("attributes"), "attributes: a mapping name: type")
                attrs = LMap()
            for attr, spec in attrs.items():
                type_ = attribute_type(spec)
                if attr in RESERVED_FIELDS or attr.startswith("__") or not attr.isidentifier():
                    self.ctx.error(
                        attrs.key_loc(attr),
                        f"'{attr}' cannot be an attribute name",
                        "use letters, digits and _; id and sid are reserved",
                    )
                elif attr in EVIDENCE_FIELDS:
                    self.ctx.error(
                        attrs.key_loc(attr),
                        f"'{attr}' is a field of every evidence item and cannot be an attribute",
                    )
                elif type_ is None:
                    names = [*TYPES, "{enum: [...]}", "{list: [...]}"]
                    self.ctx.error(
                        attrs.value_loc(attr),
                        f"unknown attribute type {spec!r}",
                        did_you_mean(str(spec), list(TYPES)) or f"one of: {', '.join(names)}",
                    )
                else:
                    attributes.append((attr, type_))
            reqs: list[str] = []
            requires = body.get("requires") or LMap()
            if not isinstance(requires, LMap):
                self.ctx.error(
                    body.value_loc("requires"), "requires: a mapping id: {zh, en, source}"
                )
                requires = LMap()
            for rid, spec in requires.items():
                rloc = requires.key_loc(rid)
                if rid in self.requirements:
                    self.ctx.error(
                        rloc,
                        f"requirement '{rid}' is already declared at {self.requirements[rid].loc}",
                    )
                    continue
                if not isinstance(spec, LMap):
                    self.ctx.error(
                        rloc,
                        "a requirement needs {zh, en, source}: what is said when no rule meets it",
                    )
                    continue
                text = bilingual(self.ctx, spec, requires, rid)
                self.check_quotes(text, rloc)
                source = spec.get("source")
                if not isinstance(source, str) or not source.strip():
                    self.ctx.error(rloc, f"requirement '{rid}' needs a source")
                if text is not None:
                    self.requirements[rid] = Requirement(
                        id=rid, kind=name, unmet=text, source=str(source), loc=rloc
                    )
                    reqs.append(rid)
            if title is not None:
                self.kinds[name] = EvidenceKind(
                    name=name,
                    title=title,
                    attributes=tuple(attributes),
                    requirements=tuple(reqs),
                    loc=loc,
                )

    def declare_issues(self) -> None:
        scope = self.scope({})
        for name, body, owner in merged(self.ctx, self.docs, "issues"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"issue '{name}' must be a mapping")
                continue
            unknown_keys(self.ctx, body, ("title", "standard", "lower_bound", "margin", "source"))
            title = bilingual(self.ctx, body.get("title"), body, "title")
            exprs: dict[str, Expr] = {}
            for key in ("standard", "lower_bound", "margin"):
                if key not in body:
                    self.ctx.error(loc, f"issue '{name}' needs '{key}'")
                    continue
                expr = self.value(body[key], body.value_loc(key), scope, ("number",))
                if expr is not None:
                    exprs[key] = expr
            if title is not None and len(exprs) == 3:
                self.issues[name] = Issue(
                    name=name,
                    title=title,
                    standard=exprs["standard"],
                    lower_bound=exprs["lower_bound"],
                    margin=exprs["margin"],
                    loc=loc,
                )

    def declare_dispute_types(self) -> None:
        for name, body, owner in merged(self.ctx, self.docs, "dispute_types"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"dispute type '{name}' must be a mapping")
                continue
            unknown_keys(self.ctx, body, ("title", "burden", "source"))
            title = bilingual(self.ctx, body.get("title"), body, "title")
            burden = body.get("burden") or LMap()
            burdens = []
            if not isinstance(burden, LMap):
                self.ctx.error(body.value_loc("burden"), "burden: a mapping issue: party")
                burden = LMap()
            skips = []
            for issue, party in burden.items():
                if isinstance(party, LMap):
                    unknown_keys(self.ctx, party, ("party", "unless"))
                    if "unless" in party:
                        cond = self.cond(party["unless"], party.value_loc("unless"), self.scope({}))
                        if cond is not None:
                            skips.append((issue, tuple(tuple(a) for a in cond)))
                    party = party.get("party")
                if issue not in self.issues:
                    self.ctx.error(
                        burden.key_loc(issue),
                        f"unknown issue '{issue}'",
                        did_you_mean(issue, sorted(self.issues)),
                    )
                elif party not in ("buyer", "seller"):
                    self.ctx.error(burden.value_loc(issue), "the burden is on buyer or seller")
                else:
                    burdens.append((issue, party))
            if title is not None:
                self.dispute_types[name] = DisputeType(
                    name=name, title=title, burdens=tuple(burdens), skips=tuple(skips), loc=loc
                )

    def derived(self) -> list[Derived]:
        entries = merged(self.ctx, self.docs, "derived")
        # types first (a derived value may use another), in dependency order
        pending = {name: (body, owner) for name, body, owner in entries}
        out: list[Derived] = []
        progress = True
        while pending and progress:
            progress = False
            for name in list(pending):
                body, owner = pending[name]
                deps = _derived_refs(body) & set(pending)
                if deps - {name}:
                    continue
                if name in deps:
                    self.ctx.error(owner.key_loc(name), f"derived value '{name}' uses itself")
                    del pending[name]
                    continue
                del pending[name]
                progress = True
                item = self.one_derived(name, body, owner)
                if item is not None:
                    out.append(item)
                    self.derived_types[name] = item.type
                else:
                    self.failed_derived.add(name)
        for name, (_, owner) in pending.items():
            self.ctx.error(owner.key_loc(name), f"derived value '{name}' is part of a cycle")
        return out

    def one_derived(self, name: str, body: Any, owner: LMap) -> Derived | None:
        loc = owner.key_loc(name)
        if name in CASE_FIELDS:
            self.ctx.error(loc, f"'{name}' is a case field and cannot be derived")
            return None
        if isinstance(body, LMap):
            unknown_keys(
                self.ctx,
                body,
                ("value", "when", "latest", "earliest", "count", "where", "source", "title"),
            )
            aggregates = [k for k in ("latest", "earliest", "count") if k in body]
            if "value" in body and not aggregates:
                scope = self.scope({})
                expr = self.value(body["value"], body.value_loc("value"), scope)
                when: list[list[Atom]] | None = [[]]
                if "when" in body:
                    when = self.cond(body["when"], body.value_loc("when"), scope)
                if expr is None or when is None:
                    return None
                return Derived(
                    name=name,
                    type=expr.type,
                    expr=expr,
                    where=tuple(tuple(a) for a in when),
                    loc=loc,
                )
            if "when" in body:
                self.ctx.error(
                    body.key_loc("when"),
                    "'when' goes with 'value'; an aggregate chooses its items with 'where'",
                )
                return None
            if len(aggregates) != 1:
                self.ctx.error(
                    loc,
                    f"derived value '{name}' needs 'value', or one of latest, "
                    "earliest, count with 'where'",
                )
                return None
            agg = aggregates[0]
            scope = self.scope({"evidence": Alias(name="evidence", fact_type="evidence")})
            of = None
            if agg != "count":
                of = self.value(
                    body[agg], body.value_loc(agg), scope, ("time", "money", "number", "integer")
                )
                if of is None:
                    return None
            where: list[list[Atom]] = [[]]
            if "where" in body:
                parsed = self.cond(body["where"], body.value_loc("where"), scope)
                if parsed is None:
                    return None
                where = parsed
            type_ = TYPES["integer"] if of is None else of.type
            return Derived(
                name=name,
                type=type_,
                expr=None,
                aggregate=agg,
                of=of,
                where=tuple(tuple(a) for a in where),
                loc=loc,
            )
        expr = self.value(body, owner.value_loc(name), self.scope({}))
        return None if expr is None else Derived(name=name, type=expr.type, expr=expr, loc=loc)

    # ------------------------------------------------------------ rules


def _derived_refs(body: Any) -> set[str]:
    """Names after 'case.' in a derived value's texts (for ordering derived values)."""
    texts: list[str] = []
    if isinstance(body, str):
        texts.append(body)
    elif isinstance(body, LMap):
        texts.extend(v for v in body.values() if isinstance(v, str))
    names: set[str] = set()
    for text in texts:
        for part in text.split("case.")[1:]:
            name = ""
            for ch in part:
                if ch.isalnum() or ch == "_":
                    name += ch
                else:
                    break
            if name:
                names.add(name)
    return names
