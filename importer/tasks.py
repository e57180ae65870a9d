"""The stock Procrastinate CLI's way in: `procrastinate --app=importer.tasks.app worker`.

That command line is part of the contract (API.md, CLI), so the path `importer.tasks.app` must
name a ready App. This module exists only for it: every other entry point makes its App with
importer.jobs.app.make_app from the Settings it parsed itself.

`app` is a module attribute computed on first access (PEP 562 `__getattr__`; Procrastinate's
load_from_path uses getattr on the module): that access, not the import, reads the
environment (Settings.from_env()), applies the production guard as `importer worker` does
(Settings.refuse_unsafe_production), sets up logging (JSON when IMPORTER_LOG_FORMAT=json), and
makes the App, once per process. A bad variable, or IMPORTER_ENV=production without
DATABASE_URL or with the development secret, raises ConfigError, whose message is also printed
to stderr, since the Procrastinate CLI reports only "invalid load_app value" for it (exit 2).
"""

from __future__ import annotations

import functools
import sys

import procrastinate

from importer import logs
from importer.jobs.app import make_app
from importer.settings import ConfigError, Settings


@functools.cache
def _app() -> procrastinate.App:
    try:
        settings = Settings.from_env()
        settings.refuse_unsafe_production()
    except ConfigError as exc:
        print(f"importer: {exc}", file=sys.stderr)
        raise
    logs.setup(settings.log_format)
    return make_app(settings)


def __getattr__(name: str) -> procrastinate.App:
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
