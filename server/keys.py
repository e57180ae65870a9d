"""Typed keys of what the app and each request carry (the hub's key is server.hub.HUB)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from importer.settings import Settings
from importer.tokens import Claims

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", AsyncConnectionPool)
# The procrastinate App the API defers with (importer.jobs.app.app).
PROCRASTINATE = web.AppKey("procrastinate", Any)
# (user id, e-mail) pairs this process has already written to `users`: no write per request.
KNOWN_USERS = web.AppKey("known_users", set)

CLAIMS = web.RequestKey("claims", Claims)
