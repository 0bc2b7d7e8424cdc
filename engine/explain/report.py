"""Scored case -> its explanation report as text: what would change it, the context, rendered.

The one function both the CLI (``score --report``) and the desk call, so that a report reads the
same wherever it is produced.
"""

from __future__ import annotations

from engine.explain.context import AUDIENCES, report_context
from engine.explain.render import REPORT_FORMATS, render_report
from engine.explain.whatif import what_would_change
from engine.run.scoring import Scored, Scorer

__all__ = ["AUDIENCES", "REPORT_FORMATS", "build_report"]


def build_report(
    scorer: Scorer,
    scored: Scored,
    *,
    fmt: str = "html",
    lang: str = "zh",
    audience: str = "arbitrator",
) -> str:
    """The report of ``scored`` (a case ``scorer`` scored) in ``fmt`` ("html" or "md") and
    ``lang``, for ``audience``. The what-if search re-scores the case with ``scorer``: with the
    durable engine, call it where no other thread scores at the same time."""
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"report format must be one of {sorted(REPORT_FORMATS)}, not {fmt!r}")
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    whatif = what_would_change(scorer, scored)
    return render_report(report_context(scorer.program, scored, whatif, audience), fmt, lang)
