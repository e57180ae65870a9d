"""aiohttp's own answers to a request its HTTP parser refuses, in the contract's JSON error shape.

A request line or header over aiohttp's limits (8190 bytes each), or bytes that are no HTTP
request, never reach the app: aiohttp's `RequestHandler.handle_error` answers them before any
middleware runs, as text/plain (aiohttp issue #3287 asks for a hook; there is none). So the
server makes its connections with `JsonErrorRequestHandler`, whose `handle_error` answers the
JSON body of server/middlewares.py instead, through `ApiRunner`, the AppRunner that
`importer serve` runs the app with (`run_app`).

What can be shaped and what cannot: the status and the body. The request is unknown by then (no
path, no headers, no Accept-Language), so the message is Swedish, the default language, and
only what the parser's error shows can be used: the first 100 bytes of the line it refused.
An oversized line that is a bearer token (an `Authorization: Bearer …` value, or a request line
with `access_token=` in its first 100 bytes) is answered 401 `invalid_token`, which is what it
is: no valid token is that long. Any other refusal is 400 `bad_request`. The limits themselves
stay aiohttp's: raising them so that a megabyte token reached the app would let every
connection hold megabytes of headers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from importer.messages import SWEDISH, render_in
from server.middlewares import HTTP_CODES, error_response

log = logging.getLogger(__name__)

# aiohttp's run_app answers an idle keep-alive connection this long (RequestHandler's own
# default is an hour).
KEEPALIVE_TIMEOUT = 75.0
SHUTDOWN_TIMEOUT = 60.0


def refused_token(exc: BaseException | None) -> bool:
    """Whether the parser refused an oversized line that carries a bearer token."""
    if not isinstance(exc, LineTooLong) or not exc.args:
        return False
    line = exc.args[0]
    head = (line if isinstance(line, bytes | bytearray) else str(line).encode(errors="replace")).lower()
    return head.startswith(b"bearer ") or b"access_token=" in head


def parser_error_response(status: int, exc: BaseException | None) -> web.Response:
    """The JSON answer to a request aiohttp refused before the app saw it."""
    if refused_token(exc):
        response = error_response(401, "invalid_token", render_in(SWEDISH, "api.token_invalid"),
                                  headers={"WWW-Authenticate": 'Bearer realm="importer"'})
    elif status >= 500:
        response = error_response(status, "internal_error", render_in(SWEDISH, "api.internal_error"))
    else:
        details: dict[str, Any] = {}
        if isinstance(exc, LineTooLong) and len(exc.args) > 1:
            details["limit_bytes"] = exc.args[1]
        response = error_response(status, HTTP_CODES.get(status, "bad_request"),
                                  render_in(SWEDISH, "api.http_400"), details)
    response.force_close()
    return response


class JsonErrorRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering its own errors (see the module) as JSON."""

    __slots__ = ()

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500:
            # aiohttp's logging of a failure it caught (the app's middleware catches ours).
            super().handle_error(request, status, exc, message)
        elif not isinstance(exc, BadHttpMethod):
            # A client's malformed request is the client's problem: one line, no traceback.
            log.info("refused a malformed request from %s: %s", request.remote,
                     exc.message if isinstance(exc, HttpProcessingError) else exc)
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        return parser_error_response(status, exc)


class ApiServer(web.Server):
    """aiohttp's low-level server, making JsonErrorRequestHandler connections."""

    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """aiohttp's AppRunner whose server is an ApiServer."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The same object, made by the app with its request factory and settings; only the
        # connections it makes differ. aiohttp has no parameter for the handler class.
        server.__class__ = ApiServer
        return server


def run_app(app: web.Application, *, host: str, port: int, print: Callable[[str], None],
            **runner_options: Any) -> None:
    """Serve `app` on host:port until SIGINT or SIGTERM, as aiohttp's `web.run_app` does, but
    with an ApiRunner; `print` is called once the socket listens. `runner_options` go to the
    runner as run_app's would (`access_log`, `keepalive_timeout`, `shutdown_timeout`, and
    the connection settings such as `max_field_size`). Errors of start-up (a port taken, an
    on_startup hook failing) are raised."""
    loop = asyncio.new_event_loop()
    options = {"handle_signals": True, "keepalive_timeout": KEEPALIVE_TIMEOUT,
               "shutdown_timeout": SHUTDOWN_TIMEOUT, **runner_options}

    async def serve() -> None:
        runner = ApiRunner(app, **options)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            print(f"======== Running on {site.name} ========")
            await asyncio.Event().wait()  # until cancelled (a signal raises GracefulExit)
        finally:
            await runner.cleanup()

    main = loop.create_task(serve())
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
