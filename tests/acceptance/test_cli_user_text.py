"""User data in the operator's terminal: `importer jobs` prints file names, wheel titles and e-mails
literally (no Rich markup read from them) and without control characters (no escape sequence
of a user reaches the terminal), and a listing never crashes on them."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.data.workbooks import xlsx
from tests.live_server import IMPORTER, LiveServer, live_server
from tests.processes import ROOT

pytestmark = pytest.mark.slow

BRACKETS = "[kvartal 1] budget.csv"
CLOSING_TAG_EMAIL = "[/x]@example.com"
ESCAPES = "\x1b[31mred\x1b]0;title\x07"
# C1 controls too: U+009B is a one-character CSI on terminals that honour 8-bit controls.
C1 = "c1\x9b2Jend.csv"


@pytest.fixture
def seeded(db_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A database whose jobs carry hostile user text; yields (url, {what: job id})."""
    jobs: dict[str, str] = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        def user(email: str) -> uuid.UUID:
            user_id = uuid.uuid4()
            conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user_id, email))
            return user_id

        def job(user_id: uuid.UUID, title: str, file_name: str) -> str:
            wheel = conn.execute("INSERT INTO year_wheels (owner_id, title, year) VALUES (%s, %s, 2026)"
                                 " RETURNING id", (user_id, title)).fetchone()
            file = conn.execute("INSERT INTO import_files (user_id, media_type, size_bytes, sha256, content)"
                                " VALUES (%s, 'text/csv', 1, sha256('x'), 'x') RETURNING id",
                                (user_id,)).fetchone()
            assert wheel is not None and file is not None
            row = conn.execute("INSERT INTO import_jobs (user_id, wheel_id, file_id, file_name)"
                               " VALUES (%s, %s, %s, %s) RETURNING id",
                               (user_id, wheel[0], file[0], file_name)).fetchone()
            assert row is not None
            return str(row[0])

        jobs["brackets"] = job(user("kvartal@example.com"), "Plan", BRACKETS)
        jobs["email"] = job(user(CLOSING_TAG_EMAIL), "[/bold]Plan", "plan.csv")
        jobs["escapes"] = job(user(f"{ESCAPES}@example.com"), ESCAPES, ESCAPES + ".csv")
        jobs["c1"] = job(user("c1@example.com"), "C1 plan", C1)
    yield db_url, jobs


def jobs_command(db_url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "COLUMNS": "240", "LANG": "C.UTF-8"}
    return subprocess.run([IMPORTER, "jobs", "--limit", "10", *args], cwd=ROOT, env=env,
                          capture_output=True, timeout=60, check=False)


def assert_clean(output: bytes) -> str:
    """The output holds no ESC, BEL or other control byte but newlines; returns it as text."""
    text = output.decode()
    controls = sorted({f"U+{ord(c):04X}" for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0})
    assert not controls, f"control characters {controls} in:\n{text!r}"
    return text


@pytest.mark.parametrize("wide", [False, True], ids=["narrow", "wide"])
def test_jobs_prints_hostile_user_text_literally_and_without_controls(
        seeded: tuple[str, dict[str, str]], wide: bool) -> None:
    """Brackets stay literal, a `[/x]` e-mail does not crash the listing, escape sequences are stripped."""
    db_url, jobs = seeded
    result = jobs_command(db_url, *(["--wide"] if wide else []))
    assert result.returncode == 0, result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    out = assert_clean(result.stdout)
    assert "Import jobs (4)" in out
    assert BRACKETS in out
    assert "[/bold]Plan" in out
    # The escape sequences are gone whole (no "[31m" debris, no window title), their text stays.
    assert "red.csv" in out and "[31m" not in out and "title" not in out
    assert "c1end.csv" in out
    if wide:
        assert CLOSING_TAG_EMAIL in out
        assert all(job_id in out for job_id in jobs.values())


def test_jobs_of_one_user_with_a_markup_email(seeded: tuple[str, dict[str, str]]) -> None:
    """The listing of the one user whose e-mail is `[/x]@…` works: exit 0, the e-mail shown as it is."""
    db_url, jobs = seeded
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT user_id FROM import_jobs WHERE id = %s", (jobs["email"],)).fetchone()
    assert row is not None
    result = jobs_command(db_url, "--wide", "--user", str(row[0]))
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    out = assert_clean(result.stdout)
    assert CLOSING_TAG_EMAIL in out and jobs["email"] in out


