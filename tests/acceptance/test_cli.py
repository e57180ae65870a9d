"""`importer submit`, `watch`, `cancel`, `retry`, `jobs` and `make demo` as a user runs them:
subprocesses against a real server and worker."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import example_data
from tests.live_server import IMPORTER, SECRET, LiveServer, live_server
from tests.processes import ROOT

pytestmark = pytest.mark.slow

GOOD = ("Aktivitet,Startdatum,Slutdatum,Område,Kategori,Klientansvarig\n"
        "Bokslut Ek AB,2025-01-10,2025-02-10,Bokslut,Årsbokslut,Marie Isidorsson\n"
        "Moms Q1,2025-04-01,2025-04-12,Löpande,Moms,Johan Lindqvist\n"
        "Räkenskapsår Dahl HB,20250101-20251231,,Bokslut,Räkenskapsår,Marie Isidorsson\n"
        "Julavslut,2025-12-20,2026-01-10,Löpande,Avslut,Sara Holm\n"
        ",2025-05-01,2025-05-02,Löpande,Moms,Sara Holm\n").encode()
ALL_BAD = ("Aktivitet,Startdatum,Slutdatum\n"
           "Möte,snart,sedan\n"
           "Planering,2025-13-45,\n"
           "Avstämning,2025-09-30,2025-09-01\n").encode()
HEADER_ONLY = b"Aktivitet,Startdatum,Slutdatum\n"


@pytest.fixture(scope="module")
def server(pg_server: str, template_db: str) -> Iterator[LiveServer]:
    with live_server(pg_server, template_db) as s:
        yield s


def run(server: LiveServer, *args: str, token: str | None = None, timeout: float = 180,
        columns: int | None = None) -> subprocess.CompletedProcess:
    env = dict(server.env)
    env.pop("IMPORTER_TOKEN", None)
    env.pop("COLUMNS", None)
    if token:
        env["IMPORTER_TOKEN"] = token
    if columns:
        env["COLUMNS"] = str(columns)
    env["IMPORTER_URL"] = server.url
    return subprocess.run([IMPORTER, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_submit_completed_exits_0_with_counts_and_errors_hint(server: LiveServer, tmp_path: Path) -> None:
    """A completed import exits 0 and prints the counts, the rejected rows and where errors.csv is."""
    token = server.token()
    wheel = server.wheel(token)
    result = run(server, "submit", str(write(tmp_path, "byrå.csv", GOOD)), "--wheel", wheel, "--no-notify",
                 token=token)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Import startad: job " in out
    assert "Import klar!" in out
    assert "✓ 2 ringar" in out and "✓ 4 grupper" in out and "✓ 0" not in out
    # Five rows: four activities (one across the year end, so five items) and one rejected.
    assert "Rows: 5 = 5 items saved − 1 extra pieces of activities across a year end + 1 rejected" in out
    assert "Rejected rows: 1" in out
    # The token came from $IMPORTER_TOKEN, so the hint may name the variable.
    assert "/errors.csv" in out and 'curl -fsS -H "Authorization: Bearer $IMPORTER_TOKEN" -o errors.csv' in out
    # Not a terminal: plain progress lines, ending at 100 %.
    assert "[100%] completed" in out


def test_submit_failed_exits_1_with_error_code(server: LiveServer, tmp_path: Path) -> None:
    """A file whose every row is rejected fails the import: exit 1 and the error code printed."""
    token = server.token()
    wheel = server.wheel(token)
    result = run(server, "submit", str(write(tmp_path, "trasig.csv", ALL_BAD)), "--wheel", wheel,
                 "--url", server.url, "--token", token)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Import misslyckades: no_valid_rows" in result.stdout


def test_submit_unreadable_file_exits_2_with_server_message(server: LiveServer, tmp_path: Path) -> None:
    """A file that cannot be an import is refused with 422: exit 2 and the server's JSON message."""
    token = server.token()
    wheel = server.wheel(token)
    result = run(server, "submit", str(write(tmp_path, "tom.csv", HEADER_ONLY)), "--wheel", wheel, token=token)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "(422 " in result.stderr
    assert "Import startad" not in result.stdout


