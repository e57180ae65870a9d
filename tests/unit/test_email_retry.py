"""The e-mail task's retries wait the time configured at start-up, doubled after each failed try."""

from __future__ import annotations

import datetime

import pytest
from procrastinate.jobs import Job

from importer.jobs.app import make_app
from importer.mail.email_task import MAX_TRIES
from importer.settings import ConfigError, Settings


def _failed_send(attempts: int) -> Job:
    return Job(id=1, queue="emails", lock=None, queueing_lock=None, task_name="send_import_email",
               task_kwargs={"job_id": "00000000-0000-4000-8000-000000000001"}, attempts=attempts)


def test_retry_waits_come_from_the_settings_the_app_was_made_with(monkeypatch):
    """Retries wait IMPORTER_EMAIL_RETRY_WAIT as parsed at start-up, whatever the environment holds later."""
    app = make_app(Settings.from_env({"IMPORTER_EMAIL_RETRY_WAIT": "7"}))
    # A value that no longer parses: the decision must not read the environment again (it once
    # fell back to the attrs class attribute, a member_descriptor, and raised TypeError).
    monkeypatch.setenv("IMPORTER_EMAIL_RETRY_WAIT", "soon")
    strategy = app.tasks["send_import_email"].retry_strategy
    waits = []
    for attempts in range(MAX_TRIES):
        before = datetime.datetime.now(datetime.UTC)
        decision = strategy.get_retry_decision(exception=RuntimeError("451 try again"),
                                               job=_failed_send(attempts))
        waits.append(None if decision is None else round((decision.retry_at - before).total_seconds()))
    assert waits == [7, 14, 28, 56, None]


def test_a_bad_retry_wait_stops_start_up():
    """A retry wait that is not a whole number is refused when the settings are parsed, naming the variable."""
    with pytest.raises(ConfigError, match="IMPORTER_EMAIL_RETRY_WAIT"):
        Settings.from_env({"IMPORTER_EMAIL_RETRY_WAIT": "soon"})
