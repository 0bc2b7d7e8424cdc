"""The desk's pages: the queue, a case (with its evidence files, what was read from them and the
forms to confirm or correct it, its report and the decision form), the agreement page, the
import of files, folders and bundles, the login form. Server-rendered from reports/web/ with
the reports' sandboxed, autoescaping Jinja environment; no JavaScript.

The language is ``?lang=zh|en`` (remembered in a cookie), Chinese by default like the CLI.
"""

from __future__ import annotations

import hmac
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from engine.errors import (
    AccountError,
    CorrectionError,
    DecisionError,
    StaleDecision,
    TooManyAttempts,
)
from engine.evidence import read as reader
from engine.explain.render import REPORTS_DIR, render_template
from engine.policytools.agreement import Agreement, Row
from engine.ruling import RULINGS
from engine.shipped import messages
from engine.web.api import actor, due_record
from engine.web.desk import Desk, ImportReport
from engine.web.evidence_view import evidence_view
from engine.web.middleware import SESSION_COOKIE, session_value
from engine.web.store import STATUSES, DecisionRecord, Recommendation

__all__ = ["PAGE_CSP", "REPORT_CSP", "page_router", "render_page"]

LANGS = ("zh", "en")
LANG_COOKIE = "adjudicate_lang"
ARBITRATOR_COOKIE = "adjudicate_arbitrator"
PAGE_SIZE = 40
CaseRef = Annotated[int, PathParam(ge=1, le=2**62)]  # a page for an id out of range is a 422
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
    user = actor(request)
    html = render_template(
        f"web/{name}",
        ui=_ui(str(REPORTS_DIR)),
        lang=lang,
        rules={"name": desk.program.name, "version": desk.program.version,
               "digest": desk.program.digest},
        here=_here(request),
        authed=bool(getattr(request.app.state, "token", None)) or user is not None,
        user={"name": user.name, "role": user.role} if user else None,
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
        mine: str = "",
        page: Annotated[int, Query(ge=1, le=10**9)] = 1,
    ) -> HTMLResponse:
        lang = _lang(request)
        user = actor(request)
        filters = {
            "dispute_type": dispute_type or None,
            "ruling": ruling if ruling in RULINGS else None,
            "status": status if status in STATUSES else None,
            "claimed_by": user.name if user is not None and mine else None,
        }
        cases, total = desk.store.cases(
            desk.digest, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        counts = {"total": desk.store.cases(desk.digest, limit=1)[1]}
        for name in STATUSES:
            counts[name] = desk.store.cases(desk.digest, status=name, limit=1)[1]
        titles = _titles(desk, lang)
        dues = {c.id: due_record(desk, c) for c in cases}
        estimated = sorted({year for due in dues.values() for d in due if d["estimated"]
                            for year in _years(d)})  # fmt: skip
        rows = [
            {
                "id": c.id, "case_id": c.case_id, "platform": c.platform,
                "dispute_title": titles.get(c.dispute_type, c.dispute_type),
                "claimed": _money(c.claimed_amount),
                "recommended": c.recommendation.ruling if c.recommendation else "",
                "status": c.status, "decided": c.decision.ruling if c.decision else "",
                "imported_at": c.imported_at, "claimed_by": c.claimed_by,
                "due": dues[c.id],
            }
            for c in cases
        ]  # fmt: skip
        query = {k: v for k, v in filters.items() if v and k != "claimed_by"}
        if filters["claimed_by"]:
            query["mine"] = "1"

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
            statuses=STATUSES, estimated=estimated, mine=bool(filters["claimed_by"]),
            dispute_types=[{"name": d.name, "title": {"zh": d.title.zh, "en": d.title.en}}
                           for d in desk.program.dispute_types],
        )  # fmt: skip

    @router.post("/import", response_class=HTMLResponse)
    async def import_files(request: Request) -> HTMLResponse:
        form = await request.form(max_files=10_000)
        uploads: list[tuple[str, bytes]] = []
        for upload in form.getlist("files"):
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue  # an empty file input
            uploads.append((upload.filename, await upload.read()))
        await form.close()
        chosen = len(uploads)
        work = partial(desk.import_uploads, uploads, actor=actor(request))
        report = await run_in_threadpool(work) if uploads else ImportReport()
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
        status: int = 200,
        correcting: dict[str, Any] | None = None,
    ) -> HTMLResponse:
        lang = _lang(request)
        user = actor(request)
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
            "version": stored.version, "claimed_by": stored.claimed_by,
            "appeal": data["dispute"].get("appeal") is not None,
            "due": due_record(desk, stored),
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
            "version": str(stored.version),
            "ruling": rec.ruling,
            "refund_amount": _money(rec.refund_amount),
            "compensation_amount": _money(rec.compensation_amount),
            "reason": "",
        }
        evidence = evidence_view(desk.program, stored.id, data, ruling, desk.files(case_ref),
                                 desk.reads(case_ref), desk.corrections(case_ref))  # fmt: skip
        may = {
            "decide": user is None or user.may("decide_appeal" if case["appeal"] else "decide"),
            "claim": user is not None and user.may("claim"),
            "release": user is not None and (
                stored.claimed_by == user.name or user.may("release_any")
            ),
        }
        may["correct"] = may["decide"]  # who may decide a case may confirm what was read
        return render_page(
            desk, request, "case.html.j2",
            status=status if status != 200 else 422 if problems else 200, case=case, rec=shown,
            form=values, problems=problems or [], decisions=[_decision(d) for d in decisions],
            rulings=RULINGS, may=may, evidence=evidence, reading=not reader.missing_modules(),
            corrections=[c.as_dict() for c in desk.corrections(case_ref)],
            correcting=correcting or {}, corrector=values.get("decided_by", ""),
        )  # fmt: skip

    @router.get("/cases/{id}", response_class=HTMLResponse)
    def case(request: Request, id: CaseRef) -> HTMLResponse:
        return case_page(request, id)

    @router.post("/cases/{id}/claim", response_model=None)
    def claim(request: Request, id: CaseRef) -> Response:
        try:
            desk.claim(id, actor(request))
        except StaleDecision as exc:
            return case_page(request, id, problems=[str(exc)], status=409)
        return RedirectResponse(f"/cases/{id}", status_code=303)

    @router.post("/cases/{id}/release", response_model=None)
    def release(request: Request, id: CaseRef) -> Response:
        desk.release(id, actor(request))
        return RedirectResponse(f"/cases/{id}", status_code=303)

    @router.post("/cases/{id}/decision", response_model=None)
    def decide(
        request: Request,
        id: CaseRef,
        version: Annotated[str, Form(max_length=32)] = "",
        decided_by: Annotated[str, Form(max_length=10_000)] = "",
        ruling: Annotated[str, Form(max_length=10_000)] = "",
        refund_amount: Annotated[str, Form(max_length=10_000)] = "",
        compensation_amount: Annotated[str, Form(max_length=10_000)] = "",
        reason: Annotated[str, Form(max_length=100_000)] = "",
        action: Annotated[str, Form(max_length=100)] = "override",
    ) -> Response:
        user = actor(request)
        form = {
            "decided_by": decided_by, "version": version, "ruling": ruling,
            "refund_amount": refund_amount, "compensation_amount": compensation_amount,
            "reason": reason,
        }  # fmt: skip
        # accepting ignores the ruling and amounts in the form: the recommendation stands;
        # a field left empty in the form is a field not given; with accounts the decider is
        # the signed-in user, whatever the form says
        chosen = ("decided_by", "version", "reason") if action == "accept" else tuple(form)
        fields: dict[str, Any] = {name: form[name] for name in chosen if form[name] != ""}
        if user is not None:
            fields.pop("decided_by", None)
        if version.isdigit():  # a form's fields are text; the API's version is a number
            fields["version"] = int(version)
        try:
            desk.decide(id, fields, source="decision", actor=user)
        except DecisionError as exc:
            return case_page(request, id, form=form, problems=[str(p) for p in exc.problems])
        except StaleDecision as exc:
            stale = dict(form, version=str(desk.case(id).version))
            return case_page(request, id, form=stale, problems=[str(exc)], status=409)
        response = RedirectResponse(f"/cases/{id}", status_code=303)
        if user is None:
            response.set_cookie(
                ARBITRATOR_COOKIE, quote(decided_by.strip()), samesite="strict",
                httponly=True, max_age=365 * 86400,
            )  # fmt: skip
        return response

    @router.post("/cases/{id}/evidence", response_model=None)
    def correct(
        request: Request,
        id: CaseRef,
        item: Annotated[str, Form(max_length=200)] = "",
        attribute: Annotated[str, Form(max_length=200)] = "",
        action: Annotated[str, Form(max_length=100)] = "",
        value: Annotated[str, Form(max_length=200_000)] = "",
        reason: Annotated[str, Form(max_length=100_000)] = "",
        version: Annotated[str, Form(max_length=32)] = "",
        corrected_by: Annotated[str, Form(max_length=10_000)] = "",
    ) -> Response:
        """Confirm or correct a read attribute from the case page's form."""
        user = actor(request)
        fields = {"action": action, "value": value, "reason": reason, "version": version}
        if user is None:  # the one-person desk: the form says who corrects
            fields["corrected_by"] = corrected_by
        correcting: dict[str, Any] = {"item": item, "attribute": attribute, "value": value,
                                      "reason": reason}  # fmt: skip
        try:
            desk.correct(id, item, attribute, fields, source="correction", form=True, actor=user)
        except CorrectionError as exc:
            correcting["problems"] = [str(p) for p in exc.problems]
            return case_page(request, id, correcting=correcting, status=422)
        except StaleDecision as exc:
            correcting["problems"] = [str(exc)]
            return case_page(request, id, correcting=correcting, status=409)
        response = RedirectResponse(f"/cases/{id}#evidence", status_code=303)
        if user is None:
            response.set_cookie(
                ARBITRATOR_COOKIE, quote(corrected_by.strip()), samesite="strict",
                httponly=True, max_age=365 * 86400,
            )  # fmt: skip
        return response

    @router.get("/cases/{id}/report")
    def report(
        request: Request,
        id: CaseRef,
        format: str = "html",
        audience: str = "arbitrator",
    ) -> Response:
        lang = _lang(request)
        stored = desk.case(id)
        scored = desk.score(desk.scoring_case(stored))
        fmt = "md" if format == "md" else "html"
        who = audience if audience in ("arbitrator", "buyer", "seller") else "arbitrator"
        desk.audit(actor(request), "view_report", id, format=fmt, audience=who, lang=lang)
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
        return render_page(desk, request, "login.html.j2", next=_local(next), wrong="",
                           accounts=desk.accounts.any())  # fmt: skip

    @router.post("/login", response_model=None)
    def login(
        request: Request,
        name: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=10_000)] = "",
        token: Annotated[str, Form(max_length=10_000)] = "",
        next: Annotated[str, Form(max_length=10_000)] = "/",
    ) -> Response:
        target = _local(next)
        client = _client(request)
        accounts = desk.accounts.any()

        def refused(status: int, why: str) -> Response:
            page = render_page(desk, request, "login.html.j2", status=status, next=target,
                               wrong=why, accounts=accounts)  # fmt: skip
            return page

        try:
            if accounts:
                user, session = desk.accounts.login(name, password, client=client,
                                                    now=desk.epoch())  # fmt: skip
                cookie_value, max_age = session, desk.accounts.limits.session_seconds
            else:
                expected: str | None = request.app.state.token
                desk.accounts.check_attempts("(token)", client, now=desk.epoch())
                if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
                    desk.accounts.failed("(token)", client, now=desk.epoch())
                    raise AccountError("wrong token")
                user, cookie_value, max_age = None, session_value(expected), None
        except TooManyAttempts as exc:
            desk.audit(None, "login_refused", name=name[:200], client=client)
            page = refused(429, str(exc))
            page.headers["retry-after"] = str(exc.retry_after)
            return page
        except AccountError:
            desk.audit(None, "login_failed", name=name[:200], client=client)
            return refused(401, "wrong")
        desk.audit(user, "login", client=client)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE, cookie_value, httponly=True, samesite="strict", max_age=max_age,
            secure=_https(request), path="/",
        )  # fmt: skip
        return response

    @router.post("/logout", response_model=None)
    def logout(request: Request) -> Response:
        session = request.cookies.get(SESSION_COOKIE)
        if session and desk.accounts.any():
            desk.accounts.logout(session, now=desk.epoch())
            desk.audit(actor(request), "logout")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=_https(request),
                               httponly=True, samesite="strict")  # fmt: skip
        return response

    return router


def _years(due: dict[str, Any]) -> list[int]:
    """The years a deadline spans (from its start to its due date)."""
    first, last = int(due["from"][:4]), int(max(due["due"], due["target"] or "")[:4])
    return list(range(first, last + 1))


def _https(request: Request) -> bool:
    """Whether the browser came over TLS: directly, or through a trusted proxy that says so."""
    if request.url.scheme == "https":
        return True
    trusted = bool(getattr(request.app.state, "trust_proxy", False))
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return trusted and forwarded == "https"


def _client(request: Request) -> str:
    """Where a login comes from, for counting failures: the proxy's word when trusted."""
    if getattr(request.app.state, "trust_proxy", False):
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded[:200]
    return request.client.host if request.client else "unknown"


def _local(target: str) -> str:
    """Only a path on this server: a login form must not send the browser elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
