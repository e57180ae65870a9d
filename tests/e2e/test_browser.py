"""The web page in a real headless Chromium against the real server and worker: upload (picker and
drop), progress, the outcome's counts, the wheel drawn after an import, the job list, cancel,
retry, and file text that never runs as HTML. Each state is saved as a screenshot in
tests/artifacts/ (git ignores them; look at them after a change to the page)."""

from __future__ import annotations

import asyncio
import base64
import csv
import datetime
import io
import math
import os
import random
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
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
# Sets a flag instead of opening a dialog, so that "nothing ran" is one read of the flag.
XSS_FLAG = "<img src=x onerror=window.__xss=1>"
PHONE = 375
ALL_BAD = "Aktivitet,Startdatum,Slutdatum\nMöte,snart,sedan\nPlanering,2025-13-45,\n".encode()

if not Path(CHROMIUM).exists():
    reason = f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) to run the browser tests"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture
async def page(browser, request) -> AsyncIterator:
    """A fresh page at a phone-like width in a Swedish browser; it records dialogs, page errors and streams."""
    # A Swedish browser, as the page's users have: the server's messages come in Swedish too.
    context = await browser.new_context(viewport={"width": 375, "height": 900}, accept_downloads=True,
                                        locale="sv-SE")
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
    """A full-page screenshot; at phone width the page must not be wider than the screen."""
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = page.viewport_size["width"]
    if width == PHONE:
        scroll_width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll_width <= PHONE, f"{name}: the page is {scroll_width} px wide on a {PHONE} px screen"


async def wheel_drawn(page) -> dict:
    """Waits until the wheel view has drawn and painted its page; its figures."""
    svg = page.locator("#wheel-svg[data-painted-ms]")
    await svg.wait_for(timeout=60_000)
    return await page.evaluate("""() => {
      const svg = document.querySelector('#wheel-svg');
      const arcs = [...svg.querySelectorAll('.arcs path')].reduce((n, p) => n + Number(p.dataset.arcs), 0);
      return {items: Number(svg.dataset.items), arcs, paths: svg.querySelectorAll('.arcs path').length,
              build: Number(svg.dataset.buildMs), painted: Number(svg.dataset.paintedMs),
              fetch: Number(document.querySelector('#wheel-view').dataset.fetchMs),
              year: Number(document.querySelector('#wheel-tabs [aria-selected=true]').dataset.year)};
    }""")


async def arcs_on_every_tab(page) -> dict[int, int]:
    """{year: arcs drawn} over every tab of the wheel view."""
    years = [int(y) for y in await page.locator("#wheel-tabs [role=tab]").evaluate_all(
        "tabs => tabs.map(t => t.dataset.year)")]
    drawn = {}
    for year in years:
        await page.click(f"#wheel-tab-{year}")
        await expect(page.locator("#wheel-tabs [aria-selected=true]")).to_have_attribute("data-year", str(year))
        drawn[year] = (await wheel_drawn(page))["arcs"]
    return drawn


def grouped(n: int) -> str:
    """A regex of `n` as the page writes it (sv-SE: groups of three split by a narrow or no-break space)."""
    digits = f"{n:,}".split(",")
    return "[\\s\u00a0\u202f]".join(digits)


def haystack(item: dict) -> str:
    """What the table's search looks through, as the page lower-cases it."""
    fields = (item["name"], item["group"], item["ring"], item["label"], item["description"],
              item["start_date"], item["end_date"])
    return "\n".join(f for f in fields if f).lower()


async def receipt(page) -> list[tuple[str, int, str]]:
    """The rows of the completed import's sum: (sign, number, text)."""
    rows = await page.locator("#receipt-body tr").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.textContent))")
    return [(sign, int(number), text) for sign, number, text in rows]


async def test_upload_runs_to_import_klar_with_live_progress(server: LiveServer, page) -> None:
    """Uploading the example shows "Import startad", a live bar to 100 %, "Import klar!", a sum of
    the rows that adds up, check marks only on what is there, errors.csv, and the wheel drawn
    with one arc per item on one tab per year."""
    token = server.token(email="webb@example.test")
    wheel = server.wheel(token, "Redovisningsbyrån 2025")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    assert "token=" not in page.url, "the token must leave the address bar"
    assert await page.input_value("#wheel-select") == wheel
    assert await page.text_content("#submit") == "Importera"
    # The link names a wheel without items: its view says so instead of drawing an empty wheel.
    await expect(page.locator("#wheel-status")).to_contain_text("inga aktiviteter ännu")
    await shot(page, "upload")

    await page.set_input_files("#file-input", str(EXAMPLE))
    await expect(page.locator("#file-chosen")).to_have_text(re.compile(r"^aktiviteter\.csv \(\d+ kB\)$"))
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
            # The example takes a second: its bar may still be easing; "progress" is the big file's.
            await shot(page, "progress-example")
            processed = await page.text_content("#processed")
            assert processed == "" or re.fullmatch(r"\d+ / 2000 rader", processed), processed
            # While running, only what exists so far gets a check mark: never "✓ 0 ...".
            assert "✓ 0" not in await page.text_content("#counts")
        if await page.text_content("#current-title") == "Import klar!":
            break
        await page.wait_for_timeout(100)
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=120_000)
    await page.wait_for_timeout(400)  # let the bar's short transition finish before the picture
    assert await page.get_attribute("#bar", "aria-valuenow") == "100"
    assert await page.text_content("#percent") == "100%"
    counts = await page.text_content("#counts")
    assert "✓ 3 nya ringar" in counts and "✓ 39 nya grupper" in counts and "✓ 0" not in counts
    assert await page.is_hidden("#processed")  # the sum below says it all

    status, job = server.call("GET", f"/api/imports/{await page.get_attribute('#jobs li.job', 'data-id')}", token)
    assert status == 200 and job["status"] == "completed"
    status, stored = server.call("GET", f"/api/wheels/{wheel}", token)
    assert status == 200
    items = stored["counts"]["items"]
    # The sum: items saved + duplicates skipped − extra pieces of year-crossing activities +
    # rejected rows = the file's 2000 rows; the example has activities that cross a year.
    pieces = items + job["counts"]["skipped_duplicates"] + 6 - 2000
    assert pieces > 0
    rows = await receipt(page)
    assert rows[0] == ("✓", items, "aktiviteter sparade i hjulet")
    assert ("−", pieces, "extra delar: aktiviteter över ett årsskifte, en del per år") in rows
    assert ("+", 6, "rader avvisades") in rows
    assert rows[-1] == ("=", 2000, "rader i filen")
    total = sum(n if sign in ("✓", "+") else -n for sign, n, _ in rows[:-1])
    assert total == 2000
    assert await page.is_visible("#split-note")
    assert await page.text_content("#rejected") == "6 rader kunde inte importeras: se errors.csv för rad och orsak."

    # The wheel it filled is drawn at once: one tab per page, one arc per item.
    first = await wheel_drawn(page)
    print(f"\nwheel view, {first['items']} items on the first tab of the example: fetch {first['fetch']:.0f} ms, "
          f"build {first['build']:.1f} ms, on screen {first['painted']:.1f} ms")
    await expect(page.locator("#wheel-heading")).to_have_text("Årshjulet Redovisningsbyrån 2025 (2025)")
    assert first["year"] == 2025  # the wheel's own year
    await shot(page, "completed-with-wheel")
    drawn = await arcs_on_every_tab(page)
    assert len(drawn) == stored["counts"]["pages"] and sum(drawn.values()) == items, (drawn, stored["counts"])
    # The legend's counts are the arcs, group by group.
    await page.click("#wheel-tab-2025")
    legend_total = sum(int(re.sub(r"\D", "", n)) for n in
                       await page.locator("#wheel-legend .legend-count").all_text_contents())
    assert legend_total == drawn[2025]

    async with page.expect_download() as info:
        await page.click("#errors")
    download = await info.value
    rejected = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
    assert len(list(csv.reader(io.StringIO(rejected)))) == 7, rejected  # a header and the six bad rows

    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.wait_for_timeout(200)
    await shot(page, "completed-with-wheel-desktop")
    # The README's picture: the outcome and the wheel, as a desktop screen shows them first.
    await page.screenshot(path=str(ARTIFACTS / "readme-wheel.png"), full_page=True,
                          clip={"x": 0, "y": 0, "width": 1280, "height": 1380})

    # Only ever the one user-wide stream, never one per job.
    assert page.streams and all("/api/events?access_token=" in url for url in page.streams), page.streams
    assert not page.errors and not page.dialogs


