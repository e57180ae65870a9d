"""The CLI's SSE reader and its wording: framing, comments, reconnect with Last-Event-ID, Swedish ETA."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from importer.cli.api import ApiError
from importer.cli.follow import counts_text, eta_text
from importer.cli.sse import events, parse_lines


def test_parse_lines_joins_data_and_ignores_comments() -> None:
    """Multi-line data is joined with newlines, comments are skipped, a comment-only block is no event."""
    event = parse_lines([": ping", "id: 7", "event: progress", "data: {\"a\":", "data: 1}"])
    assert event is not None
    assert (event.id, event.event, event.data) == ("7", "progress", '{"a":\n1}')
    assert parse_lines([": keep-alive"]) is None
    assert parse_lines(["data:x"]).event == "message"


def test_eta_text_uses_the_original_wording() -> None:
    """The ETA reads like the original product's, rounded to whole minutes."""
    assert eta_text(None) == ""
    assert eta_text(59) == "Mindre än 1 minut kvar..."
    assert eta_text(80) == "Cirka 1 minut kvar..."
    assert eta_text(300) == "Cirka 5 minuter kvar..."


def test_counts_text_shows_processed_rows_until_completed() -> None:
    """While running the line shows processed/total rows; once completed the created items."""
    job = {"status": "processing", "processed_items": 1234, "total_items": 1929,
           "counts": {"rings": 3, "groups": 39, "labels": 0, "pages": 0, "items": 0}}
    assert counts_text(job).startswith("✓ 3 ringar ✓ 39 grupper")
    assert counts_text(job).endswith("✓ 1234/1929 aktiviteter")
    assert counts_text({**job, "status": "completed", "counts": {"items": 1940}}).endswith("✓ 1940 aktiviteter")


async def test_events_reconnects_with_last_event_id(aiohttp_client) -> None:
    """A stream cut mid-way is reopened with the last id seen, so each event arrives exactly once."""
    seen_ids: list[str | None] = []

    async def stream(request: web.Request) -> web.StreamResponse:
        last = request.headers.get("Last-Event-ID")
        seen_ids.append(last)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        start = int(last) + 1 if last else 1
        await response.write(b"retry: 10\r\n\r\n: hello\n\n")
        for n in range(start, start + 2):
            await response.write(f"id: {n}\nevent: progress\ndata: {n}\n\n".encode())
        if start == 1:
            request.transport.close()  # drop the connection without ending the stream
            return response
        await response.write(b"id: 9\r\nevent: completed\r\ndata: end\r\n\r\n")
        return response

    app = web.Application()
    app.router.add_get("/s", stream)
    client = await aiohttp_client(app)
    got = []
    async with aiohttp.ClientSession() as session:
        async def collect() -> None:
            async for event in events(session, str(client.make_url("/s")), headers={}, retry_delay=0.01):
                got.append((event.id, event.event, event.data))
                if event.event == "completed":
                    return

        await asyncio.wait_for(collect(), timeout=10)
    assert [g[2] for g in got] == ["1", "2", "3", "4", "end"]
    assert seen_ids[:2] == [None, "2"]


async def test_events_raises_the_servers_error(aiohttp_client) -> None:
    """An HTTP error answer of the stream raises ApiError with the contract's code and message."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "not_found", "message": "No such job.", "details": {}}},
                                 status=404)

    app = web.Application()
    app.router.add_get("/s", refuse)
    client = await aiohttp_client(app)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ApiError) as caught:
            async for _ in events(session, str(client.make_url("/s")), headers={}):
                pass
    assert (caught.value.status, caught.value.code, caught.value.message) == (404, "not_found", "No such job.")


def test_the_cli_asks_for_its_terminals_language():
    """The CLI asks the server for Swedish in a Swedish locale (LC_ALL before LC_MESSAGES before
    LANG, as POSIX orders them) and for English otherwise, the language of its own words."""
    from importer.cli.api import terminal_language

    assert terminal_language({"LANG": "sv_SE.UTF-8"}) == "sv"
    assert terminal_language({"LC_ALL": "en_US.UTF-8", "LANG": "sv_SE.UTF-8"}) == "en"
    assert terminal_language({"LC_MESSAGES": "sv_FI", "LANG": "C.UTF-8"}) == "sv"
    assert terminal_language({"LANG": "C.UTF-8"}) == terminal_language({}) == "en"
