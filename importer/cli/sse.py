"""A small Server-Sent Events reader over an aiohttp ClientSession, reconnecting with Last-Event-ID."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import aiohttp
import attrs

from importer.cli.api import raise_for_error


@attrs.frozen(kw_only=True)
class Event:
    id: str | None
    event: str
    data: str


def parse_lines(lines: list[str]) -> Event | None:
    """One event from the lines of one block (the blank line excluded); None for a comment-only block."""
    event_id: str | None = None
    event_type = "message"
    data: list[str] = []
    seen = False
    for line in lines:
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
            seen = True
        elif field == "event":
            event_type = value or "message"
            seen = True
        elif field == "id" and "\0" not in value:
            event_id = value
            seen = True
    if not seen:
        return None
    return Event(id=event_id, event=event_type, data="\n".join(data))


async def _blocks(response: aiohttp.ClientResponse) -> AsyncIterator[list[str]]:
    lines: list[str] = []
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        while True:
            # A line ends with \n, \r\n or \r (the spec allows all three).
            cut = min((i for i in (buffer.find(b"\n"), buffer.find(b"\r")) if i >= 0), default=-1)
            if cut < 0:
                break
            if buffer[cut:cut + 1] == b"\r" and cut + 1 == len(buffer):
                break  # the \n of a \r\n may still be on its way
            line, sep = buffer[:cut], buffer[cut:cut + 1]
            buffer = buffer[cut + (2 if sep == b"\r" and buffer[cut + 1:cut + 2] == b"\n" else 1):]
            text = line.decode("utf-8", errors="replace")
            if text == "":
                if lines:
                    yield lines
                lines = []
            else:
                lines.append(text)


async def events(session: aiohttp.ClientSession, url: str, *, headers: Mapping[str, str],
                 last_event_id: str | None = None, retries: int = 20,
                 retry_delay: float = 1.0) -> AsyncIterator[Event]:
    """Every event of the stream at `url`, across reconnects; the caller stops when it has enough.

    A dropped or ended connection is retried (up to `retries` times in a row without an event
    between) with the last event id seen, so nothing is delivered twice. An HTTP error answer,
    or a server that cannot be reached at all on the first try, raises at once.
    """
    failures = 0
    connected = False
    while True:
        request_headers = {**headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id is not None:
            request_headers["Last-Event-ID"] = last_event_id
        try:
            timeout = aiohttp.ClientTimeout(total=None, connect=10, sock_read=60)
            async with session.get(url, headers=request_headers, timeout=timeout) as response:
                await raise_for_error(response)
                connected = True
                async for block in _blocks(response):
                    for line in block:
                        if line.startswith("retry:") and line[6:].strip().isdigit():
                            retry_delay = int(line[6:].strip()) / 1000
                    event = parse_lines(block)
                    if event is None:
                        continue
                    failures = 0
                    if event.id is not None:
                        last_event_id = event.id
                    yield event
        except (TimeoutError, aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
            if not connected:
                raise
        failures += 1
        if failures > retries:
            raise aiohttp.ClientConnectionError(f"the event stream {url} keeps closing")
        await asyncio.sleep(retry_delay)
