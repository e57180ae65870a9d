"""Fixtures of the HTTP API tests: the real app on a real database, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from server.app import create_app
from tests.acceptance.api.support import Api, make_settings


@pytest.fixture
def api_factory(db_url: str, aiohttp_client) -> Callable:
    """Start the app (optionally with other settings, or a worker in-process) and return an Api for a new user."""

    async def start(with_worker: bool = False, **env: str) -> Api:
        client = await aiohttp_client(create_app(make_settings(db_url, **env), with_worker=with_worker))
        return Api(client)

    return start


@pytest.fixture
async def api(api_factory) -> Api:
    return await api_factory()