# ---- the API clients (submit, watch, retry, preview) against a real server and worker ----

HOSTILE_NAME = f"[kvartal 1] {ESCAPES}.csv"
# Every row rejected (the import fails). A file holding C0 controls is refused as not text, so
# the contents carry markup and C1 controls (valid UTF-8), the names the C0 ones.
ALL_BAD = ("Aktivitet,Startdatum,Slutdatum\n"
           "Möte,\x9b2Jsnart,\n"
           "[/x] Planering,2025-13-45,\n").encode()
PREVIEW_FILE = ("Aktivitet,Startdatum,Slutdatum,[/x]Vem\x9b2J\n"
                "[kvartal 1] Möte \x9d0;title\x9c,2026-02-03,2026-02-03,Eva\x9b2J\n"
                "Trasig,[/x]\x9b2Jsnart,2026-01-01,Bo\n").encode()


@pytest.fixture(scope="module")
def server(pg_server: str, template_db: str) -> Iterator[LiveServer]:
    with live_server(pg_server, template_db) as s:
        yield s


def client(server: LiveServer, *args: str, token: str) -> subprocess.CompletedProcess[bytes]:
    env = {**server.env, "IMPORTER_URL": server.url, "IMPORTER_TOKEN": token, "COLUMNS": "120"}
    return subprocess.run([IMPORTER, *args], cwd=ROOT, env=env, capture_output=True, timeout=180, check=False)


def test_watch_and_retry_print_a_hostile_file_name_without_controls(server: LiveServer) -> None:
    """`importer watch` of a failed job with a hostile file name, and `importer retry` of it (plain
    and --json), print no control character; the name keeps its brackets, the JSON its value."""
    token = server.token()
    wheel = server.wheel(token, ESCAPES)
    job = server.submit(token, wheel, ALL_BAD, file_name=urllib.parse.quote(HOSTILE_NAME))
    assert job["file_name"] == HOSTILE_NAME
    server.wait(token, job["id"], {"failed"})

    watched = client(server, "watch", job["id"], token=token)
    assert watched.returncode == 1, watched.stdout + watched.stderr
    assert "Import misslyckades: no_valid_rows" in assert_clean(watched.stdout)

    retried = client(server, "retry", job["id"], token=token)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    line = assert_clean(retried.stdout)
    assert "([kvartal 1] red.csv)" in line and "retry of " + job["id"] in line

    again = re.search(r"job ([0-9a-f-]{36}) ", line)
    assert again, line
    server.wait(token, again.group(1), {"failed"})
    as_json = client(server, "retry", again.group(1), "--json", token=token)
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    assert json.loads(assert_clean(as_json.stdout))["file_name"] == HOSTILE_NAME


def test_preview_prints_hostile_headers_cells_and_reasons_without_controls(server: LiveServer,
                                                                           tmp_path: Path) -> None:
    """`importer preview` of a file whose name, header, cells and rejection reasons hold markup and
    escape sequences prints them literally, without control characters, and exits 0."""
    token = server.token()
    wheel = server.wheel(token)
    path = tmp_path / f"[kvartal 1] {ESCAPES}.csv"
    path.write_bytes(PREVIEW_FILE)
    result = client(server, "preview", str(path), "--wheel", wheel, token=token)
    assert result.returncode == 0, result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    out = assert_clean(result.stdout)
    assert "[kvartal 1] red.csv" in out and "[/x]Vem" in out and "[kvartal 1] Möte" in out
    assert "[/x]snart" in out and "title" not in out


def test_submit_prints_a_server_message_quoting_user_text_without_controls(server: LiveServer,
                                                                           tmp_path: Path) -> None:
    """The server's error message that quotes a hostile sheet name reaches stderr without controls."""
    token = server.token()
    wheel = server.wheel(token)
    path = tmp_path / "plan.xlsx"
    path.write_bytes(xlsx({"Plan": [["Aktivitet", "Startdatum"], ["Möte", "2026-02-03"]]}))
    result = client(server, "submit", str(path), "--wheel", wheel, "--sheet", f"[/x]{ESCAPES}", token=token)
    assert result.returncode == 2, result.stdout + result.stderr
    err = assert_clean(result.stderr)
    assert "'[/x]red'" in err and "(400 bad_sheet)" in err
