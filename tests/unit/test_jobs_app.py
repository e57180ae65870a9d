"""The Procrastinate App made from settings: task names, schedules and the settings every task reads."""

from __future__ import annotations

import time

import pytest
from procrastinate import JobContext
from procrastinate.jobs import Job

from importer.jobs.app import make_app
from importer.jobs.context import settings_of
from importer.settings import Settings

TASK_NAMES = {"run_import", "send_import_email", "recover_stalled_imports", "purge_old_imports"}


def _context(app, additional_context: dict) -> JobContext:
    """A job's context as a worker of `app` builds it (procrastinate/worker.py)."""
    job = Job(id=1, queue="maintenance", lock=None, queueing_lock=None, task_name="purge_old_imports")
    return JobContext(app=app, job=job, start_timestamp=time.time(), abort_reason=lambda: None,
                      additional_context=additional_context)


def test_tasks_keep_their_names_and_run_with_the_settings():
    """Tasks keep the bare names stored in procrastinate_jobs, and a job's context carries the App's settings."""
    settings = Settings.from_env({"IMPORTER_WORKER_HEARTBEAT_SECONDS": "1", "IMPORTER_WORKER_STALLED_SECONDS": "4",
                                  "IMPORTER_RECOVERY_EVERY_SECONDS": "3"})
    app = make_app(settings)
    assert TASK_NAMES <= set(app.tasks)
    assert {name for name in app.tasks if not name.startswith(("builtin:", "procrastinate."))} == TASK_NAMES
    assert app.worker_defaults["stalled_worker_timeout"] == 4.0
    assert settings_of(_context(app, app.worker_defaults["additional_context"].copy())) is settings


def test_periodic_schedules_come_from_the_settings():
    """Recovery runs every IMPORTER_RECOVERY_EVERY_SECONDS seconds and retention hourly, per App."""
    app = make_app(Settings.from_env({"IMPORTER_RECOVERY_EVERY_SECONDS": "3"}))
    crons = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert crons == {"recover_stalled_imports": "* * * * * */3", "purge_old_imports": "17 * * * *"}


def test_a_context_without_settings_is_refused():
    """A job run by an App that make_app did not make fails loudly instead of guessing settings."""
    with pytest.raises(LookupError, match="make_app"):
        settings_of(_context(make_app(Settings.from_env({})), {}))


def test_the_bench_task_is_added_only_when_the_bench_switch_says_so():
    """bench_noop (importer/jobs/bench_tasks.py) runs on a worker only with IMPORTER_BENCH_TASKS=on."""
    assert "bench_noop" not in make_app(Settings.from_env({})).tasks
    assert "bench_noop" in make_app(Settings.from_env({"IMPORTER_BENCH_TASKS": "on"})).tasks
