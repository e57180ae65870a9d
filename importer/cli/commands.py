"""`importer migrate` and `importer token`."""

from __future__ import annotations

import argparse
import logging

from importer import logs, tokens
from importer.db import database_url
from importer.migrate import migrate as apply_migrations
from importer.settings import Settings

log = logging.getLogger(__name__)


def migrate(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    settings.refuse_unsafe_production()  # ConfigError, reported by importer.cli.main
    logs.setup(settings.log_format)
    procrastinate_version, applied = apply_migrations(database_url(settings))
    log.info("Procrastinate schema %s in place; %d migration(s) of schema/ applied", procrastinate_version, applied)
    return 0


def token(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    print(tokens.mint(settings.jwt_secret, args.sub, email=args.email, ttl=args.ttl, role=args.role))
    return 0
