"""The web page in a real headless Chromium against the real server and worker: upload, progress, cancel, retry, XSS."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from importer.cli import example_data
from tests.live_server import LiveServer, live_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
EXAMPLE = Path(__file__).resolve().parent.parent.parent / "importer" / "examples" / "aktiviteter.csv"
XSS = "<img src=x onerror=alert(1)>"
ALL_BAD = "Aktivitet,Startdatum,Slutdatum\nMöte,snart,sedan\nPlanering,2025-13-45,\n".encode()

if not Path(CHROMIUM).exists():
    reason = f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) to run the browser tests"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="module")
def server(pg_server: str, template_db: str) -> Iterator[LiveServer]:
    with live_server(pg_server, template_db) as s:
        yield s


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def page(browser, request) -> AsyncIterator:
    """A fresh page at a phone-like width; it records dialogs, page errors and event-stream requests."""
    context = await browser.new_context(viewport={"width": 375, "height": 900}, accept_downloads=True)
    pg = await context.new_page()
    pg.dialogs, pg.errors, pg.streams = [], [], []

    async def on_dialog(dialog) -> None:
        pg.dialogs.append(dialog.message)
        await dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.on("request", lambda req: pg.streams.append(req.url) if "/events" in req.url else None)
    pg.set_default_timeout(30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield pg
    finally:
        await context.close()


def signed_in(server: LiveServer, token: str, wheel: str) -> str:
    return f"{server.url}/#token={token}&wheel={wheel}"


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_upload_runs_to_import_klar_with_live_progress(server: LiveServer, page) -> None:
    """Uploading the example shows "Import startad", a live bar to 100 %, "Import klar!", counts and errors.csv."""
    token = server.token(email="webb@example.test")
    wheel = server.wheel(token, "Redovisningsbyrån 2025")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    assert "token=" not in page.url, "the token must leave the address bar"
    assert await page.input_value("#wheel-select") == wheel
    assert await page.text_content("#submit") == "Importera"

    await page.set_input_files("#file-input", str(EXAMPLE))
    await page.click("#submit")
    await page.wait_for_selector("#current:not([hidden])")
    title = await page.text_content("#current-title")
    assert title in ("Import startad", "Importerar data...", "Import klar!")
    await shot(page, "upload-started")

    # Mid-import: the bar moves while the step text and counts change.
    seen = set()
    for _ in range(600):
        now = int(await page.get_attribute("#bar", "aria-valuenow"))
        seen.add(now)
        if 0 < now < 100 and "mid" not in seen:
            seen.add("mid")
            await shot(page, "upload-progress")
        if await page.text_content("#current-title") == "Import klar!":
            break
        await page.wait_for_timeout(100)
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=120_000)
    await page.wait_for_timeout(400)  # let the bar's short transition finish before the picture
    await shot(page, "upload-done")
    assert await page.get_attribute("#bar", "aria-valuenow") == "100"
    assert await page.text_content("#percent") == "100%"
    counts = await page.text_content("#counts")
    assert "✓ 3 ringar" in counts and "✓ 39 grupper" in counts and "aktiviteter" in counts
    assert await page.text_content("#rejected") == "6 rader kunde inte importeras."
    assert await page.text_content("#processed") == "2000 / 2000 aktiviteter"

    async with page.expect_download() as info:
        await page.click("#errors")
    download = await info.value
    rejected = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8")
    assert len(rejected.strip().splitlines()) == 7, rejected  # a header and the six bad rows

    # Only ever the one user-wide stream, never one per job.
    assert page.streams and all("/api/events?access_token=" in url for url in page.streams), page.streams
    assert not page.errors and not page.dialogs


async def test_cancel_a_large_import_and_see_it_again_after_reopening(server: LiveServer, page, tmp_path) -> None:
    """A 300,000-row import shows in a reopened tab, live, and "Avbryt import" cancels it."""
    token = server.token()
    wheel = server.wheel(token)
    big = tmp_path / "stor.csv"
    example_data.write(big, 300_000, bad=False)
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(big))
    await page.click("#submit")
    await page.wait_for_selector("#current:not([hidden])", timeout=60_000)

    # Close the tab and come back: the job is listed again and followed live.
    context = page.context
    await page.close()
    again = await context.new_page()
    again.on("dialog", lambda d: pytest.fail(f"a dialog fired: {d.message}"))
    await again.goto(server.url + "/")
    job = again.locator("#jobs li.job", has_text="stor.csv")
    await job.wait_for()
    await expect(job).to_have_attribute("data-status", re.compile("pending|processing"))
    await again.wait_for_selector("#current:not([hidden])")
    # Mid-import, once the worker knows its pace: the ETA in the original's words.
    await expect(again.locator("#eta")).to_have_text(
        re.compile(r"^(Mindre än 1 minut kvar|Cirka 1 minut kvar|Cirka \d+ minuter kvar)\.\.\.$"), timeout=60_000)
    assert re.fullmatch(r"\d+ / 300000 aktiviteter", await again.text_content("#processed"))
    await shot(again, "cancel-before")
    await again.click("#cancel")
    await expect(again.locator("#current-title")).to_have_text("Import avbruten", timeout=60_000)
    await shot(again, "cancel-done")
    assert await again.is_visible("#retry")
    assert await again.locator("#jobs li.job[data-status=cancelled]").count() == 1


async def test_retry_of_a_failed_import(server: LiveServer, page, tmp_path) -> None:
    """A failed import shows "Import misslyckades" with its message, and "Försök igen" starts a new attempt."""
    token = server.token()
    wheel = server.wheel(token)
    bad = tmp_path / "trasig.csv"
    bad.write_bytes(ALL_BAD)
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(bad))
    await page.click("#submit")
    await expect(page.locator("#current-title")).to_have_text("Import misslyckades", timeout=60_000)
    assert "no_valid_rows" in await page.text_content("#job-error")
    await shot(page, "failed")
    await page.click("#retry")
    await expect(page.locator("#jobs li.job[data-status=failed]")).to_have_count(2, timeout=60_000)
    assert await page.text_content("#current-title") == "Import misslyckades"
    status, body = server.call("GET", "/api/imports?limit=5", token)
    assert status == 200
    retried = [j for j in body["jobs"] if j["retry_of"]]
    assert len(retried) == 1 and retried[0]["file_name"] == "trasig.csv"


# Delays every XMLHttpRequest's load event until the job list shows a failed job: the page then
# sees a job's events before its 202, as on a slow network with a fast worker.
HOLD_XHR_LOAD_UNTIL_FAILED = """
const add = XMLHttpRequest.prototype.addEventListener;
XMLHttpRequest.prototype.addEventListener = function (type, listener, ...rest) {
  if (type !== "load") return add.call(this, type, listener, ...rest);
  return add.call(this, type, function (event) {
    const started = Date.now();
    const later = () => (document.querySelector("#jobs li.job[data-status=failed]") || Date.now() - started > 30000)
      ? listener.call(this, event) : setTimeout(later, 50);
    later();
  }, ...rest);
};
"""


async def test_a_job_whose_events_beat_its_202_is_shown_as_the_current_one(server: LiveServer, page,
                                                                           tmp_path) -> None:
    """A fast import can end before its 202 reaches the page: the 202, older than the events
    already shown, still makes the job the current one."""
    token = server.token()
    wheel = server.wheel(token)
    bad = tmp_path / "snabb.csv"
    bad.write_bytes(ALL_BAD)
    await page.add_init_script(HOLD_XHR_LOAD_UNTIL_FAILED)
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(bad))
    await page.click("#submit")
    await expect(page.locator("#jobs li.job[data-status=failed]")).to_have_count(1, timeout=60_000)
    await expect(page.locator("#current")).to_be_visible()
    await expect(page.locator("#current-title")).to_have_text("Import misslyckades")
    assert await page.locator("#jobs li.job button", has_text="Visa").count() == 0


async def test_markup_from_the_file_is_shown_as_text(server: LiveServer, page, tmp_path) -> None:
    """A file and an error named like an HTML tag appear as text; no element is made and no dialog fires."""
    token = server.token()
    wheel = server.wheel(token)
    upload = tmp_path / f"{XSS}.csv"
    upload.write_text(f"Aktivitet,Startdatum,Slutdatum\n{XSS},2025-03-01,2025-03-02\n", encoding="utf-8")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(upload))
    await page.click("#submit")
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=60_000)
    assert await page.text_content("#current-file") == f"{XSS}.csv"
    assert await page.locator(".job-file", has_text=XSS).count() == 1
    assert await page.locator("img").count() == 0
    await page.wait_for_timeout(500)
    assert page.dialogs == [] and page.errors == []
    await shot(page, "xss-as-text")
    await page.set_viewport_size({"width": 1024, "height": 800})
    await shot(page, "desktop")


async def test_new_wheel_and_a_replace_import_that_asks_first(server: LiveServer, page, tmp_path) -> None:
    """A wheel made on the page gets the import; replace asks first, and saying no starts nothing."""
    token = server.token()
    await page.goto(f"{server.url}/#token={token}")
    await page.wait_for_selector("#app:not([hidden])")
    # A user without wheels finds the new-wheel form open.
    await expect(page.locator("#new-wheel")).to_be_visible()
    await page.fill("#wheel-title", "Byråns plan")
    await page.fill("#wheel-year", "2025")
    await page.click("#create-wheel")
    await expect(page.locator("#wheel-select option:checked")).to_have_text("Byråns plan (2025)")

    plan = tmp_path / "ersätt.csv"
    plan.write_text("Aktivitet,Startdatum,Slutdatum\nMöte,2025-03-01,2025-03-02\n", encoding="utf-8")
    await page.set_input_files("#file-input", str(plan))
    await page.check("input[name=mode][value=replace]")
    await page.click("#submit")
    dialog = page.locator("#confirm-replace")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Den gamla datan ligger kvar tills den nya är helt inläst")
    await shot(page, "replace-confirm")
    await page.click("#replace-no")
    await expect(dialog).to_be_hidden()
    status, body = server.call("GET", "/api/imports", token)
    assert status == 200 and body["jobs"] == []

    await page.click("#submit")
    await page.click("#replace-yes")
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=60_000)
    status, body = server.call("GET", "/api/imports", token)
    assert [(j["mode"], j["status"]) for j in body["jobs"]] == [("replace", "completed")]


async def test_sign_out_forgets_the_token_and_a_pasted_token_signs_in(server: LiveServer, page) -> None:
    """A bad token asks to sign in; "Logga ut" forgets a good one; a pasted token signs in again."""
    token = server.token()
    server.wheel(token, "Inklistrat hjul")
    await page.goto(f"{server.url}/#token=not-a-jwt")
    await expect(page.locator("#signin-error")).to_have_text("Din token är ogiltig eller har gått ut. Logga in igen.")
    await page.goto(f"{server.url}/#token={token}")
    await page.wait_for_selector("#app:not([hidden])")
    await page.click("#logout")
    await page.wait_for_selector("#signin:not([hidden])")
    assert await page.evaluate("() => localStorage.getItem('importer.token')") is None
    await page.reload()
    await page.wait_for_selector("#signin:not([hidden])")
    await page.fill("#token-input", token)
    await page.click("#signin-form button[type=submit]")
    await page.wait_for_selector("#app:not([hidden])")
    await expect(page.locator("#wheel-select option")).not_to_have_count(0)
    assert "Inklistrat hjul" in await page.text_content("#wheel-select")


def test_page_is_served_under_a_strict_csp(server: LiveServer) -> None:
    """`GET /` carries a CSP allowing only the page's own scripts; versioned static files are cached for good."""
    import urllib.request

    with urllib.request.urlopen(server.url + "/", timeout=10) as resp:
        csp = resp.headers["Content-Security-Policy"]
        html = resp.read().decode()
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    src = html.split('src="', 1)[1].split('"', 1)[0]
    assert src.startswith("/static/app.js?v=")
    with urllib.request.urlopen(server.url + src, timeout=10) as resp:
        assert "immutable" in resp.headers["Cache-Control"]
        assert resp.headers["Content-Type"].startswith("text/javascript")


def test_artifacts_are_ignored_by_git() -> None:
    """Screenshots land in tests/artifacts/, which git ignores."""
    root = Path(__file__).resolve().parent.parent.parent
    if not shutil.which("git") or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    import subprocess

    probe = ARTIFACTS / f"probe-{uuid.uuid4().hex}.png"
    result = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=root, check=False)
    assert result.returncode == 0


