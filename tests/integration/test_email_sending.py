"""Sending the import e-mail through a real procrastinate worker to a real SMTP server."""

from __future__ import annotations

import asyncio
import logging
import ssl
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.smtp import AuthResult

from importer.db import as_worker
from importer.load.attempt import run_job
from importer.mail.email_task import MAX_TRIES, defer_email_if_needed, send_import_email
from importer.settings import Settings
from tests.factories import make_job, make_user, make_wheel
from tests.integration.email_support import (
    RecordingHandler,
    email_record,
    ended_job,
    run_email_worker,
    self_signed_cert,
    start_smtp,
)

APP_URL = "https://hjul.example.test"


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_URL", APP_URL)
    monkeypatch.setenv("IMPORTER_EMAIL_RETRY_WAIT", "0")
    monkeypatch.setenv("IMPORTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IMPORTER_EMAIL_FROM", "Årshjul <import@hjul.example.test>")
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.delenv("IMPORTER_EMAIL_THRESHOLD", raising=False)
    return monkeypatch


@pytest.fixture
def smtp(env):
    """A recording SMTP server that SMTP_URL points at."""
    servers = []

    def start(handler=None, userinfo="", query="", **kwargs):
        handler = handler or RecordingHandler()
        controller = start_smtp(handler, **kwargs)
        servers.append(controller)
        scheme = "smtps" if "ssl_context" in kwargs else "smtp"
        env.setenv("SMTP_URL", f"{scheme}://{userinfo}127.0.0.1:{controller.port}{query}")
        return handler

    yield start
    for controller in servers:
        controller.stop()


async def end_job(pool, job_id):
    """What the worker does when a job ends: queue the e-mail in that transaction."""
    async with as_worker(pool) as conn:
        await defer_email_if_needed(conn, job_id, settings=Settings.from_env())


def text_and_html(message):
    assert message.get_content_type() == "multipart/alternative"
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


async def test_a_large_completed_import_sends_one_success_message(pool, smtp, env):
    """A completed job with 250 items reaches its owner as one message with subject, counts and link."""
    handler = smtp()
    job_id = await ended_job(pool, items=1250, created_rings=3, created_groups=12, created_labels=4,
                             created_pages=2, rejected_rows=7)
    await end_job(pool, job_id)
    await run_email_worker(pool)

    assert len(handler.messages) == 1 and handler.recipients == [["anna@example.test"]]
    message = handler.messages[0]
    assert message["Subject"] == "✅ Import klar – 1 250 aktiviteter"
    assert message["To"] == "anna@example.test"
    assert message["From"].addresses[0].addr_spec == "import@hjul.example.test"
    assert message["Message-ID"] == f"<{job_id.hex}.success@hjul.example.test>"
    assert message["Date"] is not None
    text, html = text_and_html(message)
    async with pool.connection() as conn:
        wheel_id = (await (await conn.execute("SELECT wheel_id FROM import_jobs WHERE id = %s",
                                              (job_id,))).fetchone())["wheel_id"]
    link = f"{APP_URL}/#wheel={wheel_id}"
    for label, n in [("Ringar", "3"), ("Aktivitetsgrupper", "12"), ("Etiketter", "4"), ("Sidor", "2"),
                     ("Aktiviteter", "1 250"), ("Avvisade rader", "7")]:
        assert f"{label}: {n}" in text
        assert label in html and f"<strong>{n}</strong>" in html
    assert link in text and f'href="{link}"' in html and "Öppna Årshjul" in html
    record = await email_record(pool, job_id)
    assert (record["status"], record["attempts"], record["kind"]) == ("sent", 1, "success")


async def test_a_small_import_sends_nothing(pool, smtp, env):
    """A completed job with 50 items sends no message and records none."""
    handler = smtp()
    job_id = await ended_job(pool, items=50)
    await end_job(pool, job_id)
    await run_email_worker(pool)
    assert handler.messages == [] and await email_record(pool, job_id) is None


async def test_notify_false_sends_nothing(pool, smtp, env):
    """An import submitted with notify=false sends no message however large it was."""
    handler = smtp()
    job_id = await ended_job(pool, items=5000, notify=False)
    await end_job(pool, job_id)
    await run_email_worker(pool)
    assert handler.messages == [] and await email_record(pool, job_id) is None