async def test_the_table_beside_the_wheel_is_searchable_and_paged(server: LiveServer, page) -> None:
    """The table beside the wheel lists the selected year's items a page at a time; a search, a
    legend group and a click on the drawing each narrow it, and "Visa alla" widens it again."""
    token = server.token()
    wheel = server.wheel(token, "Sökbart hjul")
    job = server.submit(token, wheel, EXAMPLE.read_bytes(), file_name="aktiviteter.csv")
    server.wait(token, job["id"], {"completed"})
    status, items = server.call("GET", f"/api/wheels/{wheel}/items?year=2025&limit=10000", token)
    assert status == 200
    total = len(items["items"])
    await page.goto(signed_in(server, token, wheel))
    await wheel_drawn(page)
    await expect(page.locator("#wheel-count")).to_have_text(re.compile(f"^1–10 av {grouped(total)}$"))
    await expect(page.locator("#wheel-tbody tr")).to_have_count(10)
    await page.click("#wheel-next")
    await expect(page.locator("#wheel-count")).to_have_text(re.compile(r"^11–20 av "))

    wanted = [it for it in items["items"] if "momsdeklaration" in haystack(it)]
    await page.fill("#wheel-search", "momsdeklaration")
    await expect(page.locator("#wheel-count")).to_contain_text(f"av {len(wanted)} (av ")
    assert await page.locator("#wheel-tbody tr").count() == min(10, len(wanted))
    await page.fill("#wheel-search", "")

    # On a phone the legend starts folded.
    await page.click("#wheel-view .legend summary")
    group = await page.locator("#wheel-legend .legend-name").first.text_content()
    await page.locator("#wheel-legend .legend-item").first.click()
    in_group = sum(1 for it in items["items"] if it["group"] == group)
    await expect(page.locator("#wheel-count")).to_contain_text(f"av {in_group} (av ")
    assert await page.locator("#wheel-svg .arcs path:not(.dim)").evaluate_all(
        "(paths, group) => paths.length > 0 && paths.every(p => p.dataset.group === group)", group)
    await page.click("#wheel-filter-clear")

    # A click in the middle of the outermost ring, half-way through 1 July, lists that ring's
    # items of that day. The drawing's viewBox is -500..500; 1 July is day 181 of 365, clockwise
    # from 12 o'clock; the rings fill radii 118 to 430 in equal bands.
    await page.locator("#wheel-svg").scroll_into_view_if_needed()
    box = await page.locator("#wheel-svg").bounding_box()  # in the viewport's coordinates
    ring_names = await page.locator("#wheel-rings .ring-name").all_text_contents()
    ring = ring_names[0].split(" ", 1)[1]
    day = datetime.date(2025, 7, 1)
    angle = (day.timetuple().tm_yday - 1 + 0.5) / 365 * 2 * math.pi
    radius = 430 - (430 - 118) / len(ring_names) / 2
    x, y = radius * math.sin(angle), -radius * math.cos(angle)
    await page.mouse.click(box["x"] + (x + 500) / 1000 * box["width"], box["y"] + (y + 500) / 1000 * box["height"])
    on_day = [it for it in items["items"] if it["ring"] == ring
              and it["start_date"] <= day.isoformat() <= (it["end_date"] or it["start_date"])]
    await expect(page.locator("#wheel-filter-text")).to_have_text(f"Visar 1 jul i ringen {ring}")
    await expect(page.locator("#wheel-count")).to_contain_text(
        f"av {len(on_day)} (av " if on_day else "Inga aktiviteter matchar.")
    await shot(page, "wheel-filtered")
    await page.click("#wheel-filter-clear")
    await expect(page.locator("#wheel-filter")).to_be_hidden()
    assert not page.errors


async def test_the_picker_takes_spreadsheets_and_a_dropped_csv_is_imported(server: LiveServer, page, tmp_path) -> None:
    """The file picker offers CSV, TSV, TXT, xlsx, xls and ods; a CSV dropped on the drop zone is
    chosen and imported."""
    token = server.token()
    wheel = server.wheel(token, "Släppt fil")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    accept = (await page.get_attribute("#file-input", "accept")).split(",")
    for kind in (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods"):
        assert kind in accept, accept
    for media in ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "application/vnd.ms-excel", "application/vnd.oasis.opendocument.spreadsheet"):
        assert media in accept, accept

    # The picker is reached from the keyboard too: the input, out of sight, still takes the focus
    # (and the drop zone shows it).
    await expect(page.locator("#show-wheel")).to_be_visible()
    await page.focus("#wheel-select")
    for _ in range(3):  # past "Visa hjulet" and "Nytt hjul"
        await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.id") == "file-input"
    assert await page.evaluate("() => document.querySelector('#drop-zone').matches(':focus-within')")

    content = "Aktivitet;Startdatum;Slutdatum\nSläppt möte;2025-04-01;2025-04-03\nNästa möte;2025-05-02;2025-05-02\n"
    # A real drop: a DataTransfer holding the file, dispatched on the zone as the browser would.
    transfer = await page.evaluate_handle("""(content) => {
      const data = new DataTransfer();
      data.items.add(new File([content], "släppt.csv", {type: "text/csv"}));
      return data;
    }""", content)
    await page.dispatch_event("#drop-zone", "dragover", {"dataTransfer": transfer})
    await expect(page.locator("#drop-zone")).to_have_class(re.compile(r"\bover\b"))
    await page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    await expect(page.locator("#file-chosen")).to_have_text(f"släppt.csv ({len(content.encode())} B)")
    await shot(page, "upload-dropped")
    await page.click("#submit")
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=60_000)
    assert await page.text_content("#current-file") == "släppt.csv"
    assert (await wheel_drawn(page))["arcs"] == 2
    status, body = server.call("GET", f"/api/wheels/{wheel}/items", token)
    assert status == 200 and [it["name"] for it in body["items"]] == ["Släppt möte", "Nästa möte"]
    assert not page.errors


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def plan_workbook(*, bad_row: bool = True, crossing: bool = True) -> bytes:
    """An xlsx as Excel writes it: a sheet "Plan" of 25 activities in 2 rings and 3 groups, with
    date cells, a "Kontakt" column that no field takes by its name (one activity across the
    year end and one row without a name if asked), and a second sheet "Annat" of 2 rows."""
    from tests.data.workbooks import xlsx

    rows: list[list] = [["Aktivitet", "Start", "Slut", "Område", "Kategori", "Kontakt"]]
    for n in range(25):
        start = datetime.date(2025, 1 + n % 12, 1 + n)
        end = start + datetime.timedelta(days=n % 5)
        rows.append([f"Möte {n + 1}", start, end, ("Ekonomi", "Personal")[n % 2],
                     ("Möten", "Bokslut", "Lön")[n % 3], ("Eva", "Bo", "Sara")[n % 3]])
    if crossing:
        rows[-1] = ["Julstängt", datetime.date(2025, 12, 20), datetime.date(2026, 1, 6), "Personal", "Lön", "Bo"]
    if bad_row:
        rows.append([None, datetime.date(2025, 5, 5), datetime.date(2025, 5, 6), "Ekonomi", "Möten", "Eva"])
    other = [["Aktivitet", "Datum"], ["Kick-off", datetime.date(2025, 8, 20)], ["Julbord", datetime.date(2025, 12, 12)]]
    return xlsx({"Plan": rows, "Annat": other})


