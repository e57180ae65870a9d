"""The import's e-mail: decided and queued with the job's end, sent by the `send_import_email` task."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import attrs
import procrastinate
import psycopg
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.manager import JobManager
from psycopg.rows import dict_row

from importer.db import AsyncConn, Pool, as_worker
from importer.jobs.context import TaskBlueprint, pool_of, settings_of
from importer.mail.compose import ImportEmailFacts, Kind, compose
from importer.mail.mailer import deliver
from importer.mail.recipient import one_address
from importer.queries import q
from importer.settings import DEFAULT_EMAIL_RETRY_WAIT, Settings

log = logging.getLogger(__name__)

QUEUE = "emails"
TASK_NAME = "send_import_email"
# Sending tries in all (the first and four retries), waits IMPORTER_EMAIL_RETRY_WAIT · 2^n
# seconds in between: 30 s, 1, 2 and 4 min by default, so a mail server down for a few minutes
# still gets the message.
MAX_TRIES = 5

blueprint = TaskBlueprint()

# Errors of the caller's transaction: they must reach the caller, whose transaction is lost.
_DATABASE_ERRORS = (psycopg.Error, procrastinate_exceptions.ConnectorException)


@attrs.frozen(kw_only=True)
class Decision:
    """`kind` and `recipient` (one valid address) when an e-mail goes out; else `why` not.
    `skipped` marks an e-mail that was due but has no valid recipient: that is recorded."""

    kind: Kind | None
    why: str
    recipient: str | None = None
    skipped: bool = False


def too_few_items(created_items: int, settings: Settings) -> bool:
    """A completed import that created fewer items than IMPORTER_EMAIL_THRESHOLD sends none."""
    return created_items < settings.email_threshold


def decide(facts: ImportEmailFacts, settings: Settings) -> Decision:
    """Whether an ended job gets an e-mail, which, and to whom; the rules of sending in one
    place. The user's address is used only when it is one valid address (API.md,
    "Authentication"): anything else sends nothing, and says why."""
    if not facts.notify:
        return Decision(kind=None, why="the import asked for no e-mail (notify=false)")
    if facts.status == "completed":
        if too_few_items(facts.created_items, settings):
            return Decision(kind=None, why=f"fewer than {settings.email_threshold} items created")
        kind: Kind = "success"
    elif facts.status == "failed":
        if facts.run_seconds is None or facts.run_seconds < settings.email_failure_min_seconds:
            return Decision(kind=None,
                            why=f"failed within {settings.email_failure_min_seconds} s: the user saw it")
        kind = "failure"
    else:
        return Decision(kind=None, why=f"status {facts.status} sends no e-mail")
    if not facts.recipient:
        return Decision(kind=None, why="the user has no e-mail address")
    recipient = one_address(facts.recipient)
    if recipient.address is None:
        return Decision(kind=kind, why=recipient.problem or "", skipped=True)
    return Decision(kind=kind, why="", recipient=recipient.address)


async def _facts(conn: AsyncConn, job_id: UUID | str) -> ImportEmailFacts | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(q("email_job_facts"), {"job_id": str(job_id)})
        row = await cur.fetchone()
    return None if row is None else ImportEmailFacts.from_row(row)


async def _queue(conn: AsyncConn, facts: ImportEmailFacts, kind: Kind, recipient: str) -> bool:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(q("email_record_queue"),
                          {"job_id": facts.job_id, "kind": kind, "recipient": recipient})
        return await cur.fetchone() is not None


async def defer_email_if_needed(conn: AsyncConn, job_id: UUID | str, *, settings: Settings,
                                created_items: int | None = None) -> None:
    """Queue the job's e-mail, if it gets one, in the caller's transaction that ends the job.

    The record in import_emails and the procrastinate job commit or roll back with the job's
    end, so an e-mail is queued exactly when the job ends. `settings` decide whether it gets
    one (decide). `created_items`, given by a completion, lets one with fewer items than the
    threshold be decided without reading the job (most imports: no round trip). Errors of our
    own are logged, never raised into the import; database errors are the caller's
    transaction's and propagate.
    """
    if created_items is not None and too_few_items(created_items, settings):
        log.info("no e-mail for import job %s: fewer than %d items created", job_id, settings.email_threshold,
                 extra={"job_id": str(job_id), "job_status": "completed"})
        return
    try:
        facts = await _facts(conn, job_id)
        if facts is None:
            log.warning("no e-mail: import job %s does not exist", job_id, extra={"job_id": str(job_id)})
            return
        decision = decide(facts, settings)
        if decision.skipped and decision.kind is not None:
            await conn.execute(q("email_record_skip"), {
                "job_id": facts.job_id, "kind": decision.kind, "recipient": facts.recipient,
                "reason": decision.why})
            log.warning("no e-mail for import job %s: the recipient is %s", job_id, decision.why,
                        extra={"job_id": str(job_id), "job_status": facts.status})
            return
        if decision.kind is None or decision.recipient is None:
            log.info("no e-mail for import job %s: %s", job_id, decision.why,
                     extra={"job_id": str(job_id), "job_status": facts.status})
            return
        if not await _queue(conn, facts, decision.kind, decision.recipient):
            log.info("e-mail for import job %s was already queued", job_id, extra={"job_id": str(job_id)})
            return
        # The lock keeps two runs for one job (a manual re-defer beside a retry) from sending at once.
        await send_import_email.configure(connection=conn, lock=f"import-email:{facts.job_id}").defer_async(
            job_id=str(facts.job_id))
        log.info("%s e-mail queued for import job %s", decision.kind, job_id,
                 extra={"job_id": str(job_id), "email_kind": decision.kind})
    except _DATABASE_ERRORS:
        raise
    except Exception:
        log.exception("could not queue the e-mail of import job %s", job_id, extra={"job_id": str(job_id)})


@attrs.frozen(kw_only=True)
class EmailRetry(procrastinate.BaseRetryStrategy):
    """Bounded exponential backoff: `base_wait` seconds after the first failed try, doubled after
    each further one, MAX_TRIES tries in all.

    `base_wait` is settings.email_retry_wait, parsed at start-up: make_app gives the task a
    strategy with it, so a bad IMPORTER_EMAIL_RETRY_WAIT stops start-up and never reaches here.
    """

    base_wait: int

    def get_retry_decision(self, *, exception: BaseException,
                           job: procrastinate.jobs.Job) -> procrastinate.RetryDecision | None:
        if job.attempts + 1 >= MAX_TRIES:
            return None
        return procrastinate.RetryDecision(retry_in={"seconds": self.base_wait * 2 ** job.attempts})


async def _record(pool: Pool, name: str, **params: Any) -> dict[str, Any] | None:
    async with as_worker(pool) as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(q(name), params)
        return await cur.fetchone() if cur.description else None


async def recover_stalled_emails_now(job_manager: JobManager, pool: Pool, *, stalled_after: float) -> int:
    """Send again every e-mail whose worker is silent for `stalled_after` seconds.

    A worker killed mid-send leaves its `send_import_email` job `doing` for good: nothing else
    runs it again, and the message would never go. Run again, it may go twice if the worker
    died after the server took it and before the record said so; never is worse. An e-mail
    whose worker died on its last try is recorded failed. Returns how many were handled.
    """
    stalled = list(await job_manager.get_stalled_jobs(
        task_name=TASK_NAME, seconds_since_heartbeat=stalled_after))
    for job in stalled:
        job_id = job.task_kwargs.get("job_id")
        extra = {"job_id": job_id, "procrastinate_job_id": job.id}
        if job.attempts + 1 >= MAX_TRIES:
            await job_manager.finish_job(job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
            await _record(pool, "email_record_error", job_id=job_id, final=True,
                          error=f"the worker died while sending, {MAX_TRIES} times")
            log.error("e-mail of import job %s: its worker died on the last try; not sent", job_id, extra=extra)
            continue
        await job_manager.retry_job(job)
        log.warning("e-mail of import job %s: its worker (%s) stopped; queued again", job_id, job.worker_id,
                    extra=extra)
    return len(stalled)


# The default wait until make_app gives the task the wait of the process' settings.
@blueprint.task(name=TASK_NAME, queue=QUEUE, pass_context=True,
                retry=EmailRetry(base_wait=DEFAULT_EMAIL_RETRY_WAIT))
async def send_import_email(context: procrastinate.JobContext, job_id: str) -> None:
    """Compose and send the e-mail queued for an ended job; never touches the job itself."""
    pool = pool_of(context)
    extra = {"job_id": job_id}
    async with as_worker(pool) as conn:
        facts = await _facts(conn, job_id)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(q("email_record_claim"), {"job_id": job_id})
            claim = await cur.fetchone()
    if claim is None:
        # Either sent already (a retry after a success), or the job and its record are gone.
        record = await _record(pool, "email_record_get", job_id=job_id)
        log.info("e-mail of import job %s: nothing to send (%s)", job_id,
                 "already sent" if record else "no record", extra=extra)
        return
    if facts is None:  # cannot happen: the record cascades with the job
        return
    last_try = context.job is not None and context.job.attempts + 1 >= MAX_TRIES
    settings = settings_of(context)
    try:
        message = compose(facts, claim["kind"], recipient=claim["recipient"],
                          app_url=settings.app_url, sender=settings.email_from)
        where = await deliver(message, settings, tag=f"{job_id}-{claim['kind']}")
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        await _record(pool, "email_record_error", job_id=job_id, error=error, final=last_try)
        if last_try:
            log.error("e-mail of import job %s failed for good after %d attempts: %s",
                      job_id, claim["attempts"], error, extra=extra)
        else:
            log.warning("e-mail of import job %s failed (attempt %d), will retry: %s",
                        job_id, claim["attempts"], error, extra=extra)
        raise
    await _record(pool, "email_record_sent", job_id=job_id, message_id=message["Message-ID"])
    log.info("%s e-mail of import job %s sent to %s via %s", claim["kind"], job_id,
             claim["recipient"], where, extra=extra)
