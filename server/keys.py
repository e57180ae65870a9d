"""Typed keys of what the app and each request carry."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from importer.settings import Settings
from importer.tokens import Claims

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", AsyncConnectionPool)
# The notification hub (server/hub.py); typed loosely so that this module imports nothing of it.
HUB = web.AppKey("hub", Any)
# The procrastinate App the API defers with (importer.jobs.app.app).
PROCRASTINATE = web.AppKey("procrastinate", Any)
# (user id, e-mail) pairs this process has already written to `users`: no write per request.
KNOWN_USERS = web.AppKey("known_users", set)

CLAIMS = web.RequestKey("claims", Claims)
