"""An upload's admission (API.md, "Errors"): limits checked before its body is read, the whole
body counted, JSON checked off the event loop, and the per-user storage quota."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from importer.jobs.retention import purge_old_imports
from tests.acceptance.api.support import CSV, Api, error_of, until_ended

# What a client announces in these tests but never sends: far more than it sends, far less than
# the upload limit (so no 413 from Content-Length).
ANNOUNCED = 50 << 20
# Generous: an answer that depends on the rest of the body never comes at all.
ANSWER_WITHIN = 30


@asynccontextmanager
async def half_sent(api: Api, path: str, *, content_type: str = "text/csv",
                    headers: dict[str, str] | None = None) -> AsyncIterator[asyncio.StreamReader]:
    """A raw HTTP/1.1 request on its own connection that announces ANNOUNCED bytes of body and
    sends only its first few; yields the connection's reader (the server's answer, if any)."""
    server = api.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    lines = [f"POST {path} HTTP/1.1", f"Host: {server.host}:{server.port}", f"Content-Type: {content_type}",
             f"Content-Length: {ANNOUNCED}", *(f"{k}: {v}" for k, v in {**api.headers, **(headers or {})}.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + CSV[:20])
    await writer.drain()
    try:
        yield reader
    finally:
        writer.close()
        await writer.wait_closed()


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON body of the response on `reader` (a Content-Length body)."""
    async with asyncio.timeout(ANSWER_WITHIN):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        status_line, *header_lines = head.strip().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
        body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, json.loads(body)


async def stored_files(pool, user_id: uuid.UUID) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT count(*) AS n FROM import_files WHERE user_id = %s",
                                        (user_id,))).fetchone()
    return int(row["n"])


async def test_active_jobs_limit_refuses_before_the_body_is_read(api_factory, pool):
    """At the active-jobs limit an upload gets its 429 while its body is still unsent."""
    api = await api_factory(IMPORTER_MAX_ACTIVE_JOBS="1")
    wheel = await api.wheel()
    assert (await api.submit_csv(wheel)).status == 202  # no worker here: it stays pending
    async with half_sent(api, f"/api/wheels/{wheel}/imports") as reader:
        status, headers, body = await answer(reader)
    assert status == 429, body
    assert error_of(body)["code"] == "too_many_active_jobs"
    assert int(headers["retry-after"]) > 0
    assert await stored_files(pool, api.user_id) == 1


async def test_unknown_wheel_refused_before_the_body_is_read(api):
    """An upload to a wheel that is not the user's gets its 404 while its body is still unsent."""
    other = api.as_other()
    their_wheel = await other.wheel()
    for wheel in (their_wheel, str(uuid.uuid4())):
        for route in ("imports", "previews"):
            async with half_sent(api, f"/api/wheels/{wheel}/{route}") as reader:
                status, _, body = await answer(reader)
            assert status == 404, body
            assert error_of(body)["code"] == "not_found"


async def test_missing_token_refused_before_the_body_is_read(api):
    """An upload without a token gets its 401 while its body is still unsent."""
    wheel = await api.wheel()
    anonymous = Api(api.client)
    anonymous.headers = {}
    async with half_sent(anonymous, f"/api/wheels/{wheel}/imports") as reader:
        status, _, body = await answer(reader)
    assert status == 401, body


async def test_uploads_in_flight_per_user_are_capped(api_factory, pool):
    """With two bodies of a user's still arriving, a third upload is 429 too_many_uploads before its
    body is read; another user is not affected, and a finished upload frees its place."""
    api = await api_factory(IMPORTER_MAX_UPLOADS_PER_USER="2")
    wheel = await api.wheel()
    async with half_sent(api, f"/api/wheels/{wheel}/imports"), \
            half_sent(api, f"/api/wheels/{wheel}/previews"):
        await asyncio.sleep(0.5)  # both are being read by the server now
        async with half_sent(api, f"/api/wheels/{wheel}/imports") as reader:
            status, headers, body = await answer(reader)
        assert status == 429, body
        assert error_of(body)["code"] == "too_many_uploads"
        assert error_of(body)["details"] == {"in_flight": 2, "limit": 2}
        assert int(headers["retry-after"]) > 0
        other = api.as_other()
        assert (await other.submit_csv(await other.wheel())).status == 202
    # The two half-sent uploads are gone (their connections closed): places free again.
    for _ in range(ANSWER_WITHIN * 10):  # the server notices the closed connections soon after
        resp = await api.submit_csv(wheel)
        if resp.status != 429:
            break
        await asyncio.sleep(0.1)
    assert resp.status == 202, await resp.text()
    assert await stored_files(pool, api.user_id) == 1


