"""A request body that stops coming or trickles is cut off with 408 `request_timeout` and a closed
connection, instead of holding the connection for as long as the client likes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.acceptance.api.support import CSV, Api, error_of

# Short limits, so that the test waits seconds, not the default 30 s.
PACE = {"IMPORTER_BODY_IDLE_SECONDS": "1", "IMPORTER_BODY_MIN_RATE": "1000"}


async def raw_request(api: Api, head: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the test server on which `head` (request line and headers) has been sent."""
    reader, writer = await asyncio.open_connection(api.client.host, api.client.port)
    writer.write(head.encode())
    await writer.drain()
    return reader, writer


def upload_head(api: Api, path: str, length: int, content_type: str = "text/csv") -> str:
    return (f"POST {path} HTTP/1.1\r\nHost: {api.client.host}\r\n"
            f"Authorization: {api.headers['Authorization']}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\nAccept-Language: en\r\n\r\n")


async def answer_and_close(reader: asyncio.StreamReader, within: float = 20.0, *,
                           first: bytes = b"") -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of the response, read until the server closes the connection;
    `first`: what of it was read already."""
    async with asyncio.timeout(within):
        raw = first + await reader.read()  # to EOF: the server must close the connection
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


async def test_a_body_that_stops_coming_is_cut_off_with_408(api_factory):
    """Headers and the start of a CSV, then nothing: 408 `request_timeout` in JSON, the connection
    closed, and no job created."""
    api = await api_factory(**PACE)
    wheel = await api.wheel()
    reader, writer = await raw_request(api, upload_head(api, f"/api/wheels/{wheel}/imports", 10_000))
    try:
        writer.write(CSV[:20])
        await writer.drain()
        status, body = await answer_and_close(reader)
    finally:
        writer.close()
    assert status == 408
    error = error_of(body)
    assert error["code"] == "request_timeout"
    assert error["message"].startswith("The request body came too slowly or stopped coming")
    assert error["details"] == {"idle_seconds": 1.0, "min_bytes_per_second": 1000}
    assert (await (await api.call("GET", "/api/imports")).json())["jobs"] == []


async def test_a_body_that_trickles_is_cut_off_with_408(api_factory):
    """A multipart preview sent a byte every 0.2 s (never idle for a second, far under the
    minimum rate) is cut off with 408; the server answers other requests meanwhile."""
    api = await api_factory(**PACE)
    wheel = await api.wheel()
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + CSV * 100 + f"\r\n--{boundary}--\r\n".encode()
    reader, writer = await raw_request(api, upload_head(
        api, f"/api/wheels/{wheel}/previews", len(body), f"multipart/form-data; boundary={boundary}"))

    async def trickle_until_answered() -> tuple[int, dict[str, Any]]:
        # Like a client that reads while it sends: between bytes it waits for the answer, and
        # stops sending once it comes. (A byte sent after the server closed would draw a TCP
        # reset, which can discard the answer before a busy client has read it.)
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                first = await asyncio.wait_for(reader.read(1), 0.2)
            except TimeoutError:
                continue
            return await answer_and_close(reader, first=first)
        raise AssertionError("the whole body was sent without an answer")

    sender = asyncio.create_task(trickle_until_answered())
    try:
        assert (await api.call("GET", f"/api/wheels/{wheel}")).status == 200
        status, answer = await sender
    finally:
        sender.cancel()
        writer.close()
    assert status == 408
    assert error_of(answer)["code"] == "request_timeout"


async def test_a_body_at_an_ordinary_pace_is_accepted(api_factory):
    """A body sent in pieces for a few seconds, with pauses well under the idle limit and a rate
    well above the minimum, is read whole: the limits cut off stalled clients, not slow networks."""
    api = await api_factory(IMPORTER_BODY_IDLE_SECONDS="1", IMPORTER_BODY_MIN_RATE="200")
    wheel = await api.wheel()
    body = CSV + b"".join(f"Rad {n},2026-05-{n % 28 + 1:02d},2026-05-{n % 28 + 1:02d}\n".encode() for n in range(200))
    reader, writer = await raw_request(api, upload_head(api, f"/api/wheels/{wheel}/imports", len(body)))
    try:
        for start in range(0, len(body), 600):  # ~2,400 B/s for about 3 s
            writer.write(body[start:start + 600])
            await writer.drain()
            await asyncio.sleep(0.25)
        async with asyncio.timeout(20):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 202"), head
