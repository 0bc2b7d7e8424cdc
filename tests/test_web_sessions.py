"""Logging in to a desk with accounts: a session per user, a cookie that is Secure over TLS,
sessions that expire and that logout revokes, failed logins throttled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from webdesk import PASSWORD, Clock, add_team, bearer

from engine import Program
from engine.errors import AccountError
from engine.web import create_app
from engine.web.accounts import Limits


def _desk(program: Program, db: Path, **options: Any) -> tuple[TestClient, Clock]:
    add_team(db)
    clock = options.pop("clock", Clock())
    base = options.pop("base_url", "http://127.0.0.1")
    app = create_app(program, db, clock=clock, **options)
    return TestClient(app, base_url=base), clock


def _login(http: TestClient, name: str = "wang", password: str = PASSWORD, **kw: Any) -> Any:
    return http.post("/login", data={"name": name, "password": password, "next": "/agreement"},
                     follow_redirects=False, **kw)  # fmt: skip


def test_a_user_logs_in_with_name_and_password_and_gets_a_session(
    tmp_path: Path, program: Program
) -> None:
    http, _ = _desk(program, tmp_path / "desk.sqlite3")
    with http:
        form = http.get("/login?lang=en")
        assert 'name="name"' in form.text and 'name="password"' in form.text
        assert 'name="token"' not in form.text
        wrong = _login(http, password="guess")
        assert wrong.status_code == 401
        assert "Wrong user name or password." in wrong.text
        unknown = _login(http, name="nobody")
        assert unknown.status_code == 401 and "Wrong user name or password." in unknown.text
        good = _login(http)
        assert (good.status_code, good.headers["location"]) == (303, "/agreement")
        cookie = good.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
        page = http.get("/?lang=en")
        assert page.status_code == 200
        assert "wang (arbitrator)" in page.text
        assert http.get("/v1/me").json() == {"user": {"name": "wang", "role": "arbitrator"}}


def test_the_cookie_is_secure_over_tls_or_behind_a_proxy_that_says_so(
    tmp_path: Path, program: Program
) -> None:
    https, _ = _desk(program, tmp_path / "a.sqlite3", base_url="https://127.0.0.1")
    with https:
        assert "secure" in _login(https).headers["set-cookie"].lower()
    proxied, _ = _desk(program, tmp_path / "b.sqlite3", trust_proxy=True)
    with proxied:
        told = _login(proxied, headers={"x-forwarded-proto": "https"})
        assert "secure" in told.headers["set-cookie"].lower()
    direct, _ = _desk(program, tmp_path / "c.sqlite3")
    with direct:  # not behind a proxy: the header is anyone's word, and not believed
        claimed = _login(direct, headers={"x-forwarded-proto": "https"})
        assert "secure" not in claimed.headers["set-cookie"].lower()


def test_a_session_expires_and_logout_revokes_it(tmp_path: Path, program: Program) -> None:
    http, clock = _desk(program, tmp_path / "desk.sqlite3", limits=Limits(session_seconds=3600))
    with http:
        _login(http)
        assert http.get("/v1/me").json()["user"]["name"] == "wang"
        clock.now += timedelta(hours=2)
        expired = http.get("/v1/me")
        assert expired.status_code == 401
        _login(http)
        session = http.cookies.get("adjudicate_session")
        assert session
        out = http.post("/logout", follow_redirects=False)
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        http.cookies.set("adjudicate_session", session)  # the old cookie, kept by someone
        assert http.get("/v1/me").status_code == 401
        page = http.get("/", headers={"accept": "text/html"}, follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2F")


def test_failed_logins_are_throttled_by_name_even_with_the_right_password(
    tmp_path: Path, program: Program
) -> None:
    http, _ = _desk(program, tmp_path / "desk.sqlite3", limits=Limits(per_name=3))
    with http:
        for _ in range(3):
            assert _login(http, password="guess").status_code == 401
        refused = _login(http)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "too many failed logins: try again in" in refused.text
        assert _login(http, name="li").status_code == 303  # another name is not held up


def test_a_shared_token_is_refused_on_a_desk_with_accounts(
    tmp_path: Path, program: Program
) -> None:
    add_team(tmp_path / "desk.sqlite3")
    with pytest.raises(AccountError) as error:
        create_app(program, tmp_path / "desk.sqlite3", token="s3cret")
    assert str(error.value) == (
        "this desk has accounts: everyone logs in as a user, and API clients use their own "
        "token (adjudicate users token NAME); --token is for a one-person desk without accounts"
    )


def test_a_revoked_api_token_no_longer_gets_in(tmp_path: Path, program: Program) -> None:
    db = tmp_path / "desk.sqlite3"
    http, _ = _desk(program, db)
    from engine.web.accounts import Accounts
    from engine.web.store import Store

    store = Store(db)
    token = Accounts(store.db).new_token("wang")
    with http:
        assert http.get("/v1/me", headers=bearer(token)).status_code == 200
        assert Accounts(store.db).revoke_tokens("wang") == 2  # add_team's and this one
        assert http.get("/v1/me", headers=bearer(token)).status_code == 401
    store.close()