async def test_a_long_failed_import_sends_the_reason_and_a_retry_link(pool, smtp, env):
    """A job that failed after ten seconds sends a failure message naming the reason and a retry link."""
    handler = smtp()
    job_id = await ended_job(pool, status="failed", items=0, run_seconds=10,
                             error_code="import_failed", error_message="Databasen svarade inte.")
    await end_job(pool, job_id)
    await run_email_worker(pool)

    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["Subject"] == "❌ Importen misslyckades – plan.csv"
    text, html = text_and_html(message)
    assert "Databasen svarade inte." in text and "Databasen svarade inte." in html
    async with pool.connection() as conn:
        wheel_id = (await (await conn.execute("SELECT wheel_id FROM import_jobs WHERE id = %s",
                                              (job_id,))).fetchone())["wheel_id"]
    link = f"{APP_URL}/#wheel={wheel_id}&job={job_id}"
    assert link in text and f'href="{link.replace("&", "&amp;")}"' in html and "Försök igen" in html
    assert (await email_record(pool, job_id))["kind"] == "failure"


async def test_a_server_refusing_twice_gets_exactly_one_message_on_the_third_attempt(pool, smtp, env):
    """Two 451 refusals are retried with backoff; the third attempt delivers one message."""
    handler = smtp(RecordingHandler(refusals=2))
    job_id = await ended_job(pool)
    await end_job(pool, job_id)
    await run_email_worker(pool)
    assert handler.refused == 2 and len(handler.messages) == 1
    record = await email_record(pool, job_id)
    assert (record["status"], record["attempts"]) == ("sent", 3)
    assert "451" in record["last_error"]


async def test_a_server_that_always_refuses_ends_as_failed_with_the_error_in_sql(pool, smtp, env, caplog):
    """After the last attempt the record says failed, with the server's answer, and an error is logged."""
    handler = smtp(RecordingHandler(refusals=1000))
    job_id = await ended_job(pool)
    await end_job(pool, job_id)
    with caplog.at_level(logging.ERROR, logger="importer.mail.email_task"):
        await run_email_worker(pool)
    assert handler.messages == [] and handler.refused == MAX_TRIES
    record = await email_record(pool, job_id)
    assert (record["status"], record["attempts"]) == ("failed", MAX_TRIES)
    assert "451" in record["last_error"] and "Try again later" in record["last_error"]
    assert f"e-mail of import job {job_id} failed for good" in caplog.text
    async with pool.connection() as conn:
        job = await (await conn.execute("SELECT status FROM import_jobs WHERE id = %s", (job_id,))).fetchone()
    assert job["status"] == "completed", "the e-mail never touches the import job"


async def test_a_task_run_again_after_a_success_sends_nothing_more(pool, smtp, env):
    """A second run of the task for a job whose e-mail was sent does not send it again."""
    handler = smtp()
    job_id = await ended_job(pool)
    await end_job(pool, job_id)
    await run_email_worker(pool)
    async with pool.connection() as conn:
        await send_import_email.configure(connection=conn).defer_async(job_id=str(job_id))
    await run_email_worker(pool)
    assert len(handler.messages) == 1
    assert (await email_record(pool, job_id))["attempts"] == 1


