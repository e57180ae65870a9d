"""`importer serve`: the HTTP server, optionally with a worker in the same process.

Migrations are not run here: `make run` runs `importer migrate` first.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from importer import logs, tokens
from importer.db import as_user
from importer.queries import q
from importer.settings import Settings
from server import keys
from server.app import create_app

log = logging.getLogger(__name__)

# The one user a development token signs in as, so that its wheel survives restarts.
DEV_USER_ID = uuid.UUID("00000000-0000-4000-8000-00000000d3e0")
DEV_TOKEN_TTL = 30 * 24 * 3600


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


def dev_token_on_startup(host: str, port: int, notice: list[str]) -> Callable[[web.Application], Awaitable[None]]:
    """An on_startup hook that prepares the sign-in URL; it is printed once the server listens."""

    async def on_startup(app: web.Application) -> None:
        settings = app[keys.SETTINGS]
        wheel_id = await dev_wheel(app)
        token = tokens.mint(settings.jwt_secret, DEV_USER_ID, email="dev@localhost.test", ttl=DEV_TOKEN_TTL)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        notice.append(f"\nOpen http://{shown_host}:{port}/#token={token}&wheel={wheel_id}\n"
                      f"Development token (user {DEV_USER_ID}, valid {DEV_TOKEN_TTL // 86400} days):\n{token}\n")

    return on_startup


def main(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    logs.setup(settings.log_format)
    settings.warn_if_insecure()
    app = create_app(settings, with_worker=args.with_worker)
    notice: list[str] = []
    if getattr(args, "dev_token", False):
        app.on_startup.append(dev_token_on_startup(args.host, args.port, notice))
    worker = " with an in-process worker" if args.with_worker else ""

    def listening(_: str) -> None:
        # run_app calls this once the socket listens, after every on_startup hook has run.
        log.info("serving on http://%s:%d%s", args.host, args.port, worker)
        for text in notice:
            print(text, flush=True)
            settings.warn_if_insecure()  # again, right under the token it concerns

    web.run_app(app, host=args.host, port=args.port, print=listening, access_log=None)
    return 0
