"""`importer migrate`: Procrastinate's schema, pinned to the installed version, then schema/."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.metadata import version as package_version
from pathlib import Path

import psycopg
from procrastinate import schema as procrastinate_schema
from yoyo import get_backend, read_migrations
from yoyo.backends.base import DatabaseBackend

from importer.queries import q

log = logging.getLogger(__name__)

_MIGRATION_FILE = re.compile(r"^(\d+)\.(\d+)\.(\d+)_(\d+)_.*\.sql$")


def schema_dir() -> Path:
    """The yoyo migrations: schema/ in a checkout, importer/schema inside an installed wheel."""
    checkout = Path(__file__).resolve().parent.parent / "schema"
    if (checkout / "0001.domain.sql").is_file():
        return checkout
    return Path(str(resources.files("importer") / "schema"))


def _version_tuple(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in re.findall(r"\d+", text)[:3])
    return major, minor, patch


def _procrastinate_migrations_after(applied: tuple[int, int, int], installed: tuple[int, int, int]) -> list[Path]:
    found = []
    for path in sorted(Path(procrastinate_schema.migrations_path).glob("*.sql")):
        m = _MIGRATION_FILE.match(path.name)
        if m and applied < tuple(int(g) for g in m.groups()[:3]) <= installed:
            found.append(path)
    return found


def apply_procrastinate(conn: psycopg.Connection) -> str:
    """Apply Procrastinate's own schema once, and its migrations when the package was upgraded.

    The version applied is recorded in procrastinate_schema_version; running this again with
    the same installed version changes nothing.
    """
    installed = package_version("procrastinate")
    with conn.transaction():
        # Two `importer migrate` at once (two containers starting) must not both apply it.
        conn.execute(q("migrate_lock"))
        conn.execute(q("procrastinate_version_table_create"))
        row = conn.execute(q("procrastinate_version_get")).fetchone()
        exists = conn.execute(q("procrastinate_schema_exists")).fetchone()
        has_schema = exists is not None and exists[0]
        if row is None and not has_schema:
            conn.execute(procrastinate_schema.SchemaManager.get_schema())
            log.info("applied Procrastinate %s schema", installed)
        elif row is not None:
            for path in _procrastinate_migrations_after(_version_tuple(row[0]), _version_tuple(installed)):
                conn.execute(path.read_text(encoding="utf-8"))
                log.info("applied Procrastinate migration %s", path.name)
        conn.execute(q("procrastinate_version_set"), {"version": installed})
    return installed


def _yoyo_url(conninfo: str) -> str:
    # yoyo picks its driver from the scheme; psycopg 3 is `postgresql+psycopg`.
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", conninfo)


@contextmanager
def _yoyo_backend(conninfo: str) -> Iterator[DatabaseBackend]:
    backend = get_backend(_yoyo_url(conninfo))
    try:
        with backend.lock():
            yield backend
    finally:
        # yoyo keeps its connection open otherwise, which blocks using the database as a template.
        backend.connection.close()


def apply_schema(conninfo: str) -> int:
    """Apply every pending yoyo migration in schema/; returns how many were applied."""
    with _yoyo_backend(conninfo) as backend:
        pending = backend.to_apply(read_migrations(str(schema_dir())))
        backend.apply_migrations(pending)
    return len(pending)


def rollback_schema(conninfo: str) -> int:
    """Roll back every applied migration of schema/ (used by the round-trip test)."""
    with _yoyo_backend(conninfo) as backend:
        applied = backend.to_rollback(read_migrations(str(schema_dir())))
        backend.rollback_migrations(applied)
    return len(applied)


def migrate(conninfo: str) -> tuple[str, int]:
    """Procrastinate first (our grants and views refer to its tables), then schema/."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        procrastinate_version = apply_procrastinate(conn)
    applied = apply_schema(conninfo)
    return procrastinate_version, applied
