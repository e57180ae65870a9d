"""`importer serve`: the HTTP server, optionally with a worker in the same process.

Migrations are not run here: `make run` runs `importer migrate` first.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import errno
import logging
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from importer import logs, tokens
from importer.cli import EXIT_USAGE
from importer.db import as_user
from importer.queries import q
from importer.settings import Settings
from server import keys, open_files, protocol
from server.app import create_app, database_connections
from server.hub import HUB

log = logging.getLogger(__name__)

# The one user a development token signs in as, so that its wheel survives restarts.
DEV_USER_ID = uuid.UUID("00000000-0000-4000-8000-00000000d3e0")
DEV_TOKEN_TTL = 30 * 24 * 3600
# How long the ready announcement waits for the hub's LISTEN connection before giving up.
READY_WITHIN_SECONDS = 60.0
# The in-process worker logs its start right after the server listens: let those lines come
# first, so that the announcement is the last thing on the screen.
SETTLE_SECONDS = 0.5


async def dev_wheel(app: web.Application) -> uuid.UUID:
    """The development user's first wheel, created (with the user) when it has none."""
    async with as_user(app[keys.POOL], DEV_USER_ID) as conn:
        await conn.execute(q("user_ensure"), {"user_id": DEV_USER_ID, "email": "dev@localhost.test"})
        row = await (await conn.execute(q("wheel_first"))).fetchone()
        if row is None:
            year = datetime.date.today().year
            row = await (await conn.execute(q("wheel_create"), {
                "owner_id": DEV_USER_ID, "title": f"Utveckling {year}", "year": year})).fetchone()
    assert row is not None  # wheel_create returns the wheel it created
    wheel_id: uuid.UUID = row["id"]
    return wheel_id


def shown_host(host: str) -> str:
    """The host to put in a URL a person opens: a wildcard address is reached on loopback."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def dev_token_on_startup(host: str, port: int, urls: list[str], notice: list[str]
                         ) -> Callable[[web.Application], Awaitable[None]]:
    """An on_startup hook that prepares the sign-in URL; it is printed once the server listens."""

    async def on_startup(app: web.Application) -> None:
        settings = app[keys.SETTINGS]
        wheel_id = await dev_wheel(app)
        token = tokens.mint(settings.jwt_secret, DEV_USER_ID, email="dev@localhost.test", ttl=DEV_TOKEN_TTL)
        url = f"http://{shown_host(host)}:{port}/#token={token}&wheel={wheel_id}"
        urls.append(url)
        # The two export lines are what the CLI (importer submit, preview, ...) and the README's
        # curl lines read, so a new user can paste them into another terminal.
        notice.append(f"\nOpen {url}\n"
                      f"Development token (user {DEV_USER_ID}, valid {DEV_TOKEN_TTL // 86400} days), "
                      f"for the CLI and curl in another terminal:\n"
                      f"export IMPORTER_URL=http://{shown_host(host)}:{port}\n"
                      f"export IMPORTER_TOKEN={token}\n")

    return on_startup


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, in words naming the option to change; None if it can.

    Checked before the app starts, so a taken port costs no database connection, no worker and
    no traceback. aiohttp binds with SO_REUSEADDR, and so does this probe: a port in TIME_WAIT
    is free for both, one with a listener is taken for both.
    """
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on host {host!r}: {exc.strerror}. Pass another with --host."
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return bind_problem(exc, host, port)
    return None


def bind_problem(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (another `importer serve` or `make run`?). "
                f"Choose another port with --port, e.g. `importer serve --port {port + 1}` "
                f"or `make run PORT={port + 1}`.")
    if exc.errno == errno.EACCES:
        return (f"not allowed to listen on port {port} on {host} (ports below 1024 need privileges). "
                f"Choose another port with --port.")
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine. Pass another with --host."
    return f"cannot listen on {host}:{port}: {exc.strerror}. Check --host and --port."


async def announce_when_ready(app: web.Application, base_url: str, urls: list[str]) -> None:
    """Say "ready" (with the sign-in URL again) once the hub listens, i.e. once /readyz would be 200.

    The URL printed at start-up may have scrolled away under the start-up logs by then; this is
    the line a newcomer looks for.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_WITHIN_SECONDS
    hub = app.get(HUB)
    while hub is None or not hub.is_listening:
        if loop.time() > deadline:
            return  # /readyz tells the rest; the hub logs its own trouble
        await asyncio.sleep(0.1)
        hub = app.get(HUB)
    await asyncio.sleep(SETTLE_SECONDS)
    for url in urls or [base_url + "/"]:
        print(f"\nReady: {url}\n", flush=True)


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    settings.refuse_unsafe_production()  # ConfigError, reported by importer.cli.main
    logs.setup(settings.log_format)
    problem = port_problem(args.host, args.port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    settings.warn_if_insecure()
    # Before anything opens: the streams' cap leaves descriptors for the rest (/healthz, other
    # users, the database, the LISTEN connection) however many streams one user asks for.
    settings = open_files.fit_streams(settings, database=database_connections(with_worker=args.with_worker))
    app = create_app(settings, with_worker=args.with_worker)
    notice: list[str] = []
    urls: list[str] = []
    if getattr(args, "dev_token", False):
        app.on_startup.append(dev_token_on_startup(args.host, args.port, urls, notice))
    worker = " with an in-process worker" if args.with_worker else ""
    base_url = f"http://{shown_host(args.host)}:{args.port}"
    background: set[asyncio.Task[None]] = set()

    def listening(_: str) -> None:
        # run_app calls this once the socket listens, after every on_startup hook has run.
        log.info("serving on http://%s:%d%s", args.host, args.port, worker)
        for text in notice:
            print(text, flush=True)
            settings.warn_if_insecure()  # again, right under the token it concerns
        task = asyncio.get_running_loop().create_task(announce_when_ready(app, base_url, urls))
        background.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(background.discard)

    try:
        # aiohttp's run_app with a runner whose own 400s are JSON too (server/protocol.py).
        protocol.run_app(app, host=args.host, port=args.port, print=listening, access_log=None)
    except OSError as exc:
        # Taken between the probe and the bind (another process was quicker): the same words.
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        print(f"error: {bind_problem(exc, args.host, args.port)}", file=sys.stderr)
        return EXIT_USAGE
    return 0
