"""What a task gets from its job: the settings and the pool of the App that runs it, and the
blueprint its module defines it on (importer/jobs/app.py adds those to the App)."""

from __future__ import annotations

import functools
from typing import cast

import procrastinate
from procrastinate.manager import JobManager

from importer.db import Pool
from importer.settings import Settings

# The key of the Settings in each job's JobContext.additional_context (make_app puts them there).
SETTINGS_KEY = "settings"


class TaskBlueprint(procrastinate.Blueprint):
    """A Blueprint whose tasks can be deferred on a caller's connection before any App exists.

    Procrastinate's Blueprint refuses `task.configure()` until an App has adopted its tasks
    (UnboundTaskError). Deferring with `connection=conn`, as the API and the loader do, needs
    only the SQL of a JobManager, never a pool: this blueprint has one on a connector that is
    never opened, so a task defined here can be deferred that way from any process. Deferring
    without a connection needs an opened App (its connector raises AppNotOpen otherwise).

    Once `make_app` has added the tasks to an App, they defer through that App (Procrastinate
    binds a task to the last App that adds it).
    """

    def will_configure_task(self) -> None:
        pass  # a task defined here may be configured before an App exists: see the class docstring

    @functools.cached_property
    def job_manager(self) -> JobManager:
        return JobManager(connector=procrastinate.PsycopgConnector())


def settings_of(context: procrastinate.JobContext) -> Settings:
    """The Settings the running worker's App was made with (make_app puts them in the context).

    Raises LookupError when the worker runs an App that make_app did not make.
    """
    settings = context.additional_context.get(SETTINGS_KEY)
    if not isinstance(settings, Settings):
        raise LookupError("the job context carries no Settings: run workers on an App from make_app()")
    return settings


def pool_of(context: procrastinate.JobContext) -> Pool:
    """The pool the running worker's App was opened on: always one of importer.db.make_pool."""
    connector = context.app.connector
    if not isinstance(connector, procrastinate.PsycopgConnector):
        raise TypeError(f"the App's connector is a {type(connector).__name__}, not make_app's")
    return cast(Pool, connector.pool)