async def test_without_smtp_url_the_message_is_an_eml_file_with_escaped_names(pool, env, tmp_path):
    """No SMTP_URL writes one parseable .eml to the outbox; a hostile file name is escaped in HTML."""
    name = "<img src=x onerror=alert(1)>.csv"
    job_id = await ended_job(pool, file_name=name)
    await end_job(pool, job_id)
    await run_email_worker(pool)

    outbox = tmp_path / "data" / "outbox"
    files = list(outbox.iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml" and str(job_id) in files[0].name
    message = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert message["To"] == "anna@example.test"
    text, html = text_and_html(message)
    assert name in text
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html and "<img" not in html
    assert (await email_record(pool, job_id))["status"] == "sent"


async def test_starttls_is_used_when_required(pool, smtp, env, tmp_path):
    """`?starttls=true` with a CA file upgrades the connection and verifies the server's certificate."""
    cert, key = self_signed_cert(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    handler = smtp(query=f"?starttls=true&ca_file={cert}", tls_context=server_tls, require_starttls=True)
    job_id = await ended_job(pool)
    await end_job(pool, job_id)
    await run_email_worker(pool)
    assert len(handler.messages) == 1
    assert (await email_record(pool, job_id))["status"] == "sent"


async def test_smtps_with_login(pool, smtp, env, tmp_path):
    """`smtps://user:pass@…` speaks TLS from the first byte and logs in with the URL's credentials."""
    cert, key = self_signed_cert(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"hjul" and auth_data.password == b"p@ss word")

    handler = smtp(userinfo="hjul:p%40ss%20word@", query=f"?ca_file={cert}", ssl_context=server_tls,
                   authenticator=authenticator, auth_require_tls=False)
    job_id = await ended_job(pool)
    await end_job(pool, job_id)
    await run_email_worker(pool)
    assert logins == [(b"hjul", b"p@ss word")] and len(handler.messages) == 1


async def test_a_real_import_of_250_rows_mails_its_owner(pool, smtp, env):
    """The worker's loader ends a real 250-row import and its e-mail reaches the SMTP server once."""
    handler = smtp()
    user = await make_user(pool, "bo@example.test")
    wheel = await make_wheel(pool, user)
    rows = "".join(f"Möte {i},2026-{1 + i % 12:02d}-{1 + i % 28:02d},Ekonomi,Planering\n" for i in range(250))
    content = ("Aktivitet,Startdatum,Område,Kategori\n" + rows + ",2026-01-01,Ekonomi,Planering\n").encode()
    job_id = await make_job(pool, user, wheel, content=content, file_name="årsplan.csv")
    assert await run_job(pool, job_id, settings=Settings.from_env()) == "completed"
    await run_email_worker(pool)

    assert handler.recipients == [["bo@example.test"]]
    text, _ = text_and_html(handler.messages[0])
    assert handler.messages[0]["Subject"] == "✅ Import klar – 250 aktiviteter"
    assert "Aktiviteter: 250" in text and "Avvisade rader: 1" in text and "årsplan.csv" in text


async def test_a_silent_server_times_out_and_the_timeout_is_recorded(pool, env):
    """A server that accepts the connection and never answers costs `timeout` per try, then fails."""
    connections = []

    async def silent(reader, writer):
        connections.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    env.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}?timeout=0.3")
    try:
        job_id = await ended_job(pool)
        await end_job(pool, job_id)
        await run_email_worker(pool)
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()
    record = await email_record(pool, job_id)
    assert (record["status"], record["attempts"]) == ("failed", MAX_TRIES)
    assert "Timeout" in record["last_error"] and len(connections) == MAX_TRIES


@pytest.mark.parametrize("claim", [
    "victim@example.com, attacker@example.net",
    "victim@example.com,attacker@example.net",
    "Victim <victim@example.com>",
    "victim@example.com\r\nBcc: attacker@example.net",
    "not-an-address",
])
async def test_a_recipient_that_is_not_one_address_gets_nothing_and_the_record_says_why(pool, smtp, env, claim):
    """An e-mail claim naming two addresses (or none) sends no message to anyone over real SMTP;
    import_emails records the e-mail as skipped with the reason, and no task is queued."""
    handler = smtp()
    job_id = await ended_job(pool, email=claim)
    await end_job(pool, job_id)
    await run_email_worker(pool)
    assert handler.messages == [] and handler.recipients == []
    async with pool.connection() as conn:
        record = await (await conn.execute(
            "SELECT kind, recipient, status, skip_reason, attempts FROM import_emails WHERE job_id = %s",
            (job_id,))).fetchone()
        tasks = await (await conn.execute(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE task_name = 'send_import_email'")).fetchone()
    assert (record["kind"], record["recipient"], record["status"], record["attempts"]) == (
        "success", claim, "skipped", 0)
    assert record["skip_reason"].startswith("not one valid e-mail address")
    assert tasks["n"] == 0


async def test_one_valid_address_still_gets_its_message(pool, smtp, env):
    """One valid address gets the one message, over real SMTP."""
    handler = smtp()
    job_id = await ended_job(pool, email="anna.svensson@example.com")
    await end_job(pool, job_id)
    await run_email_worker(pool)
    assert handler.recipients == [["anna.svensson@example.com"]]
    assert (await email_record(pool, job_id))["status"] == "sent"
