"""The HTTP API's operations routes, authentication, CORS and error shapes, over real HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
import pytest

from tests.acceptance.api.support import SECRET, bearer, error_of


async def test_healthz_and_readyz_answer(api):
    """/healthz is 200, and /readyz is 200 while the database and the hub's LISTEN work."""
    assert (await api.client.get("/healthz")).status == 200
    resp = await api.client.get("/readyz")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["checks"] == {"database": True, "listen": True}


async def test_readyz_is_503_without_the_database(api):
    """/readyz answers 503 with the error shape once the pool cannot reach the database."""
    from server import keys

    await api.client.app[keys.POOL].close()
    resp = await api.client.get("/readyz")
    assert resp.status == 503
    assert error_of(await resp.json())["details"]["checks"]["database"] is False


async def test_metrics_is_prometheus_text(api):
    """/metrics serves the default registry in Prometheus' text format."""
    resp = await api.client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE" in await resp.text()


METRICS_TOKEN = "scrape-" + "0123456789abcdef" * 2


async def test_metrics_with_a_token_needs_it(api_factory):
    """With IMPORTER_METRICS_TOKEN set, /metrics is 401 (JSON error, WWW-Authenticate) without a
    bearer token, with a wrong one, a prefix of it or another scheme, and 200 with the right one."""
    api = await api_factory(IMPORTER_METRICS_TOKEN=METRICS_TOKEN)
    refused = {
        None: "missing_token",
        f"Bearer {METRICS_TOKEN}x": "invalid_token",
        f"Bearer {METRICS_TOKEN[:-1]}": "invalid_token",
        "Bearer ": "invalid_token",
        f"Basic {METRICS_TOKEN}": "invalid_token",
        f"Bearer {api.headers['Authorization'].split()[1]}": "invalid_token",  # a user's token is not it
    }
    for header, code in refused.items():
        resp = await api.client.get("/metrics", headers={"Authorization": header} if header else {})
        assert resp.status == 401, header
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        error = error_of(await resp.json())
        assert error["code"] == code and "IMPORTER_METRICS_TOKEN" in error["message"], header
        assert "# TYPE" not in await resp.text()
    english = await api.client.get("/metrics", headers={"Accept-Language": "en"})
    assert error_of(await english.json())["message"].startswith("/metrics needs")
    resp = await api.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert resp.status == 200
    assert "# TYPE" in await resp.text()


async def test_unknown_route_and_wrong_method_are_json(api):
    """A 404 for an unknown route and a 405 for a wrong method carry the JSON error shape."""
    resp = await api.call("GET", "/api/nothing-here")
    assert resp.status == 404
    assert error_of(await resp.json())["code"] == "not_found"
    resp = await api.call("DELETE", "/api/wheels")
    assert resp.status == 405
    assert error_of(await resp.json())["code"] == "method_not_allowed"


OTHER_SECRET = "another-secret-of-at-least-64-bytes-for-hs512-" + "x" * 32


