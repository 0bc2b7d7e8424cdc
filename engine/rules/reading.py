"""Reading rule files: located YAML documents, sections merged across files, located problems.

The helpers every part of the loader shares: ``Reader`` collects problems with the offending line
and a caret; small parsers for dates, ids, parameter values and attribute types.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.cases.attributes import parse_duration
from engine.errors import Problem, did_you_mean
from engine.model import SourceLoc, Type
from engine.rules.expr import ExprError
from engine.rules.program import (
    Text,
)
from engine.rules.schema import (
    TYPES,
)
from engine.rules.yamlsource import LMap, YamlError, load_located

SECTIONS = (
    "policy",
    "case_fields",
    "parameters",
    "profiles",
    "derived",
    "evidence_kinds",
    "issues",
    "dispute_types",
    "rules",
    "aliases",
    "service_levels",
)
RULE_KEYS = ("id", "title", "source", "match", "dispute_type", "when", "then", "reason")
THEN_KEYS = (
    "reject", "meets", "supports", "opposes", "weight", "of", "ruling", "priority",
    "reason_code", "refund", "compensation", "return_required", "return_shipping_paid_by",
    "next_step", "appealable", "warning", "substitute",
)  # fmt: skip
PARAM_TYPES = (
    "duration", "money", "number", "integer", "text", "boolean", "list", "working_days",
)  # fmt: skip
ANY_KIND, ANY_ISSUE = "any", "any_issue"


@dataclass
class Reader:
    """Collects problems and source lines while one rules directory is read."""

    problems: list[Problem] = field(default_factory=list)
    lines: dict[str, list[str]] = field(default_factory=dict)
    unreadable: bool = False  # a file that is not YAML: its sections are unknown, so are names
    silent: int = 0  # problems that follow from one already reported

    def error(self, loc: SourceLoc, message: str, hint: str = "", caret: int = -1) -> None:
        lines = self.lines.get(loc.path, [])
        self.problems.append(Problem.at(loc, message, lines, hint=hint, caret=caret))

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


def bilingual(
    ctx: Reader, node: Any, parent: LMap, key: str, *, required: bool = True
) -> Text | None:
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
    unknown_keys(ctx, node, ("zh", "en", "source"))
    return Text(zh=node["zh"], en=node["en"])


def unknown_keys(ctx: Reader, node: LMap, allowed: tuple[str, ...]) -> None:
    for key in node:
        if key not in allowed:
            hint = did_you_mean(key, list(allowed)) or f"allowed: {', '.join(allowed)}"
            ctx.error(node.key_loc(key), f"unknown key '{key}'", hint)


def read_files(root: Path, ctx: Reader) -> list[tuple[str, LMap]]:
    docs: list[tuple[str, LMap]] = []
    if not root.is_dir():
        ctx.problems.append(Problem(SourceLoc(path=str(root)), "rules directory not found"))
        ctx.unreadable = True
        return docs
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")):
        rel = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            ctx.problems.append(Problem(SourceLoc(path=rel), f"cannot read: {exc}"))
            ctx.unreadable = True
            continue
        ctx.lines[rel] = text.splitlines()
        try:
            data = load_located(text, rel)
        except YamlError as exc:
            ctx.unreadable = True
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
        unknown_keys(ctx, data, SECTIONS)
        docs.append((rel, data))
    return docs


def digest_of(root: Path) -> tuple[str, tuple[tuple[str, str], ...]]:
    total = hashlib.sha256()
    files = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")):
        data = path.read_bytes()
        rel = path.relative_to(root).as_posix()
        files.append((rel, hashlib.sha256(data).hexdigest()))
        total.update(rel.encode() + b"\0" + data + b"\0")
    return "sha256:" + total.hexdigest(), tuple(files)


def merged(ctx: Reader, docs: list[tuple[str, LMap]], section: str) -> list[tuple[str, Any, LMap]]:
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


def is_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def is_kebab(text: str) -> bool:
    return bool(text) and all(
        part.isalnum() and part.isascii() and part == part.lower() for part in text.split("-")
    )


def param_value_of(raw: Any, type_: Type) -> Any:
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
    if name == "working_days":  # a count of working days (engine.web.deadlines counts them)
        return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 else None
    if name == "boolean":
        return raw if isinstance(raw, bool) else None
    if name == "text":
        return raw if isinstance(raw, str) else None
    if name == "list":
        if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            return tuple(raw)
        return None
    return None


def attribute_type(spec: Any) -> Type | None:
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
