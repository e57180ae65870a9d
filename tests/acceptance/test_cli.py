"""`importer submit`, `watch` and `jobs` as a user runs them: subprocesses against a real server and worker."""

from __future__ import annotations

import io
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.cli import example_data
from tests.live_server import IMPORTER, LiveServer, live_server
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


def run(server: LiveServer, *args: str, token: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    env = dict(server.env)
    env.pop("IMPORTER_TOKEN", None)
    if token:
        env["IMPORTER_TOKEN"] = token
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
    assert "✓ 2 ringar" in out and "✓ 4 grupper" in out
    assert "Rejected rows: 1" in out
    assert "/errors.csv" in out and 'curl -H "Authorization: Bearer $IMPORTER_TOKEN"' in out
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
    """`importer jobs --user` lists that user's jobs straight from the database, with their status."""
    user_id = uuid.uuid4()
    token = server.token(user_id, email="tabell@example.test")
    wheel = server.wheel(token)
    job = server.submit(token, wheel, GOOD, file_name="tabell.csv")
    server.wait(token, job["id"], {"completed"})
    result = run(server, "jobs", "--user", str(user_id), "--limit", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert job["id"][:8] in out
    assert "tabell@example.test" in out and "tabell.csv" in out
    assert "completed" in out and "100%" in out and "Import jobs (1)" in out
    filtered = run(server, "jobs", "--user", str(user_id), "--status", "failed")
    assert filtered.returncode == 0 and "No import jobs with status failed" in filtered.stdout
