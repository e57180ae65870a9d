"""One user cannot take a server down by opening streams: `importer serve` under `ulimit -n 256`
keeps file descriptors for /healthz, /readyz, other users and the database, and does not flood
its log when it does run out of them."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from importer import tokens
from tests.acceptance.api.support import SECRET
from tests.processes import Proc, serving

OPEN_FILES = 256


@contextmanager
def limited_server(db_url: str) -> Iterator[tuple[Proc, str]]:
    """`importer serve` under RLIMIT_NOFILE 256 (soft and hard), with no per-user stream limit to
    speak of: the open-file limit is what binds."""
    env = {"DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET, "IMPORTER_LOG_FORMAT": "text",
           "IMPORTER_MAX_STREAMS_PER_USER": "100000"}
    with serving("server", {**os.environ, **env}, Path(tempfile.mkdtemp(prefix="importer-nofile-")),
                 open_files=OPEN_FILES) as (proc, url):
        yield proc, url


def bearer(user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.mint(SECRET, user, ttl=3600)}"}


async def status_of(session: aiohttp.ClientSession, method: str, url: str, **kwargs) -> int:
    """A request that must be answered within 10 s (a server out of descriptors never answers)."""
    async with asyncio.timeout(10), session.request(method, url, **kwargs) as resp:
        await resp.read()
        return resp.status


async def test_one_user_at_the_stream_cap_leaves_the_server_working_for_everyone(db_url):
    """Under `ulimit -n 256`, one user's streams are refused with 503 before the process runs out of
    descriptors; meanwhile /healthz, /readyz and another user's requests are answered, and the
    log stays a few lines long."""
    attacker, other = uuid.uuid4(), uuid.uuid4()
    with limited_server(db_url) as (proc, url):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            held: list[aiohttp.ClientResponse] = []
            refused = None
            try:
                for _ in range(OPEN_FILES + 50):  # more than the process could ever hold
                    async with asyncio.timeout(10):  # a hang here is the bug: accept() failing
                        resp = await session.get(url + "/api/events", headers=bearer(attacker))
                    if resp.status != 200:
                        refused = resp
                        break
                    held.append(resp)
                assert refused is not None, f"{len(held)} streams and none refused"
                assert refused.status == 503
                error = (await refused.json())["error"]
                assert error["code"] == "server_busy"
                assert int(refused.headers["Retry-After"]) > 0
                assert len(held) == error["details"]["limit"]
                assert 16 < len(held) < OPEN_FILES - 64  # the fd budget bound, with room kept
                # At the cap, everything that is not one more stream still works.
                async with aiohttp.ClientSession() as others:
                    assert await status_of(others, "GET", url + "/healthz") == 200
                    assert await status_of(others, "GET", url + "/readyz") == 200
                    assert await status_of(others, "POST", url + "/api/wheels", headers=bearer(other),
                                           json={"title": "Plan", "year": 2026}) == 201
                    assert await status_of(others, "GET", url + "/api/imports", headers=bearer(other)) == 200
            finally:
                for resp in held:
                    resp.close()
        logs = proc.logs()
    assert "Too many open files" not in logs
    assert len(logs.splitlines()) < 50, logs[-3000:]
    assert f"IMPORTER_MAX_STREAMS lowered from 10000 to {len(held)}" in logs


@pytest.mark.slow
async def test_running_out_of_descriptors_logs_accept_errors_once_a_second(db_url):
    """Raw connections past the open-file limit make accept() fail; that is logged at most about
    once a second (with a count), not once per attempt, and the server answers again afterwards."""
    with limited_server(db_url) as (proc, url):
        port = int(url.rsplit(":", 1)[1])
        started = time.monotonic()
        flood: list[socket.socket] = []
        try:
            for _ in range(OPEN_FILES + 20):
                flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            await asyncio.sleep(4)
        finally:
            for sock in flood:
                sock.close()
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(30):
                while True:  # the server accepts again once the flood's descriptors are closed
                    try:
                        if await status_of(session, "GET", url + "/healthz") == 200:
                            break
                    except (TimeoutError, aiohttp.ClientError):
                        pass
                    await asyncio.sleep(0.5)
        lines = proc.logs().splitlines()
    seconds = time.monotonic() - started  # the server stopped, so no accept error can come later
    errors = [line for line in lines if "socket.accept() out of system resource" in line]
    assert errors, "the flood never ran the process out of descriptors"
    # A line a second at most (plus the first), where each attempt used to log its own: thousands.
    assert len(errors) <= seconds + 1, (len(errors), seconds)
    assert any("not logged" in line for line in errors)
    assert len(lines) < 200, "\n".join(lines[-50:])
