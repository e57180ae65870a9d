"""The first run as a newcomer meets it: `make run PORT=…`, a taken port, and the sign-in URL that
stays on screen (printed again when ready, with Procrastinate's periodic lines quieted)."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import create_database, drop_database
from tests.processes import ROOT, free_port, ready

pytestmark = pytest.mark.slow

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/#token=[\w.-]+&wheel=[0-9a-f-]{36}")


@pytest.fixture
def fresh_db(pg_server: str, template_db: str) -> Iterator[str]:
    name = f"importer_first_{os.getpid()}_{time.monotonic_ns() % 10**8}"
    url = create_database(pg_server, name, template=template_db)
    try:
        yield url
    finally:
        drop_database(pg_server, name)


def service_env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("IMPORTER_JWT_SECRET", "SMTP_URL")}
    env.update(DATABASE_URL=db_url, IMPORTER_LOG_FORMAT="text", IMPORTER_DATA_DIR=str(tmp_path), **extra)
    return env


def stop_group(proc: subprocess.Popen[str]) -> str:
    """SIGTERM to the process group this test started (make and the server under it); its output."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    return out


def wait_for(url: str, proc: subprocess.Popen[str], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not ready(url):
        assert proc.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not get ready"
        time.sleep(0.2)


def test_serve_on_a_taken_port_names_the_option_and_exits_2(fresh_db: str, tmp_path: Path) -> None:
    """`importer serve` on a port another process listens on exits 2 with one line naming the port
    and `--port`, and no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "importer.cli", "serve", "--port", str(port), "--with-worker"],
                                cwd=ROOT, env=service_env(fresh_db, tmp_path), capture_output=True, text=True,
                                timeout=60, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr and "make run PORT=" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_make_run_serves_on_the_port_given(fresh_db: str, tmp_path: Path) -> None:
    """`make run PORT=N` migrates and serves the page on port N, and prints a sign-in URL with that port."""
    port = free_port()
    # -o: take the install stamp as made, so the test never reinstalls the shared virtualenv.
    stamp = ".venv/.installed-" + hashlib.sha1((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:12]
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", stamp, "run", f"PORT={port}"], cwd=ROOT,
                            env=service_env(fresh_db, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}", proc)
    finally:
        out = stop_group(proc)
    assert f"--port {port}" in out
    urls = URL.findall(out)
    assert urls and all(int(p) == port for p in urls), out


def test_sign_in_url_is_printed_again_when_ready_above_quiet_periodic_logs(fresh_db: str, tmp_path: Path) -> None:
    """With a worker whose recovery task runs every second, the sign-in URL is printed when the server
    listens and again once ready, and nothing of the periodic task's runs follows it; our own
    warning (the development secret) still shows."""
    port = free_port()
    env = service_env(fresh_db, tmp_path, IMPORTER_RECOVERY_EVERY_SECONDS="1")
    proc = subprocess.Popen([sys.executable, "-m", "importer.cli", "serve", "--port", str(port), "--with-worker",
                             "--dev-token"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}", proc)
        time.sleep(4)  # several runs of the recovery task
    finally:
        out = stop_group(proc)
    assert len(URL.findall(out)) == 2, out
    ready_at = out.index("Ready: http://127.0.0.1:")
    after = out[ready_at:].split("\n", 2)[-1]
    # Whatever comes after the ready line until shutdown, none of it is about the periodic task.
    assert "recover_stalled_imports" not in after and "procrastinate.periodic" not in after, after
    assert "recover_stalled_imports" in out  # registered at start-up: the task does exist
    assert "DEVELOPMENT secret" in out
