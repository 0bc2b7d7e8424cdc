"""Two rule versions on one archive -> what the change flips: per-case rows, counts by
(old ruling -> new ruling) and by the rule ids responsible, and the HTML report.

A case is *changed* when its ruling or one of its amounts differs between the versions. The rules
responsible are those that fired under one version and not the other; when the same rules fire
(a parameter changed, not a rule), it is the outcome rule that decided under the new version.
A case one version cannot score counts as the pseudo-ruling ``error`` on that side.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from engine.cases.dump import case_data
from engine.cases.load import case_from_data
from engine.errors import AdjudicationError
from engine.explain.report import build_report
from engine.model import Case
from engine.rules.program import Program
from engine.ruling import Ruling
from engine.run.scoring import Scorer
from engine.shipped import shipped

__all__ = [
    "EXAMPLES_PER_FLIP",
    "ImpactTally",
    "case_page_name",
    "compare_rulings",
    "render_case_page",
    "render_impact_html",
]

EXAMPLES_PER_FLIP = 10
CHART_ROWS = 20  # flips drawn in the chart; every one is in impact.json
REPORTS_DIR = shipped("reports")


def _brief(result: Ruling | Exception) -> dict[str, Any]:
    if isinstance(result, Exception):
        kind = type(result).__name__
        if not isinstance(result, AdjudicationError):
            kind = f"Internal{kind}"
        return {"ruling": "error", "error": {"type": kind, "message": str(result) or kind}}
    return {
        "ruling": result.ruling,
        "reason_code": result.reason_code,
        "refund_amount": float(result.refund_amount),
        "compensation_amount": float(result.compensation_amount),
    }


def _full(result: Ruling | Exception) -> dict[str, Any]:
    return _brief(result) if isinstance(result, Exception) else result.as_dict()


def compare_rulings(
    case: Case,
    old: Ruling | Exception,
    new: Ruling | Exception,
    responsible: Callable[[], list[str]] | None = None,
) -> dict[str, Any]:
    """The impact row of one case (impact/1, one JSON line per input case). An error under one
    version and a ruling under the other is a change. ``responsible`` names, for a changed case,
    the changes of the rules that explain it (engine.batch.responsible)."""
    before, after = _brief(old), _brief(new)
    keys = ("ruling", "refund_amount", "compensation_amount", "error")
    changed = any(before.get(k) != after.get(k) for k in keys)
    row: dict[str, Any] = {
        "format": "impact/1",
        "case_id": case.case_id,
        "source": str(case.source or ""),
        "dispute_type": case.dispute.type,
        "changed": changed,
        "old": before,
        "new": after,
    }
    if changed:
        row["rules"] = responsible() if responsible is not None else _differ(old, new)
        row["old_ruling"], row["new_ruling"] = _full(old), _full(new)
        try:  # the case as scored (re-dated with --as-of), for its reports in the impact pages
            row["case"] = case_data(case)
        except ValueError:  # an amount JSON cannot hold exactly: the pages show the rulings only
            pass
    return row


def _differ(old: Ruling | Exception, new: Ruling | Exception) -> list[str]:
    fired = [set(r.fired_rules) if isinstance(r, Ruling) else set() for r in (old, new)]
    return sorted(fired[0] ^ fired[1])


class ImpactTally:
    """Counts of an impact run (or shard); ``merge`` adds another one in."""

    def __init__(self) -> None:
        self.cases = 0
        self.lines = 0
        self.errors: Counter[str] = Counter()  # inputs neither version could read
        self.failed: Counter[str] = Counter()  # "old" / "new": cases that are an error there
        self.changed = 0
        self.flips: Counter[str] = Counter()  # "old -> new"
        self.rules: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()  # changed cases by dispute type
        self.examples: dict[str, list[dict[str, Any]]] = {}

    def add(self, case: Case, row: dict[str, Any]) -> None:
        self.cases += 1
        self.lines += 1
        for side in ("old", "new"):
            if row[side]["ruling"] == "error":
                self.failed[side] += 1
        if not row["changed"]:
            return
        self.changed += 1
        flip = f"{row['old']['ruling']} -> {row['new']['ruling']}"
        self.flips[flip] += 1
        self.rules.update(row["rules"])
        self.by_type[case.dispute.type] += 1
        examples = self.examples.setdefault(flip, [])
        if len(examples) < EXAMPLES_PER_FLIP:
            examples.append(row)

    def add_error(self, kind: str) -> None:
        self.cases += 1
        self.lines += 1
        self.errors[kind] += 1
        self.failed.update(("old", "new"))

    def merge(self, other: ImpactTally) -> None:
        self.cases += other.cases
        self.lines += other.lines
        self.errors.update(other.errors)
        self.failed.update(other.failed)
        self.changed += other.changed
        self.flips.update(other.flips)
        self.rules.update(other.rules)
        self.by_type.update(other.by_type)
        for flip, rows in other.examples.items():
            mine = self.examples.setdefault(flip, [])
            mine.extend(rows[: EXAMPLES_PER_FLIP - len(mine)])

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "lines": self.lines,
            "errors": dict(sorted(self.errors.items())),
            "failed": dict(sorted(self.failed.items())),
            "changed": self.changed,
            "flips": dict(sorted(self.flips.items())),
            "rules": dict(sorted(self.rules.items())),
            "by_type": dict(sorted(self.by_type.items())),
            "examples": self.examples,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImpactTally:
        tally = cls()
        tally.cases, tally.lines, tally.changed = data["cases"], data["lines"], data["changed"]
        tally.errors = Counter(data["errors"])
        tally.failed = Counter(data.get("failed", {}))
        tally.flips = Counter(data["flips"])
        tally.rules = Counter(data["rules"])
        tally.by_type = Counter(data["by_type"])
        tally.examples = {k: list(v) for k, v in data["examples"].items()}
        return tally

    def summary(self) -> dict[str, Any]:
        """The run's impact as JSON data (``impact.json``), examples without full rulings."""
        return {
            "cases": self.cases,
            "lines": self.lines,
            "errors": sum(self.errors.values()),  # inputs neither version could read
            "errors_by_type": dict(self.errors.most_common()),
            # cases that are an error under each version (unreadable ones included): a case that
            # is an error under one only is also a change
            "errors_old": self.failed["old"],
            "errors_new": self.failed["new"],
            "changed": self.changed,
            "unchanged": self.cases - self.changed - sum(self.errors.values()),
            "flips": [
                {"old": flip.split(" -> ")[0], "new": flip.split(" -> ")[1], "cases": n}
                for flip, n in self.flips.most_common()
            ],
            "rules": [{"rule": rule, "cases": n} for rule, n in self.rules.most_common()],
            "changed_by_dispute_type": dict(self.by_type.most_common()),
            "examples": {
                flip: [
                    {
                        k: row[k]
                        for k in ("case_id", "source", "dispute_type", "old", "new", "rules")
                    }
                    for row in rows
                ]
                for flip, rows in sorted(self.examples.items())
            },
        }