async def drop(page, name: str, content: bytes, media_type: str) -> None:
    """A real drop of a file on the drop zone: a DataTransfer holding it, dispatched as the browser would."""
    transfer = await page.evaluate_handle("""([name, b64, type]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], name, {type}));
      return data;
    }""", [name, base64.b64encode(content).decode(), media_type])
    await page.dispatch_event("#drop-zone", "dragover", {"dataTransfer": transfer})
    await page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})


async def reviewed(page) -> None:
    """Waits until the review shows a preview and is not recomputing it."""
    # A large file takes its upload and the preview's time budget (on a busy machine, more).
    await expect(page.locator("#review-body")).to_be_visible(timeout=60_000)
    await expect(page.locator("#review")).to_have_attribute("aria-busy", "false", timeout=60_000)
    await expect(page.locator("#submit")).to_be_enabled()


async def phone_closeups(page, name: str) -> None:
    """The review at phone width in screen-high pieces (a whole page shrinks too far to read)."""
    box = await page.locator("#review").bounding_box()
    top = box["y"] + await page.evaluate("() => window.scrollY")
    for n in range(math.ceil(box["height"] / 900)):
        height = min(900, box["height"] - n * 900)
        await page.screenshot(path=str(ARTIFACTS / f"{name}-{n + 1}.png"), full_page=True,
                              clip={"x": 0, "y": top + n * 900, "width": PHONE, "height": height})


async def review_counts(page) -> list[str]:
    return await page.locator("#review-counts .count-part").all_text_contents()


async def review_arcs(page) -> dict[int, int]:
    """{year: arcs drawn} over every tab of the review's planned wheel."""
    drawn = {}
    tabs = page.locator("#review-wheel-tabs [role=tab]")
    for year in [int(y) for y in await tabs.evaluate_all("tabs => tabs.map(t => t.dataset.year)")]:
        await page.click(f"#review-wheel-tab-{year}")
        await page.locator("#review-wheel-svg[data-painted-ms]").wait_for()
        drawn[year] = await page.evaluate("""() => [...document.querySelectorAll('#review-wheel-svg .arcs path')]
          .reduce((n, p) => n + Number(p.dataset.arcs), 0)""")
    return drawn


