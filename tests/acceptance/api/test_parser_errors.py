"""What aiohttp's parser refuses before the app sees it, answered by a real `importer serve`:
an oversized token is 401 `invalid_token`, any other refused request a 400, both as the
contract's JSON error (server/protocol.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.api.live import serve
from tests.acceptance.api.support import SECRET, bearer, error_of


@pytest.fixture(scope="module")
def server(pg_server: str, template_db: str, tmp_path_factory) -> Iterator[tuple[str, int]]:
    """One `importer serve` on its own database for the module: (host, port)."""
    from tests.conftest import create_database, drop_database

    name = f"importer_test_{uuid.uuid4().hex[:10]}"
    db_url = create_database(pg_server, name, template=template_db)
    log_dir: Path = tmp_path_factory.mktemp("parser-errors")
    try:
        with serve({"DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET, "IMPORTER_LOG_FORMAT": "text"},
                   log_dir=log_dir) as url:
            host, _, port = url.removeprefix("http://").partition(":")
            yield host, int(port)
    finally:
        drop_database(pg_server, name)


async def exchange(server: tuple[str, int], head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `head` (a request line and headers, written byte for byte) and read the answer while
    sending: (status, headers, body). On a plain socket, so that an answer that came before the
    server closed is read even when the rest of the sending fails (asyncio's StreamReader would
    raise the write's error instead of returning what it holds)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)

    async def send() -> None:
        with contextlib.suppress(OSError):  # the server answered and closed before the rest
            await loop.sock_sendall(sock, head)

    try:
        await loop.sock_connect(sock, server)
        sending = asyncio.create_task(send())
        data = b""
        async with asyncio.timeout(30):
            while True:
                try:
                    chunk = await loop.sock_recv(sock, 65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                data += chunk
                head_part, found, body = data.partition(b"\r\n\r\n")
                if found and b"content-length:" in head_part.lower():
                    length = int(head_part.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    if len(body) >= length:
                        break
        sending.cancel()
    finally:
        sock.close()
    head_part, _, body = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ", 2)[1]), headers, body


async def test_a_megabyte_access_token_is_401_json(server):
    """A 1 MB `access_token` on an SSE route is 401 `invalid_token` as JSON, not aiohttp's plain-text 400."""
    head = b"GET /api/events?access_token=" + b"e" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, headers, body = await exchange(server, head)
    assert status == 401, body[:300]
    assert headers["content-type"].startswith("application/json")
    assert error_of(json.loads(body))["code"] == "invalid_token"


async def test_a_bearer_token_over_the_header_limit_is_401_json(server):
    """An Authorization header of 1 MB (over aiohttp's 8190 bytes) is 401 `invalid_token` as JSON."""
    head = b"GET /api/wheels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"e" * (1 << 20) + b"\r\n\r\n"
    status, headers, body = await exchange(server, head)
    assert status == 401, body[:300]
    assert headers["www-authenticate"].startswith("Bearer")
    assert error_of(json.loads(body))["code"] == "invalid_token"


@pytest.mark.parametrize("head", [
    b"GET /api/wheels HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 20_000 + b"\r\n\r\n",
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/wheels HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
], ids=["header-over-limit", "path-over-limit", "malformed-header"])
async def test_other_refused_requests_are_400_json(server, head):
    """A header or path over the limit, or a malformed header, is 400 `bad_request` in the error shape."""
    status, headers, body = await exchange(server, head)
    assert status == 400, body[:300]
    assert headers["content-type"].startswith("application/json")
    assert error_of(json.loads(body))["code"] == "bad_request"


async def test_a_token_within_the_limits_still_works(server):
    """A valid token in the header still reaches the app through the same connection handler."""
    token = bearer(uuid.uuid4())["Authorization"]
    head = f"GET /api/wheels HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n".encode()
    status, _headers, body = await exchange(server, head)
    assert status == 200, body[:300]
    assert json.loads(body) == {"wheels": []}
