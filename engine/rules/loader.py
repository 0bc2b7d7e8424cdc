"""rules/*.yaml -> Program: read every file, validate every section, compile every expression.

All problems of all files are collected and raised together as one ``RuleFileError``, each
located at ``file:line:col`` with the offending line and, where it helps, a "did you mean".
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import RuleFileError, did_you_mean
from engine.model import SourceLoc
from engine.rules.declarations import Declarations
from engine.rules.extraction import Extraction
from engine.rules.limits import MAX_FIELDS
from engine.rules.program import (
    Derived,
    DisputeType,
    FieldRef,
    Program,
    Rule,
)
from engine.rules.reading import (
    Reader,
    digest_of,
    read_files,
)
from engine.rules.rulebook import Rulebook
from engine.rules.service import ServiceLevels
from engine.rules.strata import assign_strata
from engine.rules.yamlsource import LMap
from engine.shipped import shipped

__all__ = ["load_rules"]

# durable_rules holds at most 254 properties per fact (research 2.8) and crashes beyond: keep a
# margin for the fields the runtime adds (type, key, round, id, sid)


def default_rules() -> Path:
    """The policy shipped with adjudicate (the default of ``--rules`` when ./rules is absent)."""
    return shipped("rules")


def load_rules(root: str | Path) -> Program:
    """Load, validate and compile every rule file under ``root``."""
    root = Path(root)
    ctx = Reader()
    docs = read_files(root, ctx)
    if ctx.unreadable:  # first cause first: what a broken file declares is unknown to the rest
        raise RuleFileError(ctx.problems)
    builder = _Builder(ctx, docs)
    program = builder.build(root)
    if ctx.problems or program is None:
        raise RuleFileError(ctx.problems)
    return program


class _Builder(Declarations, Rulebook, Extraction, ServiceLevels):
    def build(self, root: Path) -> Program | None:
        policy = self.policy()
        self.case_fields()
        self.parameters()
        profiles = self.profiles()
        self.evidence_kinds()
        tables = self.alias_tables()
        self.kind_extracts(tables)
        self.declare_issues()
        self.declare_dispute_types()
        derived = self.derived()
        rules = self.rules()
        service_levels = self.service_levels()
        if self.ctx.problems or self.ctx.silent:
            return None
        self.check_requirements(rules)
        if self.ctx.problems:
            return None
        derived, rules, strata_info = assign_strata(derived, rules, self.kinds, self.ctx.error)
        if self.ctx.problems:
            return None
        fields = _fields_read(rules, derived, list(self.dispute_types.values()))
        for fact_type, names in fields:
            if len(names) > MAX_FIELDS:
                self.ctx.error(
                    SourceLoc(path=str(root)),
                    f"rules read {len(names)} fields of "
                    f"'{fact_type}' facts; durable_rules takes at most {MAX_FIELDS}",
                )
                return None
        digest, files = digest_of(root)
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
            fields=fields,
            status_strata=strata_info.status,
            issue_stratum=strata_info.issue,
            files=files,
            case_fields=tuple(self.declared.values()),
            aliases=tables,
            service_levels=service_levels,
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
                    did_you_mean(str(name), sorted(self.derived_types)),
                )

    def policy_appeal_deadline(self) -> str:
        for _, doc in self.docs:
            body = doc.get("policy")
            if isinstance(body, LMap) and "appeal_deadline" in body:
                return str(body["appeal_deadline"])
        return ""


# ---------------------------------------------------------------- helpers


def _fields_read(
    rules: list[Rule], derived: list[Derived], dispute_types: list[DisputeType]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        types = {a.name: a.fact_type for a in rule.aliases}
        for atoms in rule.alternatives:
            for atom in atoms:
                for ref in (atom.left, atom.right):
                    if isinstance(ref, FieldRef):
                        wanted.setdefault(types[ref.alias], set()).add(ref.fact_field)
    conditions = [item.where for item in derived]
    conditions += [cond for dtype in dispute_types for _, cond in dtype.skips]
    for condition in conditions:
        for atoms in condition:
            for atom in atoms:
                for ref in (atom.left, atom.right):
                    if isinstance(ref, FieldRef):
                        fact_type = "evidence" if ref.alias == "evidence" else ref.alias
                        wanted.setdefault(fact_type, set()).add(ref.fact_field)
    return tuple((k, tuple(sorted(v))) for k, v in sorted(wanted.items()))
