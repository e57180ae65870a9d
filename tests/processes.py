"""Service processes for tests: `python -m importer.cli …` on a free loopback port, ready-checked, stopped."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(popen: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within `timeout` seconds."""
    if popen.poll() is None:
        popen.terminate()
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)


@attrs.define
class Proc:
    """A service process writing its log to a file."""

    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> None:
        stop(self.popen, timeout)


def start(name: str, args: list[str], env: dict[str, str], log_dir: Path, *,
          open_files: int | None = None) -> Proc:
    """`python ARGS` (e.g. `-m importer.cli serve …`) from the repository root, logging to log_dir/name.log;
    with `open_files`, under that RLIMIT_NOFILE (soft and hard, as `ulimit -n` in its shell)."""
    log = log_dir / f"{name}.log"

    def limit() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    with log.open("wb") as out:
        popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 preexec_fn=limit if open_files is not None else None)
    return Proc(name=name, popen=popen, log=log)


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def wait_ready(proc: Proc, url: str, within: float = 60) -> None:
    """Until `url`/readyz answers 200; fails with the process' log if it exits or takes too long."""
    deadline = time.monotonic() + within
    while not ready(url):
        assert proc.alive(), f"{proc.name} exited:\n{proc.logs()[-3000:]}"
        assert time.monotonic() < deadline, f"{proc.name} not ready:\n{proc.logs()[-3000:]}"
        time.sleep(0.1)


@contextmanager
def serving(name: str, env: dict[str, str], log_dir: Path, *extra: str,
            open_files: int | None = None) -> Iterator[tuple[Proc, str]]:
    """`importer serve` (plus `extra` arguments) on a free port, optionally under an open-file
    limit; yields (process, base URL) once ready."""
    port = free_port()
    proc = start(name, ["-m", "importer.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
                 env, log_dir, open_files=open_files)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url)
        yield proc, url
    finally:
        proc.stop()
