"""End to end: `adjudicate serve` started for real, its pages driven in headless Chromium
(Debian's, through playwright; no browser is downloaded): import a case, open it, override the
recommendation, see the override on the agreement page. Screenshots of the queue and the case
page are taken on the way (ADJUDICATE_SCREENSHOTS=docs writes them into docs/).

Skipped when Chromium is missing, unless ADJUDICATE_REQUIRE_BROWSER=1 (set by .ci/run)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, RULES
from webdesk import LATE, PASSWORD, QUALITY, RECEIPT, add_team

pytestmark = pytest.mark.slow  # a real subprocess, server, browser or cluster


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Chromium is not installed (apt-get install -y chromium; .ci/setup does it)"
    if os.environ.get("ADJUDICATE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + ", and ADJUDICATE_REQUIRE_BROWSER=1 requires it")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`adjudicate serve` on a free loopback port with a fresh database; its base URL."""
    yield from _serve(tmp_path)


@pytest.fixture
def team_server(tmp_path: Path) -> Iterator[str]:
    """The same, on a database with accounts (tests/webdesk.py's team)."""
    add_team(tmp_path / "desk.sqlite3")
    yield from _serve(tmp_path)


def _serve(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    command = [sys.executable, "-m", "engine.cli", "serve", "--rules", str(RULES),
               "--db", str(tmp_path / "desk.sqlite3"), "--port", str(port)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ADJUDICATE_TOKEN", None)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # up to 20 s for the rules to load and the port to open
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer in 20 s")
        if process.poll() is not None:
            pytest.fail("the server stopped: " + (tmp_path / "serve.log").read_text())
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.mark.slow
def test_an_arbitrator_imports_opens_and_overrides_a_case(server: str, tmp_path: Path) -> None:
    browser_path = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("ADJUDICATE_SCREENSHOTS") or tmp_path)
    flags = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]  # fmt: skip
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=flags)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server + "/?lang=en")
            assert page.locator("#empty").inner_text() == "No case matches."

            # import three case files through the form
            page.locator("#import input[type=file]:not([webkitdirectory])").set_input_files(
                [str(QUALITY), str(RECEIPT), str(LATE)]
            )
            page.locator("#import button[type=submit]").click()
            page.wait_for_url("**/import")
            assert page.locator("#imported li").count() == 3
            page.goto(server + "/?lang=zh")  # the screenshots in Chinese, as arbitrators see it
            assert page.locator("#cases tbody tr").count() == 3
            page.screenshot(path=str(shots / "web-queue.png"), full_page=True)

            # open the quality case
            page.get_by_role("link", name="TB-2024-000305").click()
            assert page.locator("#recommendation .headline").inner_text() == "退货退款"
            frame = page.frame_locator("#report")
            assert "TB-2024-000305" in frame.locator("h1").inner_text()
            page.screenshot(path=str(shots / "web-case.png"), full_page=False)
            page.goto(page.url + "?lang=en")

            # override: a refund without return, with a reason
            form = page.locator("#decide")
            form.locator("input[name=decided_by]").fill("王芳")
            form.locator("select[name=ruling]").select_option("refund")
            form.locator("input[name=refund_amount]").fill("299.00")
            form.locator("textarea[name=reason]").fill("卖家同意买家保留商品 <script>x</script>")
            form.locator("#override").click()
            row = page.locator("#decisions tbody tr").first
            assert "overridden" in row.inner_text()
            assert "卖家同意买家保留商品 <script>x</script>" in row.inner_text()  # text, not markup

            # the agreement page counts it
            page.locator("#nav-agreement").click()
            assert page.locator("#overall").inner_text() == (
                "1 cases decided, 0 agree with the recommendation (0.0%)"
            )
            assert page.locator("#by-type tbody tr").first.inner_text().split("\t") == [
                "quality problem quality", "1", "0", "0.0%",
            ]  # fmt: skip
            assert page.locator("#chart rect").count() == 2
        finally:
            browser.close()
    for name in ("web-queue.png", "web-case.png"):
        assert (shots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


def _log_in(browser: Any, base: str, name: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(base + "/?lang=en")
    page.wait_for_url("**/login?next=*")
    page.locator("#login input[name=name]").fill(name)
    page.locator("#login input[name=password]").fill(PASSWORD)
    page.locator("#login button[type=submit]").click()
    page.wait_for_url(base + "/?lang=en")
    assert page.locator("#user").inner_text().startswith(name)
    return page


@pytest.mark.slow
def test_two_arbitrators_log_in_claim_and_collide(team_server: str, tmp_path: Path) -> None:
    browser_path = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=FLAGS)
        try:
            wang = _log_in(browser, team_server, "wang")  # arbitrator
            zhao = _log_in(browser, team_server, "zhao")  # senior, another browser profile

            wang.locator("#import input[type=file]:not([webkitdirectory])").set_input_files(
                [str(QUALITY), str(RECEIPT)]
            )
            wang.locator("#import button[type=submit]").click()
            wang.wait_for_url("**/import")
            assert wang.locator("#imported li").count() == 2

            # wang claims the quality case; zhao sees the claim and cannot decide it
            wang.goto(team_server + "/?lang=en")
            wang.get_by_role("link", name="TB-2024-000305").click()
            wang.locator("#claim-button").click()
            assert wang.locator("#claimed-by").inner_text() == "wang"
            quality = wang.url
            zhao.goto(quality)
            assert zhao.locator("#claimed-by").inner_text() == "wang"
            zhao.locator("#accept").click()
            assert "is claimed by wang: only they decide it" in zhao.locator(
                "#problems").inner_text()  # fmt: skip

            # both open the receipt case at version 0; wang decides first, zhao's is stale
            wang.goto(team_server + "/?lang=en")
            wang.get_by_role("link", name="TB-2024-000101").click()
            zhao.goto(wang.url)
            wang.locator("#accept").click()
            assert "wang" in wang.locator("#decisions tbody tr").first.inner_text()
            form = zhao.locator("#decide")
            form.locator("select[name=ruling]").select_option("refund")
            form.locator("input[name=refund_amount]").fill("10.00")
            form.locator("textarea[name=reason]").fill("买家未收到")
            form.locator("#override").click()
            assert "has changed since version 0: it is at version 1" in zhao.locator(
                "#problems").inner_text()  # fmt: skip
            assert zhao.locator("#decisions tbody tr").count() == 1  # wang's, shown to zhao

            # logging out ends wang's session; zhao's goes on
            wang.locator("nav form button").click()
            wang.wait_for_url("**/login")
            wang.goto(team_server + "/?lang=en")
            assert "/login?next=" in wang.url
            zhao.goto(team_server + "/?lang=en")
            assert zhao.locator("#cases tbody tr").count() == 2
        finally:
            browser.close()


@pytest.mark.slow
def test_an_arbitrator_imports_a_bundle_sees_the_slip_and_corrects_what_was_read(
    server: str, tmp_path: Path
) -> None:
    from evidencedata import receipt_case, slip_png, zipped

    browser_path = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("ADJUDICATE_SCREENSHOTS") or tmp_path)
    bundle = tmp_path / "TB-2024-000101.zip"
    bundle.write_bytes(zipped({"case.yaml": receipt_case(), "slip.png": slip_png()}))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            images: list[tuple[str, int, str]] = []
            page.on("response", lambda r: images.append(
                (r.url.removeprefix(server), r.status, r.headers.get("content-type", ""))
            ) if "/files/" in r.url else None)  # fmt: skip
            page.goto(server + "/?lang=en")
            page.locator("#import input[type=file]:not([webkitdirectory])").set_input_files(
                [str(bundle)]
            )
            page.locator("#import button[type=submit]").click()
            page.wait_for_url("**/import")
            assert page.locator("#imported li").inner_text().startswith("TB-2024-000101")

            page.get_by_role("link", name="TB-2024-000101").click()
            assert page.locator("#recommendation .headline").inner_text() == (
                "more evidence requested"
            )
            item = page.locator("#item-2")
            item.locator("svg.page image").wait_for()
            page.wait_for_load_state("networkidle")
            assert ("/cases/1/files/1/pages/1", 200, "image/png") in images
            assert item.locator("svg.page .region rect").count() == 4
            assert item.locator("svg.page .region text").all_text_contents() == [
                "issuer", "tracking_no", "signer_name", "copy_no",
            ]  # fmt: skip
            signer = item.locator("#attr-2-signer_name")
            assert "read, not sure enough: does not count" in signer.inner_text()
            item.screenshot(path=str(shots / "web-evidence.png"))

            # the arbitrator looks at the slip and types the signer the receipt shows
            form = signer.locator("form")
            form.locator("input[name=corrected_by]").fill("王芳")
            form.locator("input[name=value]").fill("张伟")
            form.locator("input[name=reason]").fill("签收人一栏为张伟，与收件人一致")
            form.locator("button.correct-button").click()
            page.wait_for_url("**/cases/1#evidence")
            assert page.locator("#recommendation .headline").inner_text() == (
                "claim rejected, money released to the seller"
            )
            assert "corrected by a person" in page.locator("#attr-2-signer_name").inner_text()
            row = page.locator("#corrections tbody tr").first.inner_text().split("\t")
            assert row[1:] == ["王芳", "corrected", "E2", "signer_name", "张伟 (60 %)", "张伟",
                               "签收人一栏为张伟，与收件人一致", "0"]  # fmt: skip
            assert "Version 1" in page.locator("#claim").inner_text()
        finally:
            browser.close()
    assert (shots / "web-evidence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
