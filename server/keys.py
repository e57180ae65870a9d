"""Typed keys of what the app and each request carry (the hub's key is server.hub.HUB)."""

from __future__ import annotations

import procrastinate
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from importer.db import Pool
from importer.settings import Settings
from importer.tokens import Claims

SETTINGS = web.AppKey("settings", Settings)
# The API pool (importer.db.make_pool): dict rows, so the annotation, not the class, types it.
POOL: web.AppKey[Pool] = web.AppKey("pool", AsyncConnectionPool)
# The procrastinate App (importer.jobs.app.make_app) the API queues and cancels tasks with, on
# its request's own connection: never opened.
PROCRASTINATE = web.AppKey("procrastinate", procrastinate.App)
# (user id, e-mail) pairs this process has already written to `users`: no write per request.
KNOWN_USERS = web.AppKey("known_users", set)

CLAIMS = web.RequestKey("claims", Claims)
