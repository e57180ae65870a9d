"""Fixtures every browser test module shares: one live server (with its worker) and one headless
Chromium per module; each module makes its own pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(pg_server: str, template_db: str) -> Iterator[LiveServer]:
    with live_server(pg_server, template_db) as s:
        yield s


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator:
    from playwright.async_api import async_playwright

    # Imported here: test_browser skips (or, on CI, fails) its module when Chromium is missing.
    from tests.e2e.test_browser import ARGS, CHROMIUM

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            await b.close()