def case_page_name(case_id: str, side: str) -> str:
    """The file name of one case's page under ``cases/`` (``side``: old or new)."""
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', case_id)}.{side}.html"


@lru_cache(maxsize=4)
def _environment(folder: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, indent=2)
    return env


def render_case_page(
    row: dict[str, Any], side: str, rules: dict[str, Any], program: Program | None = None
) -> str:
    """One case under one rule version, as an HTML page: the full explanation report (what
    was decided and why, what would change it) when the row carries the case and ``program``
    can score it; otherwise its ruling/1 (or its error) with ``reports/impact-case.html.j2``."""
    if program is not None and "case" in row:
        try:
            case = case_from_data(
                row["case"], source=row["source"], fields=program.declared_fields()
            )
            scorer = Scorer(program, "reference")
            return build_report(scorer, scorer.score(case), fmt="html", lang="en")
        except AdjudicationError:
            pass  # an error under this version: the page says so
    template = _environment(str(REPORTS_DIR)).get_template("impact-case.html.j2")
    ruling = row[f"{side}_ruling"]
    sibling = case_page_name(row["case_id"], "new" if side == "old" else "old")
    return template.render(row=row, side=side, ruling=ruling, rules=rules, sibling=sibling)


def render_impact_html(summary: dict[str, Any], run: dict[str, Any]) -> str:
    """The impact report: a chart of the flips, the rules responsible, examples with links."""
    template = _environment(str(REPORTS_DIR)).get_template("impact.html.j2")
    flips = summary["flips"]
    widest = max((f["cases"] for f in flips), default=1)
    return template.render(
        summary=summary, run=run, widest=widest, page=case_page_name, chart_rows=flips[:CHART_ROWS]
    )
