"""The desk's pages: the queue, a case (with its report and the decision form), the agreement
page, the import of files and folders, the login form. Server-rendered from reports/web/ with
the reports' sandboxed, autoescaping Jinja environment; no JavaScript.

The language is ``?lang=zh|en`` (remembered in a cookie), Chinese by default like the CLI.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from engine.errors import DecisionError
from engine.explain.render import REPORTS_DIR, render_template
from engine.policytools.agreement import Agreement, Row
from engine.ruling import RULINGS
from engine.shipped import messages
from engine.web.desk import Desk, ImportReport
from engine.web.middleware import SESSION_COOKIE, session_value
from engine.web.store import STATUSES, DecisionRecord, Recommendation

__all__ = ["PAGE_CSP", "REPORT_CSP", "page_router", "render_page"]

LANGS = ("zh", "en")
LANG_COOKIE = "adjudicate_lang"
ARBITRATOR_COOKIE = "adjudicate_arbitrator"
PAGE_SIZE = 40
# the pages load nothing from anywhere: inline CSS only, forms post to this server, the report
# is framed from this server
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _ui(folder: str) -> dict[str, Any]:
    return messages(Path(folder) / "web")


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return asked if asked in LANGS else "zh"


def _here(request: Request) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + ("?" + urlencode(query) if query else "")


def render_page(
    desk: Desk, request: Request, name: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page of reports/web/ with the frame's context; headers: no framing, no scripts."""
    lang = _lang(request)
    html = render_template(
        f"web/{name}",
        ui=_ui(str(REPORTS_DIR)),
        lang=lang,
        rules={"name": desk.program.name, "version": desk.program.version,
               "digest": desk.program.digest},
        here=_here(request),
        authed=bool(getattr(request.app.state, "token", None)),
        status=status,
        **context,
    )  # fmt: skip
    response = HTMLResponse(html, status_code=status)
    response.headers["content-security-policy"] = PAGE_CSP
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)
    return response


def _titles(desk: Desk, lang: str) -> dict[str, str]:
    return {d.name: getattr(d.title, lang) for d in desk.program.dispute_types}


def _money(value: Any) -> str:
    return f"{value:.2f}"


def _rec(rec: Recommendation) -> dict[str, Any]:
    return {
        "ruling": rec.ruling,
        "refund": _money(rec.refund_amount),
        "compensation": _money(rec.compensation_amount),
    }


def _decision(d: DecisionRecord) -> dict[str, Any]:
    return {
        "decided_at": d.decided_at,
        "decided_by": d.decided_by,
        "ruling": d.ruling,
        "refund": _money(d.refund_amount),
        "compensation": _money(d.compensation_amount),
        "accepted": d.accepted,
        "reason": d.reason,
        "digest": d.replaced.rules_digest,
        "replaced": _rec(d.replaced),
    }


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _agreement(a: Agreement, titles: dict[str, str], rule_titles: dict[str, str]) -> Any:
    def rows(items: tuple[Row, ...], names: dict[str, str]) -> list[dict[str, Any]]:
        return [
            {"key": r.key, "title": names.get(r.key, ""), "decided": r.decided,
             "agreed": r.agreed, "rate": _percent(r.rate), "percent": round(r.rate * 100, 1)}
            for r in items
        ]  # fmt: skip

    return {
        "decided": a.decided,
        "agreed": a.agreed,
        "rate": _percent(a.rate),
        "by_type": rows(a.by_dispute_type, titles),
        "by_rule": rows(a.by_deciding_rule, rule_titles),
        "by_fired": rows(a.by_fired_rule, rule_titles),
        "overrides": [{"recommended": r, "decided": d, "count": n} for r, d, n in a.overrides],
    }


