"""The operator role over real HTTP: `role: service_role` lists, reads, cancels and retries every
user's jobs, and nothing else; a normal token cannot."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.acceptance.api.support import SECRET, Api, bearer, error_of
from tests.sse import open_stream

IMPORTER = str(Path(sys.executable).with_name("importer"))


def operator_of(api: Api) -> Api:
    """A client of the same server signed in as a new user whose token marks an operator."""
    operator = Api(api.client)
    operator.headers = bearer(operator.user_id, role="service_role")
    return operator


async def _fail(pool, job_id: str) -> None:
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'failed', error_code = 'boom', finished_at = now()"
                           " WHERE id = %s", (job_id,))


async def test_an_operator_lists_every_users_jobs_with_all(api):
    """`all=true` gives an operator the jobs of every user, newest first; without it, its own only."""
    other = api.as_other()
    mine = await api.job(await api.wheel())
    theirs = await other.job(await other.wheel())
    operator = operator_of(api)
    resp = await operator.call("GET", "/api/imports", params={"all": "true"})
    assert resp.status == 200, await resp.text()
    assert [j["id"] for j in (await resp.json())["jobs"]] == [theirs["id"], mine["id"]]
    own = await (await operator.call("GET", "/api/imports")).json()
    assert own["jobs"] == []
    paged = await (await operator.call("GET", "/api/imports",
                                       params={"all": "true", "before": theirs["id"]})).json()
    assert [j["id"] for j in paged["jobs"]] == [mine["id"]]


async def test_all_is_forbidden_to_a_normal_token(api):
    """A normal token asking for `all=true` gets 403 `forbidden`, not its own jobs passed off as everyone's."""
    other = api.as_other()
    await other.job(await other.wheel())
    resp = await api.call("GET", "/api/imports", params={"all": "true"})
    assert resp.status == 403, await resp.text()
    assert error_of(await resp.json())["code"] == "forbidden"
    resp = await api.call("GET", "/api/imports", params={"all": "yes"})
    assert resp.status == 400
    assert (await (await api.call("GET", "/api/imports", params={"all": "false"})).json())["jobs"] == []


async def test_an_operator_reads_and_follows_another_users_job(api):
    """An operator reads another user's job and follows its event stream, as its owner would."""
    job = await api.job(await api.wheel())
    operator = operator_of(api)
    resp = await operator.call("GET", f"/api/imports/{job['id']}")
    assert resp.status == 200, await resp.text()
    assert await resp.json() == job
    await operator.call("POST", f"/api/imports/{job['id']}/cancel")
    token = operator.headers["Authorization"].removeprefix("Bearer ")
    url = str(operator.client.make_url(f"/api/imports/{job['id']}/events"))
    for query_token in (False, True):
        async with open_stream(operator.client.session, url, token=token, query_token=query_token) as stream:
            assert stream.status == 200
            events = await stream.until_end()
        assert [(e.event, e.job["id"]) for e in events] == [("cancelled", job["id"])]


async def test_an_operator_cancels_another_users_job(api, pool):
    """An operator's cancel of another user's pending job ends it `cancelled`, as the owner sees it."""
    job = await api.job(await api.wheel())
    resp = await operator_of(api).call("POST", f"/api/imports/{job['id']}/cancel")
    assert resp.status == 202, await resp.text()
    assert (await resp.json())["status"] == "cancelled"
    assert (await (await api.call("GET", f"/api/imports/{job['id']}")).json())["status"] == "cancelled"


async def test_an_operator_retries_another_users_job_as_its_owner(api, pool):
    """An operator's retry of another user's failed job makes a new job of the owner's, on the
    owner's wheel: the owner lists it, the operator does not own it."""
    wheel = await api.wheel()
    job = await api.job(wheel)
    await _fail(pool, job["id"])
    operator = operator_of(api)
    resp = await operator.call("POST", f"/api/imports/{job['id']}/retry")
    assert resp.status == 202, await resp.text()
    new = await resp.json()
    assert (new["retry_of"], new["wheel_id"], new["status"]) == (job["id"], wheel, "pending")
    owners = await (await api.call("GET", "/api/imports")).json()
    assert new["id"] in [j["id"] for j in owners["jobs"]]
    assert (await (await operator.call("GET", "/api/imports")).json())["jobs"] == []


async def test_an_operator_gets_nothing_else_of_another_user(api, pool):
    """Wheels, items, errors.csv, previews and uploads into another user's wheel stay 404 for an operator."""
    wheel = await api.wheel()
    job = await api.job(wheel)
    await _fail(pool, job["id"])
    operator = operator_of(api)
    for method, path in (("GET", f"/api/wheels/{wheel}"), ("GET", f"/api/wheels/{wheel}/items"),
                         ("GET", f"/api/imports/{job['id']}/errors.csv")):
        resp = await operator.call(method, path)
        assert resp.status == 404, (path, await resp.text())
        assert error_of(await resp.json())["code"] == "not_found"
    resp = await operator.submit_csv(wheel)
    assert resp.status == 404, await resp.text()
    resp = await operator.call("POST", f"/api/wheels/{wheel}/previews", data=b"Aktivitet,Start\nA,2026-01-01\n",
                               headers={"Content-Type": "text/csv"})
    assert resp.status == 404, await resp.text()
    wheels = await (await operator.call("GET", "/api/wheels")).json()
    assert wheels["wheels"] == []


async def test_a_normal_token_cannot_act_on_another_users_job(api, pool):
    """Read, cancel and retry of another user's job are 404 for a normal token, even one with another role."""
    other = api.as_other()
    job = await other.job(await other.wheel())
    await _fail(pool, job["id"])
    stranger = Api(api.client)
    stranger.headers = bearer(uuid.uuid4(), role="authenticated")
    for client in (api, stranger):
        for method, path in (("GET", ""), ("POST", "/cancel"), ("POST", "/retry"), ("GET", "/events")):
            resp = await client.call(method, f"/api/imports/{job['id']}{path}")
            assert resp.status == 404, (method, path, await resp.text())
    async with pool.connection() as conn:
        count = await (await conn.execute("SELECT count(*) AS n FROM import_jobs")).fetchone()
    assert count["n"] == 1


async def test_importer_token_role_service_role_mints_an_operator(api):
    """`importer token --sub U --role service_role` prints a token the server takes as an operator's."""
    other = api.as_other()
    theirs = await other.job(await other.wheel())
    env = {**os.environ, "IMPORTER_JWT_SECRET": SECRET}
    result = await asyncio.to_thread(
        subprocess.run, [IMPORTER, "token", "--sub", str(uuid.uuid4()), "--role", "service_role"],
        env=env, capture_output=True, text=True, timeout=60, check=True)
    token = result.stdout.strip()
    resp = await api.call("GET", "/api/imports", params={"all": "true"},
                          headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200, await resp.text()
    assert [j["id"] for j in (await resp.json())["jobs"]] == [theirs["id"]]