async def test_an_xlsx_dropped_is_reviewed_remapped_and_imported(server: LiveServer, page) -> None:
    """A dropped xlsx is reviewed before anything is saved (file facts, sheets, columns, counts in
    words, the planned wheel, the rejected row); a sheet switch and a column remapped to the label
    are planned again; "Importera" then imports exactly that, with progress, the wheel drawn with
    one arc per counted item and the errors.csv hint, and the corrected errors.csv imports its row."""
    token = server.token()
    wheel = server.wheel(token, "Granskat hjul")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await drop(page, "plan.xlsx", plan_workbook(), XLSX)
    await reviewed(page)
    assert await page.is_hidden("#upload-card")
    await expect(page.locator("#review-file")).to_have_text(re.compile(r"^plan\.xlsx \(\d+ kB\)$"))
    facts = dict(await page.locator("#review-facts .fact").evaluate_all(
        "facts => facts.map(f => [f.querySelector('dt').textContent, f.querySelector('dd').textContent])"))
    assert facts == {"Format": "Excel (xlsx)", "Blad": "Plan", "Rubrikrad": "rad 1",
                     "Datumordning": "dagen före månaden", "Rader": "26"}, facts
    assert await page.is_hidden("#review-dates")  # date cells leave no order to choose
    assert await page.locator("#review-sheet option").all_text_contents() == ["Plan", "Annat"]
    columns = await page.locator("#review-columns-body tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('.column-header').textContent, r.querySelector('select').value])")
    assert columns == [["Aktivitet", "name"], ["Start", "start"], ["Slut", "end"], ["Område", "ring"],
                       ["Kategori", "group"], ["Kontakt", ""]], columns
    assert await review_counts(page) == ["2 nya ringar", "3 nya grupper", "26 aktiviteter, 1 delas vid årsskiftet",
                                         "1 rad avvisas"]
    codes = await page.locator("#review-warnings li").evaluate_all("items => items.map(i => i.dataset.code)")
    assert "unmapped_column" in codes and "other_sheets" in codes, codes
    await expect(page.locator("#review-warnings li[data-code=other_sheets]")).to_contain_text("Annat")
    await expect(page.locator("#review-rejected-summary")).to_have_text("1 rad avvisas – rad och orsak")
    assert (await page.locator("#review-rejected-body td").first.text_content()) == "27"
    # The planned wheel: every planned item is an arc, the piece across the year end on 2026's tab.
    assert await review_arcs(page) == {2025: 25, 2026: 1}
    # Nothing is saved while reviewing.
    status, stored = server.call("GET", f"/api/wheels/{wheel}", token)
    assert status == 200 and stored["counts"]["items"] == 0
    await page.click("#review-wheel-tab-2025")
    await shot(page, "review")
    await phone_closeups(page, "review")

    # Another sheet is another file to plan; back again, the first one's review returns.
    await page.select_option("#review-sheet", "Annat")
    await reviewed(page)
    await expect(page.locator("#review-counts")).to_contain_text("2 aktiviteter")
    await expect(page.locator("#review-columns-body .column-header")).to_have_text(["Aktivitet", "Datum"])
    await page.select_option("#review-sheet", "Plan")
    await reviewed(page)
    await expect(page.locator("#review-counts")).to_contain_text("26 aktiviteter")

    # The person column becomes the label: planned again, three new labels, no unmapped column.
    # The answer is held back a moment, so that the busy state can be seen for sure.
    async def slow_patch(route) -> None:
        if route.request.method == "PATCH":
            await asyncio.sleep(0.5)
        await route.continue_()

    await page.route("**/api/previews/*", slow_patch)
    await page.select_option("#review-columns-body select[data-header=Kontakt]", "label")
    await expect(page.locator("#review")).to_have_attribute("aria-busy", "true")
    await expect(page.locator("#review-busy")).to_have_text("Räknar om…")
    assert await page.is_disabled("#submit") and await page.is_disabled("#review-sheet")
    await reviewed(page)
    await page.unroute("**/api/previews/*", slow_patch)
    assert await review_counts(page) == ["2 nya ringar", "3 nya grupper", "3 nya etiketter",
                                         "26 aktiviteter, 1 delas vid årsskiftet", "1 rad avvisas"]
    assert await page.input_value("#review-columns-body select[data-header=Kontakt]") == "label"
    codes = await page.locator("#review-warnings li").evaluate_all("items => items.map(i => i.dataset.code)")
    assert "unmapped_column" not in codes, codes
    await expect(page.locator("#review-wheel-tbody tr").first.locator("td").nth(3)).not_to_have_text("")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.wait_for_timeout(200)
    await shot(page, "review-desktop")
    await page.set_viewport_size({"width": PHONE, "height": 900})

    await page.click("#submit")
    await page.wait_for_selector("#current:not([hidden])")
    assert await page.is_hidden("#review") and await page.is_visible("#upload-card")
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=60_000)
    status, stored = server.call("GET", f"/api/wheels/{wheel}", token)
    assert status == 200 and stored["counts"]["items"] == 26 and stored["counts"]["labels"] == 3
    status, items = server.call("GET", f"/api/wheels/{wheel}/items", token)
    assert sorted({it["label"] for it in items["items"]}) == ["Bo", "Eva", "Sara"]
    await wheel_drawn(page)
    assert await arcs_on_every_tab(page) == {2025: 25, 2026: 1}
    await expect(page.locator("#fix-hint")).to_be_visible()
    await expect(page.locator("#fix-hint")).to_contain_text("Rätta och importera igen")
    await expect(page.locator("#errors")).to_be_visible()
    await shot(page, "review-imported")

    # As the hint says: errors.csv, its empty name filled in, dropped here again is reviewed
    # without its Rad and Orsak columns and imports the corrected row.
    async with page.expect_download() as info:
        await page.click("#errors")
    download = await info.value
    text = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Rad" and rows[0][-1] == "Orsak" and len(rows) == 2, rows
    rows[1][rows[0].index("Aktivitet")] = "Möte 26"
    fixed = io.StringIO()
    csv.writer(fixed, delimiter=";", lineterminator="\r\n").writerows(rows)
    await drop(page, "errors.csv", ("\ufeff" + fixed.getvalue()).encode(), "text/csv")
    await reviewed(page)
    columns = dict(await page.locator("#review-columns-body tr").evaluate_all(
        "rows => rows.map(r => [r.querySelector('.column-header').textContent, r.querySelector('select').value])"))
    assert columns["Rad"] == "skip" and columns["Orsak"] == "skip" and columns["Aktivitet"] == "name", columns
    await expect(page.locator("#review-columns-body select[data-header=Rad] option:checked")).to_have_text("Läses inte")
    assert "1 aktivitet" in await review_counts(page)
    await expect(page.locator("#review-wheel-tbody .item-name")).to_contain_text("Möte 26")
    assert "Orsak" not in (await page.text_content("#review-wheel-tbody"))
    await shot(page, "review-corrected-errors")
    await page.click("#submit")
    await expect(page.locator("#current-file")).to_have_text("errors.csv")
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=60_000)
    await expect(page.locator("#fix-hint")).to_be_hidden()
    status, stored = server.call("GET", f"/api/wheels/{wheel}", token)
    assert status == 200 and stored["counts"]["items"] == 27
    assert not page.errors and not page.dialogs


async def test_a_second_import_of_the_same_file_skips_what_the_wheel_has(server: LiveServer, page, tmp_path) -> None:
    """The same xlsx imported again says in the review that its 25 activities are already on the
    wheel and will be skipped; imported anyway, the wheel keeps its 25 items."""
    token = server.token()
    wheel = server.wheel(token, "Dubbletter")
    content = plan_workbook(bad_row=False, crossing=False)
    status, job = server.call("POST", f"/api/wheels/{wheel}/imports?file_name=plan.xlsx", token, content, XLSX)
    assert status == 202, job
    assert server.wait(token, job["id"], {"completed"})["counts"]["items"] == 25
    upload = tmp_path / "plan.xlsx"
    upload.write_bytes(content)
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(upload))
    await reviewed(page)
    assert await review_counts(page) == ["2 ringar", "3 grupper", "0 aktiviteter", "25 finns redan och hoppas över"]
    await expect(page.locator("#review-warnings li[data-code=duplicate_items]")).to_be_visible()
    await expect(page.locator("#review-skip")).to_be_checked()
    await shot(page, "review-duplicates")
    # Kept instead, they would be imported again: the words say so.
    await page.uncheck("#review-skip")
    assert await review_counts(page) == ["2 ringar", "3 grupper", "25 aktiviteter",
                                         "25 finns redan och importeras igen"]
    await page.check("#review-skip")
    await page.click("#submit")
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=60_000)
    rows = await receipt(page)
    assert ("+", 25, "fanns redan i hjulet och hoppades över") in rows and rows[-1] == ("=", 25, "rader i filen")
    status, stored = server.call("GET", f"/api/wheels/{wheel}", token)
    assert status == 200 and stored["counts"]["items"] == 25
    assert not page.errors


