"""What the e-mail tests share: ended jobs, a recording SMTP server, a worker on the test database."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller

from importer.jobs.app import make_app
from importer.settings import Settings
from tests.factories import make_job, make_user, make_wheel
from tests.processes import free_port


async def ended_job(pool, *, status="completed", items=250, run_seconds=10.0, notify=True,
                    email="anna@example.test", file_name="plan.csv", **columns):
    """A job as the worker leaves it when it ends (status, counts, times), owned by a new user."""
    user = await make_user(pool, email)
    if email is None:
        async with pool.connection() as conn:
            await conn.execute("UPDATE users SET email = NULL WHERE id = %s", (user,))
    wheel = await make_wheel(pool, user, title="Verksamhetsplan")
    finished = datetime.now(UTC)
    columns = {"status": status, "notify": notify, "created_items": items,
               "started_at": finished - timedelta(seconds=run_seconds), "finished_at": finished,
               "progress": 100 if status == "completed" else 40, **columns}
    if status == "failed":
        columns = {"error_code": "no_valid_rows",
                   "error_message": "Ingen rad kunde bli en aktivitet.", **columns}
    return await make_job(pool, user, wheel, file_name=file_name, **columns)


async def email_record(pool, job_id):
    async with pool.connection() as conn:
        return await (await conn.execute(
            "SELECT kind, recipient, status, attempts, last_error, sent_at FROM import_emails"
            " WHERE job_id = %s", (job_id,))).fetchone()


class RecordingHandler:
    """An SMTP server's handler that refuses the first `refusals` messages with 451, then keeps them."""

    def __init__(self, refusals: int = 0):
        self.refusals = refusals
        self.refused = 0
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refusals:
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def start_smtp(handler, **kwargs) -> Controller:
    """A real SMTP server on a free loopback port, in its own thread; stop() it when done."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10, **kwargs)
    controller.start()
    return controller


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    return cert, key


async def run_email_worker(pool) -> None:
    """Run a real procrastinate worker on the test database until the emails queue is empty.

    Its settings are read from the environment now, as a worker's start-up would read them.
    """
    app = make_app(Settings.from_env())
    async with app.open_async(pool):
        async with asyncio.timeout(60):
            await app.run_worker_async(queues=["emails"], wait=False, install_signal_handlers=False,
                                       listen_notify=False, fetch_job_polling_interval=0.1)
