"""Ruling + trace -> text rendered from the Jinja2 templates in reports/.

Templates are the only place where wording lives: they get the ruling as a dict, the rules'
bilingual texts and the message catalogue ``reports/messages.yaml``. The environment is
sandboxed (templates are edited by staff) with StrictUndefined; HTML templates autoescape.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from engine.rules.program import Program
from engine.ruling import Ruling
from engine.yamlsource import SafeLoader

__all__ = ["REPORTS_DIR", "render_summary", "render_trace"]

REPORTS_DIR = Path(__file__).resolve().parent.parent / "reports"


@lru_cache(maxsize=4)
def _environment(folder: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        keep_trailing_newline=False,
    )
    env.filters["compact"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    return env


@lru_cache(maxsize=4)
def _messages(folder: str) -> dict[str, Any]:
    text = (Path(folder) / "messages.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=SafeLoader)
    return data


def _render(name: str, folder: Path | None, **context: Any) -> str:
    where = str(folder or REPORTS_DIR)
    template = _environment(where).get_template(name)
    return template.render(msg=_messages(where), **context)


def render_summary(
    ruling: Ruling, program: Program, lang: str = "zh", folder: Path | None = None
) -> str:
    """A few lines on one ruling, for a terminal."""
    rule = program.rule(ruling.decided_by)
    reason = {"zh": rule.reason.zh, "en": rule.reason.en} if rule else {"zh": "", "en": ""}
    substitute = program.rule(ruling.substituted_by)
    adjusted = (
        {"rule": substitute.id, "zh": substitute.reason.zh, "en": substitute.reason.en}
        if substitute
        else None
    )
    return _render(
        "summary.txt.j2", folder, r=ruling.as_dict(), reason=reason, adjusted=adjusted, lang=lang
    )


def render_trace(trace: dict[str, Any], lang: str = "zh", folder: Path | None = None) -> str:
    """Every round's facts and firings, with the parameters in force."""
    return _render("trace.txt.j2", folder, t=trace, lang=lang)