async def test_dates_that_read_both_ways_offer_the_order_and_a_flip_changes_the_items(server: LiveServer,
                                                                                    page, tmp_path) -> None:
    """A date column whose every date reads both ways shows the date order as an assumption with a
    switch; flipping it to month first moves the first planned item from 3 April to 4 March, and
    a refused change leaves the review as it was, with the reason."""
    token = server.token()
    wheel = server.wheel(token)
    upload = tmp_path / "tvetydig.csv"
    upload.write_text("Aktivitet;Start\nMöte;03/04/2025\nKurs;05/06/2025\n", encoding="utf-8")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(upload))
    await reviewed(page)
    # The picker is out of sight now: the keyboard goes on from the review's heading.
    assert await page.evaluate("() => document.activeElement.id") == "review-heading"
    dates = page.locator("#review-dates")
    await expect(dates).to_be_visible()
    await expect(dates).to_have_class(re.compile(r"\bassumed\b"))
    await expect(page.locator("#review-warnings li[data-code=date_order_assumed]")).to_be_visible()
    assert await page.is_checked("input[name=date-order][value=day_first]")
    first_date = page.locator("#review-wheel-tbody tr").first.locator("td").nth(1)
    await expect(first_date).to_have_text("3 apr")
    await shot(page, "review-date-order")

    await page.check("input[name=date-order][value=month_first]")
    await reviewed(page)
    await expect(first_date).to_have_text("4 mar")
    assert await page.is_checked("input[name=date-order][value=month_first]")
    await expect(dates).not_to_have_class(re.compile(r"\bassumed\b"))

    # A change the server refuses (no column left for the name: 422) is said in the review, and
    # the review stays as it was; so does one for a preview that has expired meanwhile (404).
    await page.select_option("#review-columns-body select[data-header=Aktivitet]", "ignore")
    await expect(page.locator("#review-error")).to_contain_text("Ingen kolumn kan användas som aktivitetens namn")
    await expect(page.locator("#review")).to_have_attribute("aria-busy", "false")
    assert await page.input_value("#review-columns-body select[data-header=Aktivitet]") == "name"
    await expect(first_date).to_have_text("4 mar")
    await expect(page.locator("#submit")).to_be_enabled()
    await shot(page, "review-refused")
    with psycopg.connect(server.db_url, autocommit=True) as conn:
        conn.execute("UPDATE import_previews SET updated_at = now() - interval '2 days',"
                     " expires_at = now() - interval '1 day'")
    # A click, not check(): the refusal puts the radio back before check() could see it set.
    await page.click("input[name=date-order][value=day_first]")
    await expect(page.locator("#review-error")).to_have_text(re.compile(r"^Ändringen gick inte: (?!Ingen kolumn)"))
    await expect(page.locator("#review")).to_have_attribute("aria-busy", "false")
    await expect(first_date).to_have_text("4 mar")
    assert await page.is_checked("input[name=date-order][value=month_first]")

    # "Avbryt" leaves the review: the drop zone is back, nothing was imported.
    await page.click("#review-cancel")
    await expect(page.locator("#review")).to_be_hidden()
    await expect(page.locator("#upload-card")).to_be_visible()
    await expect(page.locator("#file-chosen")).to_be_hidden()
    status, body = server.call("GET", "/api/imports", token)
    assert status == 200 and body["jobs"] == []
    assert not page.errors



async def test_a_file_that_cannot_be_an_import_returns_to_the_drop_zone(server: LiveServer, page, tmp_path) -> None:
    """A file with no column for a name or a date (422) opens no review: the drop zone is back
    with the server's reason in Swedish, and nothing was imported."""
    token = server.token()
    wheel = server.wheel(token)
    upload = tmp_path / "siffror.csv"
    upload.write_text("Foo;Bar\n1;2\n", encoding="utf-8")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(upload))
    await expect(page.locator("#upload-error")).to_contain_text("siffror.csv: Ingen kolumn kan användas")
    await expect(page.locator("#review")).to_be_hidden()
    await expect(page.locator("#upload-card")).to_be_visible()
    await shot(page, "review-refused-file")
    status, body = server.call("GET", "/api/imports", token)
    assert status == 200 and body["jobs"] == []
    assert not page.errors

async def test_cancel_a_large_import_and_see_it_again_after_reopening(server: LiveServer, page, tmp_path) -> None:
    """A 300,000-row import shows in a reopened tab, live; "Avbryt import" cancels it and the card
    says nothing was saved (no bar, no "N / 300000"); once retried, the job offers no second retry."""
    token = server.token()
    wheel = server.wheel(token)
    big = tmp_path / "stor.csv"
    example_data.write(big, 300_000, bad=False)
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(big))
    await reviewed(page)
    await shot(page, "review-large")
    await page.click("#submit")
    await page.wait_for_selector("#current:not([hidden])", timeout=60_000)

    # Close the tab and come back: the job is listed again and followed live.
    context = page.context
    await page.close()
    again = await context.new_page()
    again.on("dialog", lambda d: pytest.fail(f"a dialog fired: {d.message}"))
    errors: list[str] = []
    again.on("pageerror", lambda exc: errors.append(str(exc)))
    await again.goto(server.url + "/")
    job = again.locator("#jobs li.job", has_text="stor.csv")
    await job.wait_for()
    await expect(job).to_have_attribute("data-status", re.compile("pending|processing"))
    await expect(job.locator(".job-wheel")).to_have_text("Plan 2025 (2025)")
    await expect(job.locator(".job-mode")).to_have_text("Lägg till")
    await again.wait_for_selector("#current:not([hidden])")
    # Mid-import, once the worker knows its pace: the ETA in the original's words.
    await expect(again.locator("#eta")).to_have_text(
        re.compile(r"^(Mindre än 1 minut kvar|Cirka 1 minut kvar|Cirka \d+ minuter kvar)\.\.\.$"), timeout=60_000)
    assert re.fullmatch(r"\d+ / 300000 rader", await again.text_content("#processed"))
    await again.wait_for_timeout(250)  # the bar eases to its value in 0.2 s
    await shot(again, "progress")
    await again.click("#cancel")
    await expect(again.locator("#current-title")).to_have_text("Import avbruten", timeout=60_000)
    await expect(again.locator("#nothing-saved")).to_have_text("Ingenting sparades – hjulet är som före importen.")
    card = await again.inner_text("#current")  # what shows, not the hidden parts
    assert "300000" not in card and "%" not in card, card
    assert await again.is_hidden("#bar-row") and await again.is_hidden("#processed")
    assert await again.is_hidden("#counts") and await again.is_hidden("#result")
    await expect(job.locator(".job-detail")).to_have_text("Avbruten – ingenting sparades.")
    await shot(again, "cancelled")
    cancelled_id = await job.get_attribute("data-id")

    # "Försök igen" once: a new job with retry_of; the cancelled job then has no retry button.
    await again.click("#retry")
    retry_item = again.locator("#jobs li.job", has_text="stor.csv").first
    await expect(again.locator("#jobs li.job")).to_have_count(2)
    original = again.locator(f"#jobs li.job[data-id='{cancelled_id}']")
    await expect(original.locator("button", has_text="Försök igen")).to_have_count(0)
    await expect(original.locator(".job-retried")).to_have_text("Har körts igen.")
    status, body = server.call("GET", "/api/imports?limit=5", token)
    retries = [j for j in body["jobs"] if j["retry_of"] == cancelled_id]
    assert status == 200 and len(retries) == 1
    await expect(retry_item).to_have_attribute("data-id", retries[0]["id"])
    # Stop the retry too, from its own card (it is the current job now).
    await expect(again.locator("#cancel")).to_be_visible()
    await again.click("#cancel")
    await expect(again.locator("#current-title")).to_have_text("Import avbruten", timeout=60_000)

    # Shown the cancelled original again, even after a reload, it offers the retry that exists.
    await again.reload()
    await original.locator("button", has_text="Visa").click()
    await expect(again.locator("#retried")).to_have_text("Importen har redan körts igen.")
    await expect(again.locator("#current-title")).to_have_text("Import avbruten")
    await expect(again.locator("#retry")).to_be_hidden()
    await again.click("#show-retry")
    await expect(again.locator(f"#jobs li.job[data-id='{retries[0]['id']}'] button", has_text="Visa")).to_have_count(0)
    assert not errors