def page_router(desk: Desk) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def queue(
        request: Request,
        dispute_type: str = "",
        ruling: str = "",
        status: str = "",
        page: Annotated[int, Query(ge=1, le=10**9)] = 1,
    ) -> HTMLResponse:
        lang = _lang(request)
        filters = {
            "dispute_type": dispute_type or None,
            "ruling": ruling if ruling in RULINGS else None,
            "status": status if status in STATUSES else None,
        }
        cases, total = desk.store.cases(
            desk.digest, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        counts = {"total": desk.store.cases(desk.digest, limit=1)[1]}
        for name in STATUSES:
            counts[name] = desk.store.cases(desk.digest, status=name, limit=1)[1]
        titles = _titles(desk, lang)
        rows = [
            {
                "id": c.id, "case_id": c.case_id, "platform": c.platform,
                "dispute_title": titles.get(c.dispute_type, c.dispute_type),
                "claimed": _money(c.claimed_amount),
                "recommended": c.recommendation.ruling if c.recommendation else "",
                "status": c.status, "decided": c.decision.ruling if c.decision else "",
                "imported_at": c.imported_at,
            }
            for c in cases
        ]  # fmt: skip
        query = {k: v for k, v in filters.items() if v}

        def page_url(n: int) -> str:
            return "/?" + urlencode({**query, "page": n})

        first = (page - 1) * PAGE_SIZE + 1
        pager = {
            "first": first if rows else 0,
            "last": first + len(rows) - 1,
            "total": total,
            "prev": page_url(page - 1) if page > 1 else "",
            "next": page_url(page + 1) if first + len(rows) - 1 < total else "",
        }
        return render_page(
            desk, request, "queue.html.j2",
            cases=rows, filters=filters, counts=counts, pager=pager, rulings=RULINGS,
            statuses=STATUSES,
            dispute_types=[{"name": d.name, "title": {"zh": d.title.zh, "en": d.title.en}}
                           for d in desk.program.dispute_types],
        )  # fmt: skip

    @router.post("/import", response_class=HTMLResponse)
    async def import_files(request: Request) -> HTMLResponse:
        form = await request.form(max_files=10_000)
        report = ImportReport()
        chosen = 0
        for upload in form.getlist("files"):
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue  # an empty file input
            chosen += 1
            raw = await upload.read()
            report = report + await run_in_threadpool(desk.import_file, upload.filename, raw)
        await form.close()
        return render_page(
            desk, request, "imported.html.j2", report=report, nothing=chosen == 0,
            status=200 if not report.errors else 422,
        )  # fmt: skip

    def case_page(
        request: Request,
        case_ref: int,
        *,
        form: dict[str, str] | None = None,
        problems: list[str] | None = None,
    ) -> HTMLResponse:
        lang = _lang(request)
        stored = desk.case(case_ref)
        rec = stored.recommendation
        assert rec is not None
        data = stored.data()
        ruling = rec.as_dict()
        decisions = desk.store.decisions(case_ref)
        case = {
            "id": stored.id, "case_id": stored.case_id, "platform": stored.platform,
            "dispute_type": stored.dispute_type,
            "dispute_title": _titles(desk, lang).get(stored.dispute_type, stored.dispute_type),
            "claimed": _money(stored.claimed_amount), "item": data["order"].get("item"),
            "reason": data["dispute"].get("reason"), "source": stored.source,
            "imported_at": stored.imported_at, "status": stored.status,
        }  # fmt: skip
        shown = {
            "ruling": rec.ruling,
            "refund": _money(rec.refund_amount),
            "compensation": _money(rec.compensation_amount),
            "reason_code": ruling["reason_code"],
            "rules": ruling["rules"],
        }
        values = form or {
            "decided_by": unquote(request.cookies.get(ARBITRATOR_COOKIE, "")),
            "ruling": rec.ruling,
            "refund_amount": _money(rec.refund_amount),
            "compensation_amount": _money(rec.compensation_amount),
            "reason": "",
        }
        return render_page(
            desk, request, "case.html.j2",
            status=422 if problems else 200, case=case, rec=shown, form=values,
            problems=problems or [], decisions=[_decision(d) for d in decisions],
            rulings=RULINGS,
        )  # fmt: skip

    @router.get("/cases/{id}", response_class=HTMLResponse)
    def case(request: Request, id: int) -> HTMLResponse:
        return case_page(request, id)

    @router.post("/cases/{id}/decision", response_model=None)
    def decide(
        request: Request,
        id: int,
        decided_by: Annotated[str, Form(max_length=10_000)] = "",
        ruling: Annotated[str, Form(max_length=10_000)] = "",
        refund_amount: Annotated[str, Form(max_length=10_000)] = "",
        compensation_amount: Annotated[str, Form(max_length=10_000)] = "",
        reason: Annotated[str, Form(max_length=100_000)] = "",
        action: Annotated[str, Form(max_length=100)] = "override",
    ) -> Response:
        form = {
            "decided_by": decided_by, "ruling": ruling, "refund_amount": refund_amount,
            "compensation_amount": compensation_amount, "reason": reason,
        }  # fmt: skip
        # accepting ignores the ruling and amounts in the form: the recommendation stands;
        # a field left empty in the form is a field not given
        chosen = ("decided_by", "reason") if action == "accept" else tuple(form)
        fields = {name: form[name] for name in chosen if form[name] != ""}
        try:
            desk.decide(id, fields, source="decision")
        except DecisionError as exc:
            return case_page(request, id, form=form, problems=[str(p) for p in exc.problems])
        response = RedirectResponse(f"/cases/{id}", status_code=303)
        response.set_cookie(
            ARBITRATOR_COOKIE, quote(decided_by.strip()), samesite="strict", httponly=True,
            max_age=365 * 86400,
        )  # fmt: skip
        return response

    @router.get("/cases/{id}/report")
    def report(
        request: Request,
        id: int,
        format: str = "html",
        audience: str = "arbitrator",
    ) -> Response:
        lang = _lang(request)
        stored = desk.case(id)
        scored = desk.score(desk.stored_case(stored))
        fmt = "md" if format == "md" else "html"
        who = audience if audience in ("arbitrator", "buyer", "seller") else "arbitrator"
        text = desk.report(scored, fmt=fmt, lang=lang, audience=who)
        if fmt == "md":  # shown as text in the browser
            return Response(text, media_type="text/plain; charset=utf-8")
        return HTMLResponse(text, headers={"content-security-policy": REPORT_CSP})

    @router.get("/agreement", response_class=HTMLResponse)
    def agreement_page(request: Request) -> HTMLResponse:
        lang = _lang(request)
        rule_titles = {rule.id: rule.title.split(" / ")[0 if lang == "zh" else -1]
                       for rule in desk.program.rules}  # fmt: skip
        a = _agreement(desk.agreement(), _titles(desk, lang), rule_titles)
        return render_page(desk, request, "agreement.html.j2", a=a)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return render_page(desk, request, "login.html.j2", next=_local(next), wrong=False)

    @router.post("/login", response_model=None)
    def login(
        request: Request,
        token: Annotated[str, Form(max_length=10_000)] = "",
        next: Annotated[str, Form(max_length=10_000)] = "/",
    ) -> Response:
        expected: str | None = request.app.state.token
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            return render_page(
                desk, request, "login.html.j2", status=401, next=_local(next), wrong=True
            )
        response = RedirectResponse(_local(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE, session_value(expected), httponly=True, samesite="strict"
        )
        return response

    @router.post("/logout", response_model=None)
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    return router


def _local(target: str) -> str:
    """Only a path on this server: a login form must not send the browser elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