def test_submit_without_token_or_to_unknown_wheel_exits_2(server: LiveServer, tmp_path: Path) -> None:
    """No token, or a wheel that is not the user's, is a usage/HTTP error: exit 2 with a message."""
    path = write(tmp_path, "plan.csv", GOOD)
    no_token = run(server, "submit", str(path), "--wheel", str(uuid.uuid4()))
    assert no_token.returncode == 2 and "IMPORTER_TOKEN" in no_token.stderr
    unknown = run(server, "submit", str(path), "--wheel", str(uuid.uuid4()), token=server.token())
    assert unknown.returncode == 2 and "(404 " in unknown.stderr


def test_watch_follows_a_job_to_its_end(server: LiveServer) -> None:
    """`importer watch` follows a job submitted elsewhere until it completes, and exits 0."""
    token = server.token()
    wheel = server.wheel(token)
    job = server.submit(token, wheel, GOOD, file_name="bevakad.csv")
    result = run(server, "watch", job["id"], token=token)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Import klar!" in result.stdout


def test_watch_of_a_cancelled_job_exits_2(server: LiveServer) -> None:
    """`importer watch` of a job that is cancelled while it is followed ends with exit 2."""
    token = server.token()
    wheel = server.wheel(token)
    big = io.StringIO()
    example_data.write(big, 100_000, bad=False)
    job = server.submit(token, wheel, big.getvalue().encode(), file_name="stor.csv")
    env = {**server.env, "IMPORTER_URL": server.url, "IMPORTER_TOKEN": token}
    watch = subprocess.Popen([IMPORTER, "watch", job["id"]], cwd=ROOT, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        status, body = server.call("POST", f"/api/imports/{job['id']}/cancel", token)
        assert status == 202, body
        out, err = watch.communicate(timeout=120)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait(timeout=5)
    assert watch.returncode == 2, out + err
    assert "Import avbruten" in out


def test_jobs_prints_the_table_from_sql(server: LiveServer) -> None:
    """`importer jobs --user` lists that user's jobs straight from the database, one line each
    within 100 columns (wheel title, file, status, progress, age); `--wide` adds the rest."""
    user_id = uuid.uuid4()
    token = server.token(user_id, email="tabell@example.test")
    wheel = server.wheel(token, "Ekonomiavdelningens mycket långa årshjul 2025")
    job = server.submit(token, wheel, GOOD, file_name="tabell-med-ett-ganska-langt-filnamn.csv")
    server.wait(token, job["id"], {"completed"})
    result = run(server, "jobs", "--user", str(user_id), "--limit", "5", columns=100)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 100, result.stdout
    row = next(line for line in lines if job["id"][:8] in line)
    # One line per job: a long title or file name is cut with an ellipsis, not wrapped.
    assert "Ekonomiavdelningens" in row and "tabell-med" in row and "…" in row
    assert "completed" in row and "100%" in row and re.search(r"\b\d+ s\b", row), row
    assert sum(job["id"][:8] in line for line in lines) == 1
    assert "Import jobs (1)" in result.stdout

    wide = run(server, "jobs", "--user", str(user_id), "--wide")
    assert wide.returncode == 0, wide.stdout + wide.stderr
    assert job["id"] in wide.stdout and "tabell@example.test" in wide.stdout
    assert "append" in wide.stdout and "5/5" in wide.stdout and "succeeded" in wide.stdout

    filtered = run(server, "jobs", "--user", str(user_id), "--status", "failed")
    assert filtered.returncode == 0 and "No import jobs with status failed" in filtered.stdout


def test_jobs_prints_user_text_as_it_is(server: LiveServer) -> None:
    """A wheel title and a file name that look like Rich markup are printed literally, not styled or dropped."""
    user_id = uuid.uuid4()
    token = server.token(user_id)
    wheel = server.wheel(token, "[bold]Plan[/bold]")
    job = server.submit(token, wheel, GOOD, file_name=urllib.parse.quote("[red]x.csv"))
    server.wait(token, job["id"], {"completed"})
    result = run(server, "jobs", "--user", str(user_id), columns=100)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[bold]Plan[/bold]" in result.stdout and "[red]x.csv" in result.stdout


def test_cancel_and_retry_from_the_cli(server: LiveServer) -> None:
    """`importer cancel` stops a running import and says nothing was saved; a second cancel is refused
    (exit 2, 409); `importer retry` starts a new job with retry_of set; retrying a completed job exits 2."""
    token = server.token()
    wheel = server.wheel(token)
    big = io.StringIO()
    example_data.write(big, 100_000, bad=False)
    job = server.submit(token, wheel, big.getvalue().encode(), file_name="stor.csv")

    cancelled = run(server, "cancel", job["id"], token=token)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert f"job {job['id']} (stor.csv): cancel" in cancelled.stdout
    assert "nothing of it" in cancelled.stdout
    server.wait(token, job["id"], {"cancelled"})
    again = run(server, "cancel", job["id"], token=token)
    assert again.returncode == 2 and "(409 " in again.stderr, again.stdout + again.stderr

    retried = run(server, "retry", job["id"], "--json", token=token)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    new = json.loads(retried.stdout)
    assert new["retry_of"] == job["id"] and new["id"] != job["id"] and new["file_name"] == "stor.csv"
    status, body = server.call("POST", f"/api/imports/{new['id']}/cancel", token)
    assert status == 202, body
    server.wait(token, new["id"], {"cancelled"})

    done = server.submit(token, wheel, GOOD, file_name="klar.csv")
    server.wait(token, done["id"], {"completed"})
    refused = run(server, "retry", done["id"], token=token)
    assert refused.returncode == 2 and "(409 " in refused.stderr, refused.stdout + refused.stderr
    missing = run(server, "cancel", str(uuid.uuid4()), token=token)
    assert missing.returncode == 2 and "(404 " in missing.stderr


def test_retry_follow_exits_like_submit(server: LiveServer) -> None:
    """`importer retry --follow` follows the new job to its end: a file whose rows are all bad fails again, exit 1."""
    token = server.token()
    wheel = server.wheel(token)
    job = server.submit(token, wheel, ALL_BAD, file_name="trasig.csv")
    server.wait(token, job["id"], {"failed"})
    result = run(server, "retry", job["id"], "--follow", token=token)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"retry of {job['id']}" in result.stdout
    assert "Import misslyckades: no_valid_rows" in result.stdout


def test_ctrl_c_names_the_real_job(server: LiveServer, tmp_path: Path) -> None:
    """Ctrl-C while `importer submit` follows its job exits 130 with a hint naming that job's id."""
    token = server.token()
    wheel = server.wheel(token)
    big = tmp_path / "lång.csv"
    example_data.write(big, 100_000, bad=False)
    env = {**server.env, "IMPORTER_URL": server.url, "IMPORTER_TOKEN": token}
    proc = subprocess.Popen([IMPORTER, "submit", str(big), "--wheel", wheel], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.match(r"Import startad: job ([0-9a-f-]{36})", first)
        assert match, first
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    job_id = match.group(1)
    assert proc.returncode == 130, out + err
    assert f"importer watch {job_id}" in err and "JOB_ID" not in err
    assert "Traceback" not in err
    status, body = server.call("POST", f"/api/imports/{job_id}/cancel", token)  # free the worker
    assert status in (202, 409), body


def test_make_demo_errors_hint_fetches_errors_csv(server: LiveServer, tmp_path: Path) -> None:
    """The curl command `make demo` prints for errors.csv works as printed, even when the shell's
    $IMPORTER_TOKEN belongs to another user: it downloads the six rejected rows."""
    env = {**server.env, "IMPORTER_URL": server.url, "IMPORTER_JWT_SECRET": SECRET}
    demo = subprocess.run([sys.executable, "-m", "importer.cli.demo"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180, check=False)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    curl = next(line.strip() for line in demo.stdout.splitlines() if line.strip().startswith("curl "))
    assert server.url in curl
    # The user's shell, as after `make run`: $IMPORTER_TOKEN is the development user's, not the demo's.
    shell_env = {"PATH": os.environ["PATH"], "IMPORTER_TOKEN": server.token()}
    fetched = subprocess.run(["bash", "-c", curl], cwd=tmp_path, env=shell_env, capture_output=True,
                             text=True, timeout=30, check=False)
    assert fetched.returncode == 0, fetched.stderr
    rows = (tmp_path / "errors.csv").read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(rows) == 7, rows  # a header and the six bad rows of the example