def _token(claims: dict, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _alg_none(claims: dict) -> str:
    import base64
    import json

    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize("token", [
    # Beyond the 30 s of leeway a token's times get (API.md, "Errors").
    pytest.param(lambda sub: _token({"sub": sub, "exp": int(time.time()) - 90}), id="expired"),
    pytest.param(lambda sub: _token({"sub": sub, "exp": int(time.time()) + 60}, key=OTHER_SECRET),
                 id="wrong-signature"),
    pytest.param(lambda sub: _alg_none({"sub": sub, "exp": int(time.time()) + 60}), id="alg-none"),
    pytest.param(lambda sub: _token({"sub": sub, "exp": int(time.time()) + 60}, algorithm="HS512"),
                 id="hs512"),
    pytest.param(lambda sub: _token({"sub": sub}), id="no-exp"),
    pytest.param(lambda sub: _token({"exp": int(time.time()) + 60}), id="no-sub"),
    pytest.param(lambda sub: _token({"sub": "not-a-uuid", "exp": int(time.time()) + 60}), id="sub-not-uuid"),
    pytest.param(lambda sub: "garbage", id="malformed"),
])
async def test_bad_tokens_are_401(api, token):
    """Expired, wrongly signed, alg:none, other-algorithm, claim-less and malformed tokens get 401 JSON."""
    sub = str(uuid.uuid4())
    for path in ("/api/wheels", "/api/imports"):
        resp = await api.client.get(path, headers={"Authorization": f"Bearer {token(sub)}"})
        assert resp.status == 401, (path, await resp.text())
        error_of(await resp.json())


async def test_missing_token_and_wrong_scheme_are_401(api):
    """No Authorization header, or a non-Bearer one, gets 401; a query token only works on SSE routes."""
    assert (await api.client.get("/api/wheels")).status == 401
    token = bearer(uuid.uuid4())["Authorization"].split()[1]
    assert (await api.client.get("/api/wheels", headers={"Authorization": f"Basic {token}"})).status == 401
    assert (await api.client.get(f"/api/wheels?access_token={token}")).status == 401


async def test_first_request_creates_the_user_with_email(api, pool):
    """A token's unknown sub becomes a user row on its first request, with the token's e-mail."""
    sub = uuid.uuid4()
    resp = await api.client.get("/api/wheels", headers=bearer(sub, email="ada@example.test"))
    assert resp.status == 200
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT email FROM users WHERE id = %s", (sub,))).fetchone()
    assert row == {"email": "ada@example.test"}
    resp = await api.client.get("/api/wheels", headers=bearer(sub, email="ada@new.example.test"))
    assert resp.status == 200
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT email FROM users WHERE id = %s", (sub,))).fetchone()
    assert row == {"email": "ada@new.example.test"}


async def test_cors_only_for_listed_origins(api_factory):
    """Preflight and responses carry Access-Control-Allow-Origin for a listed origin only."""
    api = await api_factory(IMPORTER_CORS_ORIGINS="https://app.example.test")
    preflight = {"Origin": "https://app.example.test", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    resp = await api.client.options("/api/wheels", headers=preflight)
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    resp = await api.client.options("/api/wheels", headers={**preflight, "Origin": "https://evil.example.test"})
    assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers
    error_of(await resp.json())
    resp = await api.call("GET", "/api/wheels", headers={"Origin": "https://app.example.test"})
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    resp = await api.call("GET", "/api/nothing", headers={"Origin": "https://app.example.test"})
    assert resp.status == 404 and resp.headers["Access-Control-Allow-Origin"] == "https://app.example.test"
    resp = await api.call("GET", "/api/wheels", headers={"Origin": "https://evil.example.test"})
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_several_apps_in_one_process(api_factory):
    """Apps made one after another in one process each serve their own requests (no global state leaks)."""
    first = await api_factory()
    second = await api_factory()
    assert (await first.wheel()) != (await second.wheel())
    assert (await first.call("GET", "/api/wheels")).status == 200
    assert (await second.call("GET", "/api/wheels")).status == 200


async def test_event_streams_take_the_token_from_the_query(api):
    """The SSE routes accept ?access_token= (EventSource sends no headers); a bad one there is 401."""
    token = api.headers["Authorization"].split()[1]
    async with asyncio.timeout(10):
        resp = await api.client.get("/api/events", params={"access_token": token})
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        resp.close()
        resp = await api.client.get("/api/events", params={"access_token": "nope"})
        assert resp.status == 401
        error_of(await resp.json())


async def test_unexpected_errors_are_500_json_without_a_traceback(db_url, aiohttp_client, caplog):
    """A handler that fails unexpectedly answers 500 in the error shape; the traceback goes to the log only."""
    from server.app import create_app
    from tests.acceptance.api.support import make_settings

    async def boom(request):
        raise RuntimeError("secret internals")

    app = create_app(make_settings(db_url))
    app.router.add_get("/api/boom", boom)
    client = await aiohttp_client(app)
    resp = await client.get("/api/boom", headers=bearer(uuid.uuid4()))
    assert resp.status == 500
    text = await resp.text()
    assert "secret internals" not in text and "Traceback" not in text
    assert error_of(await resp.json())["code"] == "internal_error"
    assert any("secret internals" in (r.exc_text or str(r.exc_info)) for r in caplog.records if r.exc_info)


async def test_database_down_is_503_with_retry_after(api):
    """A request that cannot reach the database answers 503 with Retry-After, not a 500."""
    from server import keys

    assert (await api.call("GET", "/api/wheels")).status == 200
    await api.client.app[keys.POOL].close()
    resp = await api.call("GET", "/api/wheels")
    assert resp.status == 503
    assert int(resp.headers["Retry-After"]) > 0
    assert error_of(await resp.json())["code"] == "database_unavailable"
