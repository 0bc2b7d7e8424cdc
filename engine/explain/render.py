"""Ruling + trace -> text rendered from the Jinja2 templates in reports/.

Templates are the only place where wording lives: they get the ruling as a dict, the rules'
bilingual texts and the message catalogue ``reports/messages.yaml``. The environment is
sandboxed (templates are edited by staff) with StrictUndefined; HTML templates autoescape.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from engine.rules.program import Program, Text
from engine.ruling import Ruling
from engine.run.params import Resolved
from engine.shipped import messages, shipped

__all__ = [
    "REPORT_FORMATS",
    "REPORTS_DIR",
    "render_report",
    "render_summary",
    "render_template",
    "render_trace",
]

REPORTS_DIR = shipped("reports")
REPORT_FORMATS = {"md": "report.md.j2", "html": "report.html.j2"}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _visible(value: object) -> str:
    """Text from a case file with its invisible controls made visible: a direction mark
    (U+202E) or a control character must not reorder or hide what a report shows."""
    text = "" if value is None else str(value)
    return "".join(
        f"<U+{ord(ch):04X}>"
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t"
        else ch
        for ch in text
    )


def _markdown(value: object) -> str:
    """Case-file text inside Markdown (a table cell): visible controls, no markup, one line."""
    text = _visible(value).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _when(value: object) -> str:
    """An ISO time as "YYYY-MM-DD HH:MM" (seconds only when there are some)."""
    text = str(value or "")
    if len(text) < 19 or text[10] != "T":
        return text
    return text[:10] + " " + (text[11:16] if text[17:19] == "00" else text[11:19])


@lru_cache(maxsize=4)
def _environment(folder: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "html.j2"]),
        keep_trailing_newline=False,
    )
    env.filters["compact"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    env.filters["visible"] = _visible
    env.filters["md"] = _markdown
    env.filters["when"] = _when
    return env


def _render(name: str, folder: Path | None, **context: Any) -> str:
    where = str(folder or REPORTS_DIR)
    template = _environment(where).get_template(name)
    return template.render(msg=messages(where), **context)


def render_summary(
    ruling: Ruling,
    program: Program,
    lang: str = "zh",
    folder: Path | None = None,
    *,
    params: Resolved | None = None,
) -> str:
    """A few lines on one ruling, for a terminal; ``params`` (the case's parameters in force)
    fill in the parameters the reasons quote."""

    def said(text: Text) -> Text:
        return params.quote(text) if params is not None else text

    rule = program.rule(ruling.decided_by)
    reason = said(rule.reason) if rule else Text(zh="", en="")
    substitute = program.rule(ruling.substituted_by)
    adjusted = None
    if substitute:
        text = said(substitute.reason)
        adjusted = {"rule": substitute.id, "zh": text.zh, "en": text.en}
    # rules that let an item support or oppose an issue: an invalid item's reason from one of
    # them is what it would have shown, had it been valid
    evidential = {
        each.id: effect.kind
        for each in program.rules
        for effect in each.effects
        if effect.kind in ("supports", "opposes")
    }
    return _render(
        "summary.txt.j2",
        folder,
        r=ruling.as_dict(),
        reason={"zh": reason.zh, "en": reason.en},
        adjusted=adjusted,
        lang=lang,
        evidential=evidential,
    )


def render_trace(trace: dict[str, Any], lang: str = "zh", folder: Path | None = None) -> str:
    """Every round's facts and firings, with the parameters in force."""
    return _render("trace.txt.j2", folder, t=trace, lang=lang)


def render_report(
    context: dict[str, Any], fmt: str = "html", lang: str = "zh", folder: Path | None = None
) -> str:
    """An explanation report (``fmt`` "html" or "md") from ``context.report_context``."""
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"report format must be one of {sorted(REPORT_FORMATS)}, not {fmt!r}")
    return _render(REPORT_FORMATS[fmt], folder, r=context, lang=lang) + "\n"


def render_template(name: str, folder: Path | None = None, **context: Any) -> str:
    """Any other template of the reports folder (the web desk's pages, ``web/*.html.j2``), in
    the same sandboxed, autoescaping environment and with the same message catalogue."""
    return _render(name, folder, **context)
