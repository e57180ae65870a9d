"""`importer preview`, `importer import-preview` and `importer submit`'s reading options as a user
runs them: subprocesses against a real server and worker, the outcome checked through the API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.test_cli import HEADER_ONLY, run, write
from tests.data.workbooks import xlsx
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow

# Ansvar is no field's header (it goes unmapped), Jul crosses a year end, Trasig is rejected.
FILE = ("Aktivitet;Startdatum;Slutdatum;Område;Kategori;Ansvar\n"
        "Budgetmöte;2026-02-03;2026-02-03;Ekonomi;Möten;Eva\n"
        "Jul;2026-12-20;2027-01-06;Ekonomi;Ledigt;Bo\n"
        "Trasig;inte ett datum;2026-01-01;Ekonomi;Möten;Eva\n").encode()
# Every date reads both ways (03/04: 3 April or March 4); Vem is no field's header either.
AMBIGUOUS = ("Aktivitet,Startdatum,Slutdatum,Vem\n"
             "Möte,03/04/2025,03/04/2025,Eva\n"
             "Plan,05/06/2025,05/07/2025,Bo\n").encode()
PREVIEW_LINE = re.compile(r"importer import-preview ([0-9a-f-]{36})")


@pytest.fixture(scope="module")
def server(pg_server: str, template_db: str) -> Iterator[LiveServer]:
    with live_server(pg_server, template_db) as s:
        yield s


def job_of(server: LiveServer, token: str, stdout: str) -> dict[str, Any]:
    """The job a `submit`/`import-preview` run started, as the API has it now."""
    match = re.search(r"Import startad: job ([0-9a-f-]{36})", stdout)
    assert match, stdout
    status, job = server.call("GET", f"/api/imports/{match.group(1)}", token)
    assert status == 200, job
    return job


def items_of(server: LiveServer, token: str, wheel: str, year: int) -> list[tuple[str, str, str, str | None]]:
    status, body = server.call("GET", f"/api/wheels/{wheel}/items?year={year}", token)
    assert status == 200, body
    return sorted((i["name"], i["start_date"], i["end_date"], i["label"]) for i in body["items"])


def test_preview_prints_the_mapping_counts_and_the_command_that_imports_it(server: LiveServer,
                                                                           tmp_path: Path) -> None:
    """`importer preview` prints the file's facts, each column's field (Ansvar, no field's, into the
    description), the counts in words, the warnings and the rows within 100 columns, then an
    import-preview command that imports exactly the counted items; a second preview counts them
    as already on the wheel."""
    token = server.token()
    wheel = server.wheel(token)
    path = write(tmp_path, "plan.csv", FILE)
    result = run(server, "preview", str(path), "--wheel", wheel, token=token, columns=100)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert max(map(len, out.splitlines())) <= 100, out
    assert "plan.csv" in out and "CSV" in out and "semicolon (';')" in out and "utf-8" in out
    table = out[out.index("Columns"):out.index("rows in the file")]
    fields = {m.group(1): m.group(2) for m in re.finditer(r"│\s*\d+ │ (\S+)\s*│ (\S+)\s*│", table)}
    assert fields == {"Aktivitet": "name", "Startdatum": "start", "Slutdatum": "end", "Område": "ring",
                      "Kategori": "group", "Ansvar": "(description)"}, out
    assert "3 rows in the file → 3 items to import" in out
    assert "1 row rejected" in out and "1 extra item: an activity that crosses a year end" in out
    assert "New on the wheel: 1 ring, 2 groups, 2 pages." in out
    assert "Ansvar" in out and "(unmapped_column)" in out
    assert "First items (3 of 3)" in out and "2027-01-06" in out
    assert "Rejected rows (1 of 1)" in out and "inte ett datum" in out
    match = PREVIEW_LINE.search(out)
    assert match, out

    started = run(server, "import-preview", match.group(1), "--no-notify", token=token)
    assert started.returncode == 0, started.stdout + started.stderr
    job = job_of(server, token, started.stdout)
    assert job["status"] == "completed" and job["counts"]["items"] == 3 and job["rejected_rows"] == 1

    again = run(server, "preview", str(path), "--wheel", wheel, "--mapping", '{"label": "Ansvar"}',
                token=token, columns=100)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "3 rows in the file → 0 items to import" in again.stdout
    assert "3 items already on the wheel, skipped" in again.stdout
    assert "First items (3 of 3)" in again.stdout  # the planned items, duplicates included
    assert re.search(r"│ Ansvar\s*│ label\s*│", again.stdout), again.stdout
    assert "New on the wheel: 2 labels." in again.stdout
    second = PREVIEW_LINE.search(again.stdout)
    assert second, again.stdout
    kept = run(server, "import-preview", second.group(1), "--keep-duplicates", "--no-notify", token=token)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    job = job_of(server, token, kept.stdout)
    assert job["counts"]["items"] == 3 and job["counts"]["skipped_duplicates"] == 0
    assert server.call("GET", f"/api/wheels/{wheel}", token)[1]["counts"]["items"] == 6


def test_preview_json_and_a_file_that_cannot_be_an_import(server: LiveServer, tmp_path: Path) -> None:
    """`--json` prints the preview object as the API gives it; a file without data rows exits 2
    with the server's 422 message, and a mapping that is not JSON or --rows past the server's 100
    exits 2 before any upload."""
    token = server.token()
    wheel = server.wheel(token)
    result = run(server, "preview", str(write(tmp_path, "plan.csv", FILE)), "--wheel", wheel,
                 "--date-order", "day_first", "--json", token=token)
    assert result.returncode == 0, result.stderr
    preview = json.loads(result.stdout)
    assert preview["date_order"] == "day_first" and preview["date_order_source"] == "request"
    status, stored = server.call("GET", preview["links"]["self"], token)
    assert status == 200 and stored == preview

    empty = run(server, "preview", str(write(tmp_path, "tom.csv", HEADER_ONLY)), "--wheel", wheel, token=token)
    assert empty.returncode == 2 and "(422 " in empty.stderr, empty.stdout + empty.stderr
    bad = run(server, "preview", str(write(tmp_path, "plan.csv", FILE)), "--wheel", wheel,
              "--mapping", "{label: Ansvar}", token=token)
    assert bad.returncode == 2 and "--mapping is not JSON" in bad.stderr, bad.stderr
    too_many = run(server, "preview", str(write(tmp_path, "plan.csv", FILE)), "--wheel", wheel, "--rows", "101",
                   token=token)
    assert too_many.returncode == 2 and "at most 100" in too_many.stderr, too_many.stderr


def test_preview_prints_markup_in_user_text_literally(server: LiveServer, tmp_path: Path) -> None:
    """A file name, a header and a cell that look like Rich markup are printed as they are, not
    styled or dropped; a workbook's facts name the sheet read and the others."""
    token = server.token()
    wheel = server.wheel(token)
    csv = ("Aktivitet,Startdatum,Slutdatum,[blue]Extra[/blue]\n"
           "Möte [bold]x[/bold],2026-02-03,2026-02-03,[red]y\n").encode()
    result = run(server, "preview", str(write(tmp_path, "[red]plan[bold].csv", csv)), "--wheel", wheel,
                 token=token, columns=100)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[red]plan[bold].csv" in result.stdout
    assert "Möte [bold]x[/bold]" in result.stdout and "[blue]Extra[/blue]" in result.stdout

    header = ["Aktivitet", "Startdatum", "Slutdatum"]
    book = xlsx({"Plan": [header, ["Möte", date(2026, 2, 3), date(2026, 2, 3)]],
                 "Budget": [header, ["Bokslut", date(2026, 5, 4), None]]})
    result = run(server, "preview", str(write(tmp_path, "plan.xlsx", book)), "--wheel", wheel,
                 "--sheet", "Budget", token=token, columns=100)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Excel (xlsx)" in result.stdout and "Bokslut" in result.stdout
    assert re.search(r"Sheet\s+Budget", result.stdout), result.stdout
    assert "also in the workbook: Plan;" in result.stdout