async def test_imports_arriving_count_against_the_active_jobs_limit(api_factory, pool):
    """With the defaults, a user may send IMPORTER_MAX_ACTIVE_JOBS (3) imports at once; a fourth
    gets the contract's 429 too_many_active_jobs before its body is read, and a preview beside
    the three is still received."""
    api = await api_factory()
    wheel = await api.wheel()
    imports = f"/api/wheels/{wheel}/imports"
    async with half_sent(api, imports), half_sent(api, imports), half_sent(api, imports):
        await asyncio.sleep(0.5)  # all three are being read by the server now
        async with half_sent(api, imports) as reader:
            status, headers, body = await answer(reader)
        assert status == 429, body
        assert error_of(body)["code"] == "too_many_active_jobs"
        assert error_of(body)["details"] == {"active": 3, "limit": 3}
        assert int(headers["retry-after"]) > 0
        resp = await api.call("POST", f"/api/wheels/{wheel}/previews", data=CSV,
                              headers={"Content-Type": "text/csv"})
        assert resp.status == 201, await resp.text()
    assert await stored_files(pool, api.user_id) == 1  # the preview's; the half-sent stored nothing


async def test_junk_multipart_parts_count_against_the_upload_limit(api_factory, pool):
    """A chunked multipart body of many junk parts and a tiny file is 413 once the whole body passes
    the upload limit, not 202."""
    limit = 1 << 20
    api = await api_factory(IMPORTER_MAX_UPLOAD_BYTES=str(limit))
    wheel = await api.wheel()
    boundary = "junkboundary"

    async def body() -> AsyncIterator[bytes]:
        junk = b"x" * 32_000  # each part under the field limit: only the whole can be too large
        for n in range(4 * limit // len(junk)):
            head = f"--{boundary}\r\nContent-Disposition: form-data; name=\"junk{n}\"\r\n\r\n"
            yield head.encode() + junk + b"\r\n"
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.csv\"\r\n"
               f"Content-Type: text/csv\r\n\r\n").encode() + CSV + f"\r\n--{boundary}--\r\n".encode()

    try:
        resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=body(),
                              headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert resp.status == 413, await resp.text()
        assert error_of(await resp.json())["code"] == "payload_too_large"
    except aiohttp.ClientOSError:
        pass  # the server closed the connection while the client was still writing: also a refusal
    assert await stored_files(pool, api.user_id) == 0


async def test_json_nested_too_deep_is_a_400(api, pool):
    """A structured body nested 100,000 deep is 400 bad_payload, not a 500; nothing is stored."""
    wheel = await api.wheel()
    deep = b'{"importMode": "append", "pages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=deep,
                          headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    error = error_of(await resp.json())
    assert error["code"] == "bad_payload"
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=deep,
                          headers={"Content-Type": "application/json", "Accept-Language": "en"})
    assert error_of(await resp.json())["message"] == "The JSON is nested too deeply."
    assert await stored_files(pool, api.user_id) == 0


async def test_structured_json_checked_in_a_child_keeps_its_errors(api):
    """A structured body is still checked whole before a job exists (400 for a bad reference,
    422 without items), its messages in the request's language."""
    wheel = await api.wheel()
    bad_ref = {"structure": {"rings": [], "activityGroups": [], "labels": []},
               "pages": [{"year": 2026, "items": [{"name": "x", "startDate": "2026-01-01",
                                                   "endDate": "2026-01-02", "ringId": "r9", "activityId": "g9"}]}]}
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", json=bad_ref, headers={"Accept-Language": "en"})
    assert resp.status == 400, await resp.text()
    assert error_of(await resp.json())["code"] == "bad_payload"
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", json={"pages": []})
    assert resp.status == 422, await resp.text()
    assert error_of(await resp.json())["code"] == "no_data_rows"


async def test_storage_quota_refuses_what_would_not_fit_and_stores_nothing(api_factory, pool):
    """Stored uploads count against the user's quota: an upload that would not fit is 429
    storage_quota_exceeded and stores nothing; at the quota the refusal comes before the body."""
    api = await api_factory(IMPORTER_MAX_STORED_BYTES_PER_USER=str(2 * len(CSV) + 10))
    wheel = await api.wheel()
    assert (await api.submit_csv(wheel)).status == 202
    preview = await api.call("POST", f"/api/wheels/{wheel}/previews", data=CSV, headers={"Content-Type": "text/csv"})
    assert preview.status == 201, await preview.text()
    for route in ("imports", "previews"):
        resp = await api.call("POST", f"/api/wheels/{wheel}/{route}", data=CSV, headers={"Content-Type": "text/csv"})
        assert resp.status == 429, await resp.text()
        error = error_of(await resp.json())
        assert error["code"] == "storage_quota_exceeded"
        assert error["details"] == {"stored_bytes": 2 * len(CSV), "limit_bytes": 2 * len(CSV) + 10}
        assert int(resp.headers["Retry-After"]) > 0
    assert await stored_files(pool, api.user_id) == 2
    # Importing the previewed file stores nothing new: not refused.
    started = await api.call("POST", f"/api/previews/{(await preview.json())['id']}/imports")
    assert started.status == 202, await started.text()
    # Another user has a quota of their own.
    other = api.as_other()
    assert (await other.submit_csv(await other.wheel())).status == 202


