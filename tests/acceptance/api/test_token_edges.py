"""Token edges over real HTTP (API.md, "Authentication" and "Errors"): 30 s of leeway on token
times, times that must be numbers, an odd `email` claim treated as absent, an oversized token 401."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tests.acceptance.api.support import SECRET, error_of


def signed(**claims) -> dict[str, str]:
    """An Authorization header of an HS256 token with exactly these claims (sub added)."""
    return {"Authorization": "Bearer " + jwt.encode({"sub": str(uuid.uuid4()), **claims}, SECRET, algorithm="HS256")}


@pytest.mark.parametrize("times", [
    {"iat": 1}, {"iat": 25}, {"nbf": 25}, {"exp": -25},
], ids=["iat+1s", "iat+25s", "nbf+25s", "exp-25s"])
async def test_token_times_have_30_seconds_of_leeway(api, times):
    """A token whose iat or nbf is up to 30 s ahead of this server's clock, or whose exp passed
    less than 30 s ago, is accepted: the issuer's clock may differ."""
    now = int(time.time())
    claims = {"exp": now + 3600, **{name: now + offset for name, offset in times.items()}}
    resp = await api.call("GET", "/api/wheels", headers=signed(**claims))
    assert resp.status == 200, await resp.text()


@pytest.mark.parametrize("times", [
    {"iat": 90}, {"nbf": 90}, {"exp": -90},
], ids=["iat+90s", "nbf+90s", "exp-90s"])
async def test_token_times_beyond_the_leeway_are_401(api, times):
    """Beyond the 30 s of leeway the token is refused: 401."""
    now = int(time.time())
    claims = {"exp": now + 3600, **{name: now + offset for name, offset in times.items()}}
    resp = await api.call("GET", "/api/wheels", headers=signed(**claims))
    assert resp.status == 401, await resp.text()
    error_of(await resp.json())


@pytest.mark.parametrize("name,value", [
    ("exp", "{future}"), ("exp", True), ("iat", "{now}"), ("nbf", "{now}"), ("iat", None),
])
async def test_token_times_must_be_numbers(api, name, value):
    """`exp`, `iat` and `nbf` given as a numeric string, a boolean or null are refused: 401
    (`invalid_token`; PyJWT reads `exp: true` as 1970, so that one is `token_expired`)."""
    now = int(time.time())
    if isinstance(value, str):
        value = value.format(future=now + 3600, now=now)
    claims = {"exp": now + 3600, name: value}
    resp = await api.call("GET", "/api/wheels", headers=signed(**claims))
    assert resp.status == 401, await resp.text()
    expected = "token_expired" if value is True else "invalid_token"
    assert error_of(await resp.json())["code"] == expected


@pytest.mark.parametrize("email", [
    "a", "x" * 400 + "@example.com", "anna\x00@example.com", "anna\ud800@example.com",
    ["anna@example.com"], 42, {"address": "anna@example.com"},
], ids=["short", "long", "nul", "surrogate", "list", "number", "object"])
async def test_an_odd_email_claim_counts_as_absent(api, pool, email):
    """A token whose `email` users.email cannot hold works like one without an e-mail: 200 on
    every request, and the user row has no e-mail."""
    user = uuid.uuid4()
    # json.dumps cannot write a lone surrogate as such: the escape is what a client would send.
    token = jwt.encode({"sub": str(user), "exp": int(time.time()) + 3600, "email": email}, SECRET,
                       algorithm="HS256", json_encoder=None)
    for _ in range(2):
        resp = await api.call("POST", "/api/wheels", json={"title": "Plan", "year": 2026},
                              headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 201, await resp.text()
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT email FROM users WHERE id = %s", (user,))).fetchone()
    assert row == {"email": None}

