"""The whole service as a user runs it: `importer serve --with-worker` in a subprocess, on its own database."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from importer import tokens
from tests.conftest import create_database, drop_database
from tests.processes import free_port, start, wait_ready

SECRET = "test-secret-for-the-client-tests-" + "0123456789" * 4
IMPORTER = str(Path(sys.executable).with_name("importer"))


@attrs.frozen(kw_only=True)
class LiveServer:
    url: str
    db_url: str
    env: dict[str, str]
    log: Path

    def token(self, user_id: uuid.UUID | str | None = None, email: str | None = None) -> str:
        return tokens.mint(SECRET, user_id or uuid.uuid4(), email=email, ttl=3600)

    def call(self, method: str, path: str, token: str, body: bytes | None = None,
             content_type: str | None = None, timeout: float = 30) -> tuple[int, Any]:
        """One request; (status, parsed JSON body)."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wheel(self, token: str, title: str = "Plan 2025", year: int = 2025) -> str:
        status, body = self.call("POST", "/api/wheels", token, json.dumps({"title": title, "year": year}).encode(),
                                 "application/json")
        assert status == 201, body
        return body["id"]

    def submit(self, token: str, wheel_id: str, content: bytes, file_name: str = "plan.csv") -> dict[str, Any]:
        status, body = self.call("POST", f"/api/wheels/{wheel_id}/imports?file_name={file_name}", token,
                                 content, "text/csv")
        assert status == 202, body
        return body

    def wait(self, token: str, job_id: str, statuses: set[str], timeout: float = 120) -> dict[str, Any]:
        """Poll the job until its status is one of `statuses`; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            status, job = self.call("GET", f"/api/imports/{job_id}", token)
            assert status == 200, job
            if job["status"] in statuses:
                return job
            assert time.monotonic() < deadline, f"job still {job['status']} after {timeout}s"
            time.sleep(0.2)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def live_server(pg_server: str, template_db: str, **extra_env: str) -> Iterator[LiveServer]:
    """A server with an in-process worker on a fresh database; stopped and dropped afterwards."""
    name = f"importer_live_{uuid.uuid4().hex[:10]}"
    db_url = create_database(pg_server, name, template=template_db)
    data_dir = Path(tempfile.mkdtemp(prefix="importer-live-"))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "IMPORTER_JWT_SECRET": SECRET,
        "IMPORTER_DATA_DIR": str(data_dir),
        "IMPORTER_MAX_ACTIVE_JOBS": "50",
        "IMPORTER_LOG_FORMAT": "text",
        "APP_URL": f"http://127.0.0.1:{port}",
        **extra_env,
    }
    env.pop("SMTP_URL", None)  # completion e-mails go to the outbox in data_dir
    proc = start("server", ["-m", "importer.cli", "serve", "--port", str(port), "--with-worker"], env, data_dir)
    server = LiveServer(url=f"http://127.0.0.1:{port}", db_url=db_url, env=env, log=proc.log)
    try:
        wait_ready(proc, server.url)
        yield server
    finally:
        proc.stop(timeout=15)
        drop_database(pg_server, name)