async def test_retry_of_a_failed_import(server: LiveServer, page, tmp_path) -> None:
    """A failed import shows "Import misslyckades", its message and that nothing was saved;
    "Försök igen" starts one new attempt, and a retry made elsewhere (another tab, the CLI)
    takes the button away too."""
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
    await expect(page.locator("#nothing-saved")).to_have_text("Ingenting sparades – hjulet är som före importen.")
    await shot(page, "failed")
    first_id = await page.get_attribute("#jobs li.job", "data-id")
    await page.click("#retry")
    await expect(page.locator("#jobs li.job[data-status=failed]")).to_have_count(2, timeout=60_000)
    assert await page.text_content("#current-title") == "Import misslyckades"
    status, body = server.call("GET", "/api/imports?limit=5", token)
    assert status == 200
    retried = [j for j in body["jobs"] if j["retry_of"]]
    assert len(retried) == 1 and retried[0]["file_name"] == "trasig.csv" and retried[0]["retry_of"] == first_id
    await expect(page.locator(f"#jobs li.job[data-id='{first_id}'] button", has_text="Försök igen")).to_have_count(0)

    # The second attempt is retried by someone else: its button goes once the new job shows up.
    second = page.locator(f"#jobs li.job[data-id='{retried[0]['id']}']")
    await expect(second.locator("button", has_text="Försök igen")).to_have_count(1)
    status, third = server.call("POST", f"/api/imports/{retried[0]['id']}/retry", token)
    assert status == 202, third
    await expect(second.locator("button", has_text="Försök igen")).to_have_count(0)
    await expect(page.locator("#jobs li.job")).to_have_count(3)

    # The failure e-mail's link (`#wheel=…&job=…`) shows that job, not the newest.
    await page.goto("about:blank")
    await page.goto(f"{server.url}/#wheel={wheel}&job={first_id}")
    await expect(page.locator(f"#jobs li.job[data-id='{first_id}']")).to_be_visible()
    await expect(page.locator(f"#jobs li.job[data-id='{first_id}'] button", has_text="Visa")).to_have_count(0)
    await expect(page.locator("#retried")).to_have_text("Importen har redan körts igen.")
    assert not page.errors


async def test_the_job_list_shows_wheel_and_mode_filters_and_loads_more(server: LiveServer, page) -> None:
    """Each listed import names its wheel and mode; the list filters by wheel and by status, and
    "Visa fler" loads older imports after the first 20."""
    token = server.token()
    plan = server.wheel(token, "Planering 2025")
    other = server.wheel(token, "Annat hjul", 2026)
    good = "Aktivitet,Startdatum,Slutdatum\nMöte,2025-03-01,2025-03-02\n".encode()
    jobs = [server.submit(token, plan, good, file_name=f"fil-{n:02d}.csv") for n in range(21)]
    jobs.append(server.submit(token, plan, ALL_BAD, file_name="trasig.csv"))
    status, replaced = server.call("POST", f"/api/wheels/{other}/imports?mode=replace&file_name=ersatt.csv",
                                   token, good, "text/csv")
    assert status == 202, replaced
    for job in [*jobs, replaced]:
        server.wait(token, job["id"], {"completed", "failed"})

    await page.goto(signed_in(server, token, plan))
    await page.wait_for_selector("#app:not([hidden])")
    items = page.locator("#jobs li.job")
    await expect(items).to_have_count(20)
    newest = items.first
    await expect(newest.locator(".job-file")).to_have_text("ersatt.csv")
    await expect(newest.locator(".job-wheel")).to_have_text("Annat hjul (2026)")
    await expect(newest.locator(".job-mode")).to_have_text("Ersätt")
    await expect(items.nth(2).locator(".job-wheel")).to_have_text("Planering 2025 (2025)")
    await expect(items.nth(2).locator(".job-mode")).to_have_text("Lägg till")
    await shot(page, "job-list")
    await page.click("#jobs-more")
    await expect(items).to_have_count(23)
    await expect(page.locator("#jobs-more")).to_be_hidden()
    files = await page.locator("#jobs .job-file").all_text_contents()
    assert files[0] == "ersatt.csv" and files[-1] == "fil-00.csv" and len(set(files)) == 23

    await page.select_option("#filter-wheel", other)
    await expect(items).to_have_count(1)
    await expect(items.first.locator(".job-file")).to_have_text("ersatt.csv")
    await page.select_option("#filter-wheel", "")
    await page.select_option("#filter-status", "failed")
    await expect(items).to_have_count(1)
    await expect(items.first.locator(".job-file")).to_have_text("trasig.csv")
    await page.select_option("#filter-wheel", other)
    await expect(items).to_have_count(0)
    await expect(page.locator("#jobs-empty")).to_have_text("Inga importer matchar filtret.")

    # "Visa hjulet" draws the wheel chosen for the next import.
    await page.select_option("#wheel-select", other)
    await page.click("#show-wheel")
    await expect(page.locator("#wheel-heading")).to_have_text("Årshjulet Annat hjul (2026)")
    assert (await wheel_drawn(page))["arcs"] == 1
    assert not page.errors


# Delays the answer to every POST that starts an import (…/imports) until the job list shows a
# failed job: the page then sees a job's events before its 202, as on a slow network with a
# fast worker.
HOLD_IMPORT_ANSWER_UNTIL_FAILED = """
const original = window.fetch;
window.fetch = function (url, options = {}) {
  const answer = original.call(this, url, options);
  if (options.method !== "POST" || !String(url).endsWith("/imports")) return answer;
  return answer.then((response) => new Promise((resolve) => {
    const started = Date.now();
    const later = () => (document.querySelector("#jobs li.job[data-status=failed]") || Date.now() - started > 30000)
      ? resolve(response) : setTimeout(later, 50);
    later();
  }));
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
    await page.add_init_script(HOLD_IMPORT_ANSWER_UNTIL_FAILED)
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(bad))
    await page.click("#submit")
    await expect(page.locator("#jobs li.job[data-status=failed]")).to_have_count(1, timeout=60_000)
    await expect(page.locator("#current")).to_be_visible()
    await expect(page.locator("#current-title")).to_have_text("Import misslyckades")
    assert await page.locator("#jobs li.job button", has_text="Visa").count() == 0


async def test_markup_from_the_file_is_shown_as_text(server: LiveServer, page, tmp_path) -> None:
    """A file name, a header and a cell written as an <img onerror> tag appear as text in the
    card, the job list, the wheel's legend and table; no element is made and nothing runs."""
    token = server.token()
    wheel = server.wheel(token)
    upload = tmp_path / f"{XSS_FLAG}.csv"
    # The header is a column no field takes: its name and cell end up in the description.
    upload.write_text(f"Aktivitet,Startdatum,Slutdatum,Kategori,{XSS_FLAG}\n"
                      f"{XSS_FLAG},2025-03-01,2025-03-02,{XSS_FLAG},cell {XSS_FLAG}\n", encoding="utf-8")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    await page.set_input_files("#file-input", str(upload))
    await expect(page.locator("#file-chosen")).to_contain_text(f"{XSS_FLAG}.csv")
    # The review shows the file name, the header, its cell and the planned item as text.
    await expect(page.locator("#submit")).to_be_enabled()
    await expect(page.locator("#review-file")).to_contain_text(f"{XSS_FLAG}.csv")
    headers = await page.locator("#review-columns-body .column-header").all_text_contents()
    assert headers == ["Aktivitet", "Startdatum", "Slutdatum", "Kategori", XSS_FLAG], headers
    assert await page.get_attribute("#review-columns-body select >> nth=4", "data-header") == XSS_FLAG
    await expect(page.locator("#review-warnings")).to_contain_text(XSS_FLAG)
    await expect(page.locator("#review-wheel-tbody .item-name")).to_contain_text(XSS_FLAG)
    assert await page.text_content("#review-wheel-legend .legend-name") == XSS_FLAG
    assert await page.locator("img").count() == 0
    await shot(page, "review-xss-as-text")
    await page.click("#submit")
    await expect(page.locator("#current-title")).to_have_text("Import klar!", timeout=60_000)
    assert await page.text_content("#current-file") == f"{XSS_FLAG}.csv"
    assert await page.locator(".job-file", has_text=XSS_FLAG).count() == 1
    await wheel_drawn(page)
    await expect(page.locator("#wheel-tbody .item-name")).to_contain_text(XSS_FLAG)
    description = await page.text_content("#wheel-tbody .item-description")
    assert XSS_FLAG in description and f"cell {XSS_FLAG}" in description, description
    assert await page.text_content("#wheel-legend .legend-name") == XSS_FLAG
    assert await page.get_attribute("#wheel-svg .arcs path", "data-group") == XSS_FLAG
    await page.fill("#wheel-search", "onerror")
    await expect(page.locator("#wheel-tbody tr")).to_have_count(1)
    assert await page.locator("img").count() == 0
    await page.wait_for_timeout(500)
    assert await page.evaluate("() => window.__xss") is None
    assert page.dialogs == [] and page.errors == []
    await shot(page, "xss-as-text")


