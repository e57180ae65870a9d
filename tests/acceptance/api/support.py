"""Helpers of the HTTP API tests: real tokens, a client signed in as one user, the error shape."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from importer import tokens
from importer.model import TERMINAL
from importer.settings import Settings

# 64 bytes, so that signing with HS512 in the algorithm test raises no key-length warning.
SECRET = "test-secret-for-the-api-tests-" + "0123456789" * 4
CSV = "Aktivitet,Startdatum,Slutdatum\nMöte,2026-03-01,2026-03-02\nPlanering,2026-04-01,2026-04-03\n".encode()


def make_settings(db_url: str, **env: str) -> Settings:
    return Settings.from_env({"DATABASE_URL": db_url, "IMPORTER_JWT_SECRET": SECRET, **env})


def bearer(user_id: uuid.UUID | str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.mint(SECRET, user_id, **claims)}"}


class Api:
    """A test client signed in as one user, with the calls the tests repeat."""

    def __init__(self, client: TestClient, user_id: uuid.UUID | None = None):
        self.client = client
        self.user_id = user_id or uuid.uuid4()
        self.headers = bearer(self.user_id)

    def as_other(self) -> Api:
        return Api(self.client)

    async def call(self, method: str, path: str, **kwargs: Any):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def wheel(self, title: str = "Plan 2026", year: int = 2026) -> str:
        resp = await self.call("POST", "/api/wheels", json={"title": title, "year": year})
        assert resp.status == 201, await resp.text()
        return (await resp.json())["id"]

    async def submit_csv(self, wheel_id: str, body: bytes = CSV, **kwargs: Any):
        headers = {"Content-Type": "text/csv", **kwargs.pop("headers", {})}
        return await self.call("POST", f"/api/wheels/{wheel_id}/imports", data=body, headers=headers, **kwargs)

    async def job(self, wheel_id: str) -> dict[str, Any]:
        resp = await self.submit_csv(wheel_id)
        assert resp.status == 202, await resp.text()
        return await resp.json()


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The contract's error object, asserting its shape."""
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    return body["error"]


async def until_ended(api: Api, job_id: str, *, within: float = 30.0) -> dict[str, Any]:
    """The job once it has ended (completed, failed or cancelled), polled over the API; fails
    after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            job: dict[str, Any] = await (await api.call("GET", f"/api/imports/{job_id}")).json()
            if job["status"] in TERMINAL:
                return job
            await asyncio.sleep(0.05)
