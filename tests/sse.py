"""A small Server-Sent Events client for tests: real HTTP through aiohttp, the text parsed as a browser would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs


@attrs.frozen(kw_only=True)
class Event:
    id: str | None
    event: str
    data: str

    @property
    def job(self) -> dict[str, Any]:
        return json.loads(self.data)


@attrs.define
class Stream:
    """An open event stream. `next()` gives the next event, or None once the server ended it."""

    response: aiohttp.ClientResponse
    comments: int = 0
    retry: int | None = None
    ended: bool = False

    @property
    def status(self) -> int:
        return self.response.status

    async def next(self, within: float = 10.0) -> Event | None:
        """The next event; None at the end of the stream; TimeoutError if none comes in time."""
        async with asyncio.timeout(within):
            return await self._read_event()

    async def until_end(self, within: float = 10.0) -> list[Event]:
        """Every event up to the end of the stream, which must come within `within` seconds."""
        got: list[Event] = []
        async with asyncio.timeout(within):
            while (event := await self._read_event()) is not None:
                got.append(event)
        return got

    async def _read_event(self) -> Event | None:
        fields: dict[str, list[str]] = {}
        while True:
            raw = await self.response.content.readline()
            if not raw:
                self.ended = True
                return None
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line:
                if "data" in fields:
                    return Event(id=(fields.get("id") or [None])[-1],
                                 event=(fields.get("event") or ["message"])[-1],
                                 data="\n".join(fields["data"]))
                fields.clear()
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry = int(value)
            else:
                fields.setdefault(name, []).append(value)


@asynccontextmanager
async def open_stream(session: aiohttp.ClientSession, url: str, *, token: str | None = None,
                      last_event_id: str | None = None, query_token: bool = False,
                      within: float = 10.0) -> AsyncIterator[Stream]:
    """GET an event stream with a bearer token (header, or `access_token` as a browser sends it)."""
    headers = {"Accept": "text/event-stream"}
    params = {}
    if token and query_token:
        params["access_token"] = token
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with asyncio.timeout(within):
        response = await session.get(url, headers=headers, params=params,
                                     timeout=aiohttp.ClientTimeout(total=None, sock_connect=within))
    try:
        yield Stream(response)
    finally:
        response.close()