def test_submit_sends_date_order_mapping_sheet_and_keep_duplicates(server: LiveServer, tmp_path: Path) -> None:
    """`importer submit --date-order --mapping` reaches the job (03/04 read as March 4, Vem as the
    label); the same file again skips its duplicates, and `--keep-duplicates` imports them anyway;
    `--sheet` picks the workbook's sheet."""
    token = server.token()
    wheel = server.wheel(token)
    path = write(tmp_path, "datum.csv", AMBIGUOUS)
    options = ["--date-order", "month_first", "--mapping", '{"label": "Vem"}', "--no-notify"]
    first = run(server, "submit", str(path), "--wheel", wheel, *options, token=token)
    assert first.returncode == 0, first.stdout + first.stderr
    job = job_of(server, token, first.stdout)
    assert job["counts"]["items"] == 2 and job["counts"]["labels"] == 2, job
    assert items_of(server, token, wheel, 2025) == [("Möte", "2025-03-04", "2025-03-04", "Eva"),
                                                    ("Plan", "2025-05-06", "2025-05-07", "Bo")]
    assert not [w for w in job["warnings"] if w["code"] == "date_order_assumed"], job["warnings"]

    skipped = run(server, "submit", str(path), "--wheel", wheel, *options, token=token)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    job = job_of(server, token, skipped.stdout)
    assert job["counts"]["items"] == 0 and job["counts"]["skipped_duplicates"] == 2, job

    kept = run(server, "submit", str(path), "--wheel", wheel, *options, "--keep-duplicates", token=token)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    job = job_of(server, token, kept.stdout)
    assert job["counts"]["items"] == 2 and job["counts"]["skipped_duplicates"] == 0, job
    assert len(items_of(server, token, wheel, 2025)) == 4

    header = ["Aktivitet", "Startdatum", "Slutdatum"]
    book = xlsx({"Plan": [header, ["Möte", date(2026, 2, 3), date(2026, 2, 3)]],
                 "Budget": [header, ["Bokslut", date(2026, 5, 4), None]]})
    other = server.wheel(token, year=2026)
    result = run(server, "submit", str(write(tmp_path, "plan.xlsx", book)), "--wheel", other, "--sheet", "Budget",
                 "--no-notify", token=token)
    assert result.returncode == 0, result.stdout + result.stderr
    job = job_of(server, token, result.stdout)
    assert [(w["code"], w["details"]) for w in job["warnings"]] == [
        ("other_sheets", {"sheet": "Budget", "sheets": ["Plan"]})]
    assert items_of(server, token, other, 2026) == [("Bokslut", "2026-05-04", "2026-05-04", None)]