async def test_storage_quota_reached_refuses_before_the_body_is_read(api_factory, pool):
    """A user whose stored uploads fill the quota gets 429 storage_quota_exceeded while the body
    of the next upload is still unsent."""
    api = await api_factory(IMPORTER_MAX_STORED_BYTES_PER_USER=str(len(CSV)))
    wheel = await api.wheel()
    assert (await api.submit_csv(wheel)).status == 202
    for route in ("imports", "previews"):
        async with half_sent(api, f"/api/wheels/{wheel}/{route}") as reader:
            status, headers, body = await answer(reader)
        assert status == 429, body
        assert error_of(body)["code"] == "storage_quota_exceeded"
        assert int(headers["retry-after"]) > 0
    assert await stored_files(pool, api.user_id) == 1


async def test_storage_quota_holds_under_parallel_uploads(api_factory, pool):
    """Eight parallel uploads where only three fit the quota: exactly three are stored."""
    api = await api_factory(IMPORTER_MAX_STORED_BYTES_PER_USER=str(3 * len(CSV) + 10),
                            IMPORTER_MAX_UPLOADS_PER_USER="8", IMPORTER_MAX_ACTIVE_JOBS="50")
    wheel = await api.wheel()
    responses = await asyncio.gather(*(api.submit_csv(wheel) for _ in range(8)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [202] * 3 + [429] * 5, statuses
    for r in responses:
        if r.status == 429:
            assert error_of(await r.json())["code"] == "storage_quota_exceeded"
    assert await stored_files(pool, api.user_id) == 3


async def test_retention_purge_frees_the_storage_quota(api_factory, pool):
    """Once retention has purged a user's finished imports, their files no longer count."""
    api = await api_factory(IMPORTER_MAX_STORED_BYTES_PER_USER=str(len(CSV)))
    wheel = await api.wheel()
    job = await (await api.submit_csv(wheel)).json()
    assert (await api.submit_csv(wheel)).status == 429
    async with pool.connection() as conn:
        await conn.execute("UPDATE import_jobs SET status = 'cancelled', finished_at = now() - interval '8 days' "
                           "WHERE id = %s", (job["id"],))
        await conn.execute("UPDATE import_files SET created_at = now() - interval '8 days' WHERE user_id = %s",
                           (api.user_id,))
    purged = await purge_old_imports(pool, days=7)
    assert purged.files == 1
    assert await stored_files(pool, api.user_id) == 0
    resp = await api.submit_csv(wheel)
    assert resp.status == 202, await resp.text()


def big_csv(size: int) -> bytes:
    """A valid CSV of about `size` bytes: larger than what a request keeps in memory."""
    rows = "".join(f"Möte {i};2026-03-{1 + i % 28:02d};2026-03-{1 + i % 28:02d};Ekonomi\n"
                   for i in range(size // 40))
    return ("Aktivitet;Startdatum;Slutdatum;Område\n" + rows).encode()


async def stored_content(pool, user_id: uuid.UUID) -> list[tuple[bytes, bytes, int]]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(
            "SELECT content, sha256, size_bytes FROM import_files WHERE user_id = %s", (user_id,))).fetchall()
    return [(bytes(r["content"]), bytes(r["sha256"]), r["size_bytes"]) for r in rows]


async def test_large_upload_is_stored_exactly_and_imported(api_factory, pool):
    """An upload larger than what a request keeps in memory is stored byte for byte (with its
    SHA-256) and imports like any other."""
    api = await api_factory(with_worker=True)
    wheel = await api.wheel()
    body = big_csv(3 << 20)
    resp = await api.submit_csv(wheel, io.BytesIO(body))
    assert resp.status == 202, await resp.text()
    [(content, sha256, size)] = await stored_content(pool, api.user_id)
    assert (content, sha256, size) == (body, hashlib.sha256(body).digest(), len(body))
    job = await until_ended(api, (await resp.json())["id"], within=120)
    assert job["status"] == "completed", job
    assert job["counts"]["items"] == body.count(b"\n") - 1


async def test_large_json_and_preview_uploads_are_stored_exactly(api, pool):
    """A large structured body and a large preview upload are stored byte for byte too."""
    wheel = await api.wheel()
    items = [{"name": f"Aktivitet {i}", "startDate": "2026-03-01", "endDate": "2026-03-02",
              "ringId": "r1", "activityId": "g1"} for i in range(20_000)]
    payload = json.dumps({"structure": {"rings": [{"id": "r1", "name": "Ring", "type": "inner"}],
                                        "activityGroups": [{"id": "g1", "name": "Grupp", "color": "#336699"}],
                                        "labels": []},
                          "pages": [{"year": 2026, "items": items}]}).encode()
    assert len(payload) > 1 << 20
    resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=io.BytesIO(payload),
                          headers={"Content-Type": "application/json"})
    assert resp.status == 202, await resp.text()
    body = big_csv(2 << 20)
    preview = await api.call("POST", f"/api/wheels/{wheel}/previews", data=io.BytesIO(body),
                             headers={"Content-Type": "text/csv"})
    assert preview.status == 201, await preview.text()
    assert (await preview.json())["size_bytes"] == len(body)
    assert sorted(c for c, _, _ in await stored_content(pool, api.user_id)) == sorted([payload, body])


async def test_large_upload_over_the_quota_stores_nothing(api_factory, pool):
    """A large upload that would not fit the quota is 429 storage_quota_exceeded and leaves no file."""
    api = await api_factory(IMPORTER_MAX_STORED_BYTES_PER_USER=str(2 << 20))
    wheel = await api.wheel()
    for route in ("imports", "previews"):
        resp = await api.call("POST", f"/api/wheels/{wheel}/{route}", data=io.BytesIO(big_csv(3 << 20)),
                              headers={"Content-Type": "text/csv"})
        assert resp.status == 429, await resp.text()
        assert error_of(await resp.json())["code"] == "storage_quota_exceeded"
    assert await stored_files(pool, api.user_id) == 0


async def test_large_upload_refused_at_insert_leaves_no_file(api_factory, pool):
    """A large upload whose job is refused after its file was stored (the active-jobs limit,
    reached while it was arriving) leaves no file behind; a replayed key keeps only the first."""
    api = await api_factory(IMPORTER_MAX_ACTIVE_JOBS="2", IMPORTER_MAX_UPLOADS_PER_USER="4")
    wheel = await api.wheel()
    body = big_csv(2 << 20)
    first = await api.submit_csv(wheel, io.BytesIO(body), headers={"Idempotency-Key": "big"})
    assert first.status == 202, await first.text()
    again = await api.submit_csv(wheel, io.BytesIO(body), headers={"Idempotency-Key": "big"})
    assert again.status == 200, await again.text()
    assert await stored_files(pool, api.user_id) == 1
    # Two more at once where one place is left: both are admitted before either body is read,
    # the check at insert refuses one, and its stored file goes again.
    responses = await asyncio.gather(api.submit_csv(wheel, io.BytesIO(body)),
                                       api.submit_csv(wheel, io.BytesIO(body)))
    assert sorted(r.status for r in responses) == [202, 429]
    assert await stored_files(pool, api.user_id) == 2


async def test_large_json_errors_come_back_from_the_child_in_the_request_language(api, pool):
    """A large structured body (checked in a child process) that is nested too deep or names a
    ring its structure lacks is a 400 bad_payload in the request's language; nothing is stored."""
    wheel = await api.wheel()
    padding = b" " * (2 << 20)  # whitespace is valid JSON: only the size sends it to the child
    deep = b'{"pages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}" + padding
    bad_ref = json.dumps({"structure": {"rings": [], "activityGroups": [], "labels": []},
                          "pages": [{"year": 2026, "items": [{"name": "x", "startDate": "2026-01-01",
                                                             "endDate": "2026-01-02", "ringId": "r9",
                                                             "activityId": "g9"}]}]}).encode() + padding
    messages = []
    for body in (deep, bad_ref):
        for language in ("sv", "en"):
            resp = await api.call("POST", f"/api/wheels/{wheel}/imports", data=io.BytesIO(body),
                                  headers={"Content-Type": "application/json", "Accept-Language": language})
            assert resp.status == 400, await resp.text()
            error = error_of(await resp.json())
            assert error["code"] == "bad_payload"
            messages.append(error["message"])
    assert messages[1] == "The JSON is nested too deeply."
    assert messages[0] != messages[1] and messages[2] != messages[3]  # Swedish, then English
    assert await stored_files(pool, api.user_id) == 0
