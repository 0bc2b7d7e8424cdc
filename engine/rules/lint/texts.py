"""L011: reasons and sources that look unfinished (untranslated, identical texts, placeholders)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.rules.lint.findings import Finding
from engine.rules.program import Program

__all__ = ["unfinished_texts"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_PLACEHOLDER = re.compile(r"^\s*(todo|tbd|fixme|xxx|\?+|\.\.\.|…|-+)\s*[:.]?\s*$", re.IGNORECASE)


def unfinished_texts(program: Program) -> Iterator[Finding]:
    for rule in program.rules:
        problems = []
        if _PLACEHOLDER.match(rule.source) or len(rule.source.strip()) < 8:
            problems.append(f"its source {rule.source!r} cites nothing")
        if rule.reason.zh.strip() == rule.reason.en.strip():
            problems.append("its zh and en reasons are the same text")
        else:
            if not _CJK.search(rule.reason.zh):
                problems.append("its zh reason has no Chinese")
            if _CJK.search(rule.reason.en):
                problems.append("its en reason has Chinese in it")
        if problems:
            yield Finding(
                code="L011",
                message=f"rule '{rule.id}': " + "; ".join(problems),
                loc=rule.loc,
                hint="source: the seed sentence or practice it encodes; reason: {zh: 中文, en: "
                "English}",
            )