async def test_wheel_view_draws_20000_items(server: LiveServer, page, tmp_path) -> None:
    """A wheel of 20,000 items on one page opens from its link (as the e-mail's) and is drawn with
    every item as an arc; the time to draw it is printed (a figure, not a limit)."""
    token = server.token()
    wheel = server.wheel(token, "Tjugotusen", 2025)
    # 20,000 activities inside 2025 (none crosses the year), in 3 rings of 13 groups.
    rng = random.Random(20_000)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Aktivitet", "Startdatum", "Slutdatum", "Område", "Kategori"])
    for n in range(20_000):
        start = datetime.date(2025, 1, 1) + datetime.timedelta(days=rng.randrange(365))
        end = min(start + datetime.timedelta(days=rng.choice((0, 1, 2, 4, 7, 14, 30))), datetime.date(2025, 12, 31))
        ring = rng.randrange(3)
        writer.writerow([f"Aktivitet {n}", start.isoformat(), end.isoformat(), f"Område {ring + 1}",
                         f"Grupp {ring + 1}.{rng.randrange(13) + 1}"])
    job = server.submit(token, wheel, out.getvalue().encode(), file_name="tjugotusen.csv")
    done = server.wait(token, job["id"], {"completed"}, timeout=240)
    assert done["counts"]["items"] == 20_000, done["counts"]

    await page.set_viewport_size({"width": 1280, "height": 1000})
    # The token is already stored, as after an earlier visit: the link carries only the wheel.
    await page.goto(f"{server.url}/#token={token}")
    await page.wait_for_selector("#app:not([hidden])")
    await page.goto("about:blank")
    await page.goto(f"{server.url}/#wheel={wheel}")
    figures = await wheel_drawn(page)
    assert figures["items"] == 20_000 and figures["arcs"] == 20_000
    assert figures["paths"] == 39  # one path per ring × group, whatever the number of items
    print(f"\nwheel view, 20,000 items: fetch + parse {figures['fetch']:.0f} ms, build {figures['build']:.1f} ms, "
          f"on screen {figures['painted']:.1f} ms (Chromium, headless)")
    await expect(page.locator("#wheel-count")).to_have_text(re.compile(f"^1–25 av {grouped(20_000)}$"))
    # Still usable: a search over 20,000 items answers, and the drawing redraws per year tab.
    await page.fill("#wheel-search", "aktivitet 19999")
    await expect(page.locator("#wheel-tbody tr")).to_have_count(1)
    await expect(page.locator("#wheel-tbody .item-name")).to_have_text("Aktivitet 19999")
    await page.fill("#wheel-search", "")
    await shot(page, "wheel-20000")
    assert not page.errors


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




# ---------- the page in the browser's language ----------

# Swedish letters: none of the page's own English texts has one (the file's data may).
SWEDISH_LETTERS = re.compile(r"[åäöÅÄÖ]")


@pytest.fixture(scope="module")
def busy_server(pg_server: str, template_db: str) -> Iterator[LiveServer]:
    """A server that lets a user have one active import at a time."""
    with live_server(pg_server, template_db, IMPORTER_MAX_ACTIVE_JOBS="1") as s:
        yield s


