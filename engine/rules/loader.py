"""rules/*.yaml -> Program: read every file, validate every section, compile every expression.

All problems of all files are collected and raised together as one ``RuleFileError``, each
located at ``file:line:col`` with the offending line and, where it helps, a "did you mean".
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.errors import Problem, RuleFileError
from engine.model import SourceLoc
from engine.rules.expr import ExprError, Scope, parse_condition, parse_duration, parse_value
from engine.rules.program import (
    RESERVED_FIELDS,
    Alias,
    Atom,
    Const,
    Derived,
    DisputeType,
    Effect,
    EvidenceKind,
    Expr,
    FieldRef,
    Issue,
    Parameter,
    ParamValue,
    Profile,
    Program,
    Requirement,
    Rule,
    Text,
    Type,
)
from engine.rules.schema import (
    APPEAL_FIELDS,
    CASE_FIELDS,
    DISPUTE_FIELDS,
    EVIDENCE_FIELDS,
    ISSUE_FIELDS,
    ORDER_FIELDS,
    PARTIES,
    RULINGS,
    SINGLETONS,
    TYPES,
)
from engine.rules.strata import assign_strata
from engine.yamlsource import LList, LMap, YamlError, load_located

__all__ = ["load_rules"]

SECTIONS = (
    "policy",
    "parameters",
    "profiles",
    "derived",
    "evidence_kinds",
    "issues",
    "dispute_types",
    "rules",
)
RULE_KEYS = ("id", "title", "source", "match", "dispute_type", "when", "then", "reason")
THEN_KEYS = (
    "reject", "meets", "supports", "opposes", "weight", "of", "ruling", "priority",
    "reason_code", "refund", "compensation", "return_required", "return_shipping_paid_by",
    "next_step", "appealable", "warning", "substitute",
)  # fmt: skip
PARAM_TYPES = ("duration", "money", "number", "integer", "text", "boolean", "list")
ANY_KIND, ANY_ISSUE = "any", "any_issue"


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


@dataclass
class _Ctx:
    """Collects problems and source lines while one rules directory is read."""

    problems: list[Problem] = field(default_factory=list)
    lines: dict[str, list[str]] = field(default_factory=dict)
    silent: int = 0  # problems that follow from one already reported

    def error(self, loc: SourceLoc, message: str, hint: str = "", caret: int = -1) -> None:
        snippet = ""
        lines = self.lines.get(loc.path, [])
        if 0 < loc.line <= len(lines):
            snippet = lines[loc.line - 1].rstrip()
            stripped = snippet.lstrip()
            if caret < 0 and loc.column > 0:
                caret = loc.column - 1 - (len(snippet) - len(stripped))
            elif caret >= 0:
                caret -= len(snippet) - len(stripped)
            snippet = stripped
        if caret < 0 or caret > len(snippet):
            caret = -1
        if caret < 0 and hint:
            self.problems.append(Problem(loc, message, snippet=snippet, hint=hint))
        else:
            self.problems.append(Problem(loc, message, snippet=snippet, caret=caret, hint=hint))

    def expr_error(self, loc: SourceLoc, text: str, exc: ExprError) -> None:
        """Locate an error inside an expression string written at ``loc``."""
        if exc.silent:
            self.silent += 1
            return
        lines = self.lines.get(loc.path, [])
        line = lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""
        start = line.find(text.strip()) if text.strip() else -1
        if start < 0:
            self.error(loc, exc.message, exc.hint)
            return
        column = start + exc.offset - (len(text) - len(text.lstrip())) + 1
        at = SourceLoc(path=loc.path, line=loc.line, column=column)
        self.error(at, exc.message, exc.hint, caret=column - 1)


def _text(ctx: _Ctx, node: Any, parent: LMap, key: str, *, required: bool = True) -> Text | None:
    if node is None:
        if required:
            ctx.error(
                parent.key_loc(key) if key in parent else parent.loc,
                f"'{key}' needs both texts, zh and en",
                "write {zh: ..., en: ...}",
            )
        return None
    if isinstance(node, str):
        ctx.error(
            parent.value_loc(key),
            f"'{key}' needs both texts, zh and en",
            "write {zh: ..., en: ...}",
        )
        return None
    if not isinstance(node, LMap) or not all(
        isinstance(node.get(k), str) and node.get(k) for k in ("zh", "en")
    ):
        ctx.error(
            parent.value_loc(key),
            f"'{key}' needs both texts, zh and en",
            "write {zh: ..., en: ...}",
        )
        return None
    _unknown_keys(ctx, node, ("zh", "en", "source"))
    return Text(zh=node["zh"], en=node["en"])


def _unknown_keys(ctx: _Ctx, node: LMap, allowed: tuple[str, ...]) -> None:
    for key in node:
        if key not in allowed:
            hint = _did_you_mean(key, list(allowed)) or f"allowed: {', '.join(allowed)}"
            ctx.error(node.key_loc(key), f"unknown key '{key}'", hint)


def _read_files(root: Path, ctx: _Ctx) -> list[tuple[str, LMap]]:
    docs: list[tuple[str, LMap]] = []
    if not root.is_dir():
        ctx.problems.append(Problem(SourceLoc(path=str(root)), "rules directory not found"))
        return docs
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")):
        rel = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            ctx.problems.append(Problem(SourceLoc(path=rel), f"cannot read: {exc}"))
            continue
        ctx.lines[rel] = text.splitlines()
        try:
            data = load_located(text, rel)
        except YamlError as exc:
            for problem in exc.problems:
                if problem.loc is not None:
                    ctx.error(problem.loc, problem.message, problem.hint)
                else:
                    ctx.problems.append(problem)
            continue
        if data is None:
            continue
        if not isinstance(data, LMap):
            ctx.error(
                SourceLoc(path=rel, line=1, column=1),
                "a rule file holds a mapping of sections",
                f"sections: {', '.join(SECTIONS)}",
            )
            continue
        _unknown_keys(ctx, data, SECTIONS)
        docs.append((rel, data))
    return docs


def _digest(root: Path) -> tuple[str, tuple[tuple[str, str], ...]]:
    total = hashlib.sha256()
    files = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")):
        data = path.read_bytes()
        rel = path.relative_to(root).as_posix()
        files.append((rel, hashlib.sha256(data).hexdigest()))
        total.update(rel.encode() + b"\0" + data + b"\0")
    return "sha256:" + total.hexdigest(), tuple(files)


def load_rules(root: str | Path) -> Program:
    """Load, validate and compile every rule file under ``root``."""
    root = Path(root)
    ctx = _Ctx()
    docs = _read_files(root, ctx)
    builder = _Builder(ctx, docs)
    program = builder.build(root)
    if ctx.problems or program is None:
        raise RuleFileError(ctx.problems)
    return program


def _merged(ctx: _Ctx, docs: list[tuple[str, LMap]], section: str) -> list[tuple[str, Any, LMap]]:
    """(name, value, owning mapping) for every entry of a mapping section, across files."""
    seen: dict[str, SourceLoc] = {}
    out: list[tuple[str, Any, LMap]] = []
    for _, doc in docs:
        body = doc.get(section)
        if body is None:
            continue
        if not isinstance(body, LMap):
            ctx.error(doc.value_loc(section), f"'{section}' must be a mapping of names")
            continue
        for name, value in body.items():
            if name in seen:
                ctx.error(
                    body.key_loc(name),
                    f"{section[:-1] if section.endswith('s') else section}"
                    f" '{name}' is defined twice (first at {seen[name]})",
                )
                continue
            seen[name] = body.key_loc(name)
            out.append((name, value, body))
    return out


class _Builder:
    def __init__(self, ctx: _Ctx, docs: list[tuple[str, LMap]]) -> None:
        self.ctx = ctx
        self.docs = docs
        self.params: dict[str, Parameter] = {}
        self.derived_types: dict[str, Type] = {}
        self.kinds: dict[str, EvidenceKind] = {}
        self.requirements: dict[str, Requirement] = {}
        self.issues: dict[str, Issue] = {}
        self.dispute_types: dict[str, DisputeType] = {}
        self.predicates: list[Any] = []
        self.failed_derived: set[str] = set()

    # ------------------------------------------------------------ scopes

    def scope(self, aliases: dict[str, Alias], *, values: bool) -> Scope:
        fields: dict[str, dict[str, Type]] = {}
        dispute_fields = dict(DISPUTE_FIELDS)
        dispute_fields["type"] = Type("enum", tuple(self.dispute_types) or ("",))
        base = {
            "order": ORDER_FIELDS,
            "dispute": dispute_fields,
            "appeal": APPEAL_FIELDS,
            "case": {**CASE_FIELDS, **self.derived_types},
            "param": {name: p.type for name, p in self.params.items()},
        }
        all_aliases = {name: Alias(name=name, fact_type=name) for name in SINGLETONS}
        all_aliases.update(aliases)
        for name, alias in all_aliases.items():
            if alias.fact_type in base:
                fields[name] = dict(base[alias.fact_type])
            elif alias.fact_type == "evidence":
                table = dict(EVIDENCE_FIELDS)
                kind = self.kinds.get(alias.kind or "")
                if kind is not None:
                    table.update(dict(kind.attributes))
                fields[name] = table
            elif alias.fact_type == "issue":
                fields[name] = dict(ISSUE_FIELDS)
        return Scope(
            aliases=all_aliases,
            fields=fields,
            predicates=self.predicates,
            allow_values=values,
            failed=frozenset(self.failed_derived),
        )

    def cond(self, text: Any, loc: SourceLoc, scope: Scope) -> list[list[Atom]] | None:
        if not isinstance(text, str):
            self.ctx.error(loc, 'a condition must be text, e.g. "evidence.copy_no == 1"')
            return None
        try:
            return parse_condition(text, scope)
        except ExprError as exc:
            self.ctx.expr_error(loc, text, exc)
            return None

    def value(
        self, text: Any, loc: SourceLoc, scope: Scope, want: tuple[str, ...] = ()
    ) -> Expr | None:
        try:
            expr = parse_value(text, scope)
        except ExprError as exc:
            self.ctx.expr_error(loc, str(text), exc)
            return None
        if want and expr.type.name not in want:
            self.ctx.error(loc, f"expected a {' or '.join(want)} here, this is {expr.type}")
            return None
        return expr

    # ------------------------------------------------------------ sections

    def build(self, root: Path) -> Program | None:
        policy = self.policy()
        self.parameters()
        profiles = self.profiles()
        self.evidence_kinds()
        self.declare_issues()
        self.declare_dispute_types()
        derived = self.derived()
        rules = self.rules()
        if self.ctx.problems or self.ctx.silent:
            return None
        self.check_requirements(rules)
        if self.ctx.problems:
            return None
        derived, rules, strata_info = assign_strata(derived, rules, self.kinds, self.ctx.error)
        if self.ctx.problems:
            return None
        digest, files = _digest(root)
        return Program(
            name=policy["name"],
            version=policy["version"],
            digest=digest,
            timezone=policy["timezone"],
            appeal_deadline=policy.get("appeal_deadline"),
            parameters=tuple(self.params.values()),
            profiles=profiles,
            derived=tuple(derived),
            evidence_kinds=tuple(self.kinds.values()),
            requirements=tuple(self.requirements.values()),
            issues=tuple(self.issues.values()),
            dispute_types=tuple(self.dispute_types.values()),
            rules=tuple(rules),
            predicates=tuple(self.predicates),
            strata=strata_info.rounds,
            fields=_fields_read(rules, derived),
            status_strata=strata_info.status,
            issue_stratum=strata_info.issue,
            files=files,
        )

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
        _unknown_keys(self.ctx, body, ("name", "version", "timezone", "appeal_deadline", "title"))
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
        for name, body, owner in _merged(self.ctx, self.docs, "parameters"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"parameter '{name}' must be a mapping (title, type, values)")
                continue
            _unknown_keys(self.ctx, body, ("title", "type", "values", "unit", "source"))
            title = _text(self.ctx, body.get("title"), body, "title")
            ptype = body.get("type")
            if ptype not in PARAM_TYPES:
                self.ctx.error(
                    body.value_loc("type") if "type" in body else loc,
                    f"parameter type must be one of {', '.join(PARAM_TYPES)}",
                    _did_you_mean(str(ptype), list(PARAM_TYPES)),
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
        _unknown_keys(self.ctx, entry, ("since", "value", "platform", "profile", "source"))
        since = entry.get("since")
        if not isinstance(since, str) or not _is_date(since):
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
        value = _param_value(raw, type_)
        if value is None:
            self.ctx.error(
                entry.value_loc("value") if "value" in entry else loc,
                f"value of '{name}' must be a {type_.name}",
                "durations are written like 72h or 3d" if type_.name == "duration" else "",
            )
            return None
        return ParamValue(
            since=since, value=value, platform=platform, profile=entry.get("profile"), loc=loc
        )

    def profiles(self) -> tuple[Profile, ...]:
        out = []
        for name, body, owner in _merged(self.ctx, self.docs, "profiles"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"profile '{name}' must be a mapping")
                continue
            _unknown_keys(self.ctx, body, ("title", "since", "until", "platform", "source"))
            title = _text(self.ctx, body.get("title"), body, "title")
            dates = {}
            for key in ("since", "until"):
                value = body.get(key)
                if value is not None and (not isinstance(value, str) or not _is_date(value)):
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
                        _did_you_mean(value.profile, sorted(declared)),
                    )
        return tuple(out)

    def evidence_kinds(self) -> None:
        for name, body, owner in _merged(self.ctx, self.docs, "evidence_kinds"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"evidence kind '{name}' must be a mapping")
                continue
            _unknown_keys(self.ctx, body, ("title", "attributes", "requires", "source"))
            title = _text(self.ctx, body.get("title"), body, "title")
            attributes: list[tuple[str, Type]] = []
            attrs = body.get("attributes") or LMap()
            if not isinstance(attrs, LMap):
                self.ctx.error(body.value_loc("attributes"), "attributes: a mapping name: type")
                attrs = LMap()
            for attr, spec in attrs.items():
                type_ = _attribute_type(spec)
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
                        _did_you_mean(str(spec), list(TYPES)) or f"one of: {', '.join(names)}",
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
                text = _text(self.ctx, spec, requires, rid)
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
        scope = self.scope({}, values=True)
        for name, body, owner in _merged(self.ctx, self.docs, "issues"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"issue '{name}' must be a mapping")
                continue
            _unknown_keys(self.ctx, body, ("title", "standard", "lower_bound", "margin", "source"))
            title = _text(self.ctx, body.get("title"), body, "title")
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
        for name, body, owner in _merged(self.ctx, self.docs, "dispute_types"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"dispute type '{name}' must be a mapping")
                continue
            _unknown_keys(self.ctx, body, ("title", "burden", "source"))
            title = _text(self.ctx, body.get("title"), body, "title")
            burden = body.get("burden") or LMap()
            burdens = []
            if not isinstance(burden, LMap):
                self.ctx.error(body.value_loc("burden"), "burden: a mapping issue: party")
                burden = LMap()
            for issue, party in burden.items():
                if issue not in self.issues:
                    self.ctx.error(
                        burden.key_loc(issue),
                        f"unknown issue '{issue}'",
                        _did_you_mean(issue, sorted(self.issues)),
                    )
                elif party not in ("buyer", "seller"):
                    self.ctx.error(burden.value_loc(issue), "the burden is on buyer or seller")
                else:
                    burdens.append((issue, party))
            if title is not None:
                self.dispute_types[name] = DisputeType(
                    name=name, title=title, burdens=tuple(burdens), loc=loc
                )

    def derived(self) -> list[Derived]:
        entries = _merged(self.ctx, self.docs, "derived")
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
            _unknown_keys(
                self.ctx, body, ("value", "latest", "earliest", "count", "where", "source", "title")
            )
            aggregates = [k for k in ("latest", "earliest", "count") if k in body]
            if "value" in body and not aggregates:
                expr = self.value(
                    body["value"], body.value_loc("value"), self.scope({}, values=True)
                )
                return (
                    None if expr is None else Derived(name=name, type=expr.type, expr=expr, loc=loc)
                )
            if len(aggregates) != 1:
                self.ctx.error(
                    loc,
                    f"derived value '{name}' needs 'value', or one of latest, "
                    "earliest, count with 'where'",
                )
                return None
            agg = aggregates[0]
            scope = self.scope(
                {"evidence": Alias(name="evidence", fact_type="evidence")}, values=True
            )
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
        expr = self.value(body, owner.value_loc(name), self.scope({}, values=True))
        return None if expr is None else Derived(name=name, type=expr.type, expr=expr, loc=loc)

    # ------------------------------------------------------------ rules

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
        _unknown_keys(self.ctx, raw, RULE_KEYS)
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not _is_kebab(rule_id):
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
        reason = _text(self.ctx, raw.get("reason"), raw, "reason")
        matched_before = len(self.ctx.problems)
        aliases = self.match(raw)
        if len(self.ctx.problems) > matched_before:
            return None  # conditions on an alias that is not bound would only repeat the error
        scope = self.scope(aliases, values=True)
        alternatives: list[list[Atom]] = [[]]
        if "dispute_type" in raw:
            alternatives = self.dispute_scope(raw)
        when = raw.get("when")
        conditions = [when] if isinstance(when, str) else when
        when_text: list[str] = []
        if when is not None and not isinstance(conditions, list):
            self.ctx.error(raw.value_loc("when"), "'when' is a condition or a list of conditions")
            conditions = []
        for i, cond in enumerate(conditions or []):
            cloc = when.item_loc(i) if isinstance(when, LList) else raw.value_loc("when")
            dnf = self.cond(cond, cloc, scope)
            if dnf is None:
                continue
            when_text.append(cond)
            alternatives = [a + b for a in alternatives for b in dnf]
        effects = self.effects(raw, aliases, scope, rule_id)
        if len(self.ctx.problems) > errors_before or reason is None:
            return None
        used = _aliases_used(alternatives, effects)
        bound = [Alias(name=n, fact_type=n) for n in SINGLETONS if n in used]
        bound += list(aliases.values())
        if not bound:
            bound = [Alias(name="dispute", fact_type="dispute")]
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
            when_text=tuple(when_text),
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
                    _did_you_mean(str(name), sorted(self.dispute_types)),
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
                    _did_you_mean(str(target), options),
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
        _unknown_keys(self.ctx, then, THEN_KEYS)
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
                            _did_you_mean(str(req), options),
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
                        _did_you_mean(str(issue), sorted(self.issues)),
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
            else:
                out.append(Effect(kind="substitute", substitutes=tuple(subs.items())))
        return out

    def ruling_effect(self, then: LMap, scope: Scope) -> Effect | None:
        ruling = then["ruling"]
        if ruling not in RULINGS:
            self.ctx.error(
                then.value_loc("ruling"),
                f"unknown ruling '{ruling}'",
                _did_you_mean(str(ruling), list(RULINGS)) or f"one of: {', '.join(RULINGS)}",
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
                _unknown_keys(self.ctx, step, ("party", "what", "until"))
                party = step.get("party")
                if party not in PARTIES:
                    self.ctx.error(
                        step.value_loc("party") if "party" in step else step.loc,
                        "next_step.party is buyer, seller or platform",
                    )
                what = _text(self.ctx, step.get("what"), step, "what")
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

    def check_requirements(self, rules: list[Rule]) -> None:
        met = {req for rule in rules for e in rule.effects for req in e.requirements}
        for req in self.requirements.values():
            if req.id not in met:
                self.ctx.error(
                    req.loc,
                    f"no rule meets requirement '{req.id}', so no "
                    f"'{req.kind}' item can ever be valid",
                    f"add a rule with then: {{meets: {req.id}}}",
                )
        if getattr(self, "_appeal_deadline_loc", None) is not None:
            name = self.policy_appeal_deadline()
            if name not in self.derived_types or self.derived_types[name].name != "time":
                self.ctx.error(
                    self._appeal_deadline_loc,
                    f"appeal_deadline names a derived time value, not '{name}'",
                    _did_you_mean(str(name), sorted(self.derived_types)),
                )

    def policy_appeal_deadline(self) -> str:
        for _, doc in self.docs:
            body = doc.get("policy")
            if isinstance(body, LMap) and "appeal_deadline" in body:
                return str(body["appeal_deadline"])
        return ""


# ---------------------------------------------------------------- helpers


def _is_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _is_kebab(text: str) -> bool:
    return bool(text) and all(
        part.isalnum() and part.isascii() and part == part.lower() for part in text.split("-")
    )


def _param_value(raw: Any, type_: Type) -> Any:
    name = type_.name
    if name == "duration":
        return parse_duration(raw) if isinstance(raw, str) else None
    if name in ("money", "number"):
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return None
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            return None
    if name == "integer":
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if name == "boolean":
        return raw if isinstance(raw, bool) else None
    if name == "text":
        return raw if isinstance(raw, str) else None
    if name == "list":
        if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            return tuple(raw)
        return None
    return None


def _attribute_type(spec: Any) -> Type | None:
    if isinstance(spec, str):
        return TYPES.get(spec)
    if isinstance(spec, LMap) and len(spec) == 1:
        ((key, values),) = spec.items()
        if (
            key in ("enum", "list")
            and isinstance(values, list)
            and all(isinstance(v, str) for v in values)
        ):
            return Type(key, tuple(values))
    return None


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


def _fields_read(
    rules: list[Rule], derived: list[Derived]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        types = {a.name: a.fact_type for a in rule.aliases}
        for atoms in rule.alternatives:
            for atom in atoms:
                for ref in (atom.left, atom.right):
                    if isinstance(ref, FieldRef):
                        wanted.setdefault(types[ref.alias], set()).add(ref.fact_field)
    for item in derived:
        for atoms in item.where:
            for atom in atoms:
                for ref in (atom.left, atom.right):
                    if isinstance(ref, FieldRef):
                        fact_type = "evidence" if ref.alias == "evidence" else ref.alias
                        wanted.setdefault(fact_type, set()).add(ref.fact_field)
    return tuple((k, tuple(sorted(v))) for k, v in sorted(wanted.items()))


_ = (Const, Callable)  # re-exported names used in type positions only