async def browser_page(browser, locale: str):
    """A page at phone width in a browser whose language is `locale`; it records page errors."""
    context = await browser.new_context(viewport={"width": PHONE, "height": 900}, locale=locale,
                                        accept_downloads=True)
    pg = await context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.on("dialog", lambda dialog: pytest.fail(f"a dialog fired: {dialog.message}"))
    pg.set_default_timeout(30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    return pg


@pytest.fixture
async def english_page(browser) -> AsyncIterator:
    """A fresh page at phone width in an English (en-US) browser."""
    pg = await browser_page(browser, "en-US")
    try:
        yield pg
    finally:
        await pg.context.close()


async def test_an_english_browser_sees_the_page_in_english(server: LiveServer, english_page) -> None:
    """In an en-US browser the page's own texts are English (drop zone, "Import", the review's
    counts, dates and months, the completed card, the job list), with English number grouping."""
    page = english_page
    token = server.token()
    wheel = server.wheel(token, "Plan")
    # Not signed in yet: the sign-in form, in English around its command.
    await page.goto(server.url + "/")
    await expect(page.locator("#signin h2")).to_have_text("Sign in")
    await expect(page.locator("#signin .hint")).to_have_text(
        "Paste your access token (JWT), or open the link that importer serve --dev-token prints.")
    await expect(page.locator("label[for=token-input]")).to_have_text("Access token")
    await page.goto(signed_in(server, token, wheel))
    await page.wait_for_selector("#app:not([hidden])")
    assert await page.evaluate("() => document.documentElement.lang") == "en"
    # The rule, as the server's: the first of sv and en among the browser's languages; Swedish otherwise.
    chosen = await page.evaluate("""async () => {
      const { pickLanguage } = await import(document.querySelector('script[type=module]').src);
      return [["en-US"], ["da", "en-GB", "sv"], ["nb", "sv-FI", "en"], ["de"], []].map(pickLanguage);
    }""")
    assert chosen == ["en", "en", "sv", "sv", "sv"]
    assert await page.title() == "Import activities – Year wheel"
    await expect(page.locator("#upload-heading")).to_have_text("New import")
    await expect(page.locator("#drop-zone .pick")).to_have_text("Choose a file…")
    await expect(page.locator("#drop-zone .drop-text")).to_have_text("or drop it here")
    await expect(page.locator("#file-kinds")).to_have_text("CSV, TSV, TXT, Excel (xlsx, xls) or OpenDocument (ods)")
    await expect(page.locator("#submit")).to_have_text("Import")
    await expect(page.locator("#jobs-empty")).to_have_text("No imports yet.")
    await expect(page.locator("#wheel-status")).to_have_text(
        "The wheel has no activities yet. Import a file to fill it.")
    upload_card = await page.inner_text("#upload-card")
    assert not SWEDISH_LETTERS.search(upload_card) and "Välj" not in upload_card, upload_card
    await shot(page, "en-upload")

    await drop(page, "plan.xlsx", plan_workbook(), XLSX)
    await reviewed(page)
    await expect(page.locator("#review-heading")).to_have_text("Review the import")
    assert await review_counts(page) == ["2 new rings", "3 new groups", "26 activities, 1 split at the year end",
                                         "1 row rejected"]
    facts = dict(await page.locator("#review-facts .fact").evaluate_all(
        "facts => facts.map(f => [f.querySelector('dt').textContent, f.querySelector('dd').textContent])"))
    assert facts == {"Format": "Excel (xlsx)", "Sheet": "Plan", "Header row": "row 1",
                     "Date order": "day before month", "Rows": "26"}, facts
    await expect(page.locator("#review-rejected-summary")).to_have_text("1 row rejected – row and reason")
    await expect(page.locator("#review-columns-body select[data-header=Kontakt] option:checked")).to_have_text(
        "No field (in the description)")
    await expect(page.locator("#review-where")).to_have_text(
        "Into Plan (2025). Nothing is saved until you press Import.")
    await page.click("#review-wheel-tab-2025")
    await page.locator("#review-wheel-svg[data-painted-ms]").wait_for()
    assert await page.locator("#review-wheel-svg .month-name").all_text_contents() == [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    # "Möte 1" runs 1 January, "Möte 2" 2–3 February: the English order of month and day. The
    # table lists a year's activities by start date (then name), as the wheel's own table does.
    dates = await page.locator("#review-wheel-tbody tr td:nth-child(2)").all_text_contents()
    assert dates[0] == "Jan 1" and "Feb 2–Feb 3" in dates, dates
    assert dates.index("Jan 13–Jan 15") < dates.index("Feb 2–Feb 3"), dates
    await expect(page.locator("#review-wheel-count")).to_have_text("1–10 of 25")
    for selector in ("#review-heading", "#review-counts", "#review-facts", "#review-mode", "#review .actions",
                     "#review-wheel-count", "#review-rejected-summary"):
        text = await page.inner_text(selector)
        assert not SWEDISH_LETTERS.search(text), (selector, text)
    await shot(page, "en-review")
    await phone_closeups(page, "en-review")

    await page.click("#submit")
    await expect(page.locator("#current-title")).to_have_text("Import done!", timeout=60_000)
    await expect(page.locator("#counts")).to_have_text("✓ 2 new rings ✓ 3 new groups ✓ 2 new pages")
    assert await receipt(page) == [("✓", 26, "activities saved in the wheel"),
                                   ("−", 1, "extra parts: activities across a year end, one part per year"),
                                   ("+", 1, "row rejected"), ("=", 26, "rows in the file")]
    await expect(page.locator("#rejected")).to_have_text(
        "1 row could not be imported: see errors.csv for the row and the reason.")
    await expect(page.locator("#errors")).to_have_text("Download errors.csv")
    await expect(page.locator("#current-where")).to_have_text("Add · Plan (2025)")
    job = page.locator("#jobs li.job").first
    await expect(job.locator(".badge")).to_have_text("Done")
    await expect(job.locator(".job-detail")).to_have_text("26 activities saved, 1 row rejected")
    await wheel_drawn(page)
    await expect(page.locator("#wheel-heading")).to_have_text("The year wheel Plan (2025)")
    await expect(page.locator("#wheel-status")).to_have_text(
        "26 activities on 2 pages. Click in the wheel to see what a ring holds on a given day.")
    for selector in ("#current-title", "#counts", "#receipt", "#rejected", "#current .actions", "#jobs",
                     "#wheel-heading", "#wheel-status", "#wheel-count"):
        text = await page.inner_text(selector)
        assert not SWEDISH_LETTERS.search(text), (selector, text)
    await page.wait_for_timeout(400)  # the bar's short transition
    await shot(page, "en-completed")
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.wait_for_timeout(200)
    await shot(page, "en-completed-desktop")
    assert not page.errors


async def test_too_many_imports_is_said_in_the_browsers_language(busy_server: LiveServer, browser, tmp_path) -> None:
    """With the user's one allowed import running, "Importera" in a Swedish browser and "Import" in
    an English one both get 429 `too_many_active_jobs`, each shown in that browser's language."""
    server = busy_server
    token = server.token()
    wheel = server.wheel(token)
    big = tmp_path / "stor.csv"
    example_data.write(big, 300_000, bad=False)
    running = server.submit(token, wheel, big.read_bytes(), file_name="stor.csv")
    small = "Aktivitet;Startdatum;Slutdatum\nMöte;2025-04-01;2025-04-03\n".encode()
    expected = {
        "sv-SE": ("Importera", "Du har redan 1 pågående importer (högst 1). Försök igen när någon av dem är klar."),
        "en-US": ("Import", "You already have 1 active imports (at most 1); try again when one has finished."),
    }
    codes = []
    try:
        for locale, (button, message) in expected.items():
            page = await browser_page(browser, locale)
            try:
                await page.goto(signed_in(server, token, wheel))
                await page.wait_for_selector("#app:not([hidden])")
                await drop(page, "liten.csv", small, "text/csv")
                await reviewed(page)
                await expect(page.locator("#submit")).to_have_text(button)
                async with page.expect_response(lambda r: r.request.method == "POST"
                                                and r.url.endswith("/imports")) as info:
                    await page.click("#submit")
                response = await info.value
                body = await response.json()
                assert response.status == 429, body
                codes.append(body["error"]["code"])
                await expect(page.locator("#review-error")).to_have_text(message)
                assert body["error"]["message"] == message
                # The review stays, so that "Importera" can be pressed again once the other is done.
                await expect(page.locator("#review-body")).to_be_visible()
                await shot(page, f"too-many-{locale}")
                assert not page.errors
            finally:
                await page.context.close()
        assert codes == ["too_many_active_jobs", "too_many_active_jobs"]
        # The limit was the running import's: it is still the only one, and still active.
        status, body = server.call("GET", "/api/imports", token)
        assert status == 200 and [j["id"] for j in body["jobs"]] == [running["id"]]
        assert body["jobs"][0]["status"] in ("pending", "processing")
    finally:
        server.call("POST", f"/api/imports/{running['id']}/cancel", token)
        server.wait(token, running["id"], {"cancelled", "completed", "failed"})
