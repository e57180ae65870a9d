"""Migrations: idempotent, reversible, and the schema they build is the one designed."""

from __future__ import annotations

import re
import subprocess
import sys

import psycopg

from importer.migrate import migrate, rollback_schema, schema_dir
from importer.model import ACTIVE, TERMINAL, ImportMode, JobStatus

MIGRATIONS = len([p for p in schema_dir().glob("*.sql") if not p.name.endswith(".rollback.sql")])

# Everything that makes up our part of the schema, as sorted rows, so that two states compare.
SNAPSHOT_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable, column_default
          FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE 'procrastinate%%'
           AND table_name NOT LIKE '_yoyo%%' AND table_name NOT LIKE 'yoyo%%'""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace
           AND conrelid::regclass::text NOT LIKE 'procrastinate%%'""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
         WHERE schemaname = 'public' AND tablename NOT LIKE 'procrastinate%%'
           AND tablename NOT LIKE '%%yoyo%%'""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
          FROM pg_trigger WHERE NOT tgisinternal
           AND tgrelid::regclass::text NOT LIKE 'procrastinate%%'""",
    "policies": "SELECT tablename, policyname, roles::text, cmd, qual, with_check FROM pg_policies",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc)
          FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
           AND p.proname NOT LIKE 'procrastinate%%'""",
    "views": """
        SELECT viewname, md5(definition) FROM pg_views WHERE schemaname = 'public'""",
    "grants": """
        SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
         WHERE grantee IN ('importer_api', 'importer_worker')""",
}


def snapshot(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {name: sorted(conn.execute(query).fetchall(), key=repr)
                for name, query in SNAPSHOT_QUERIES.items()}


def test_migrate_twice_on_an_empty_database_is_a_no_op(empty_db_url):
    """`importer migrate` applies everything once and nothing the second time."""
    version, applied = migrate(empty_db_url)
    assert applied == MIGRATIONS >= 6
    first = snapshot(empty_db_url)
    version_again, applied_again = migrate(empty_db_url)
    assert (version_again, applied_again) == (version, 0)
    assert snapshot(empty_db_url) == first
    assert first["columns"], "the snapshot must see our tables"


def test_importer_migrate_command_runs_twice(empty_db_url):
    """The console command itself succeeds twice in a row on an empty database."""
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "importer.cli", "migrate"],
                              env={"DATABASE_URL": empty_db_url, "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('import_jobs') IS NOT NULL").fetchone()[0]


def test_apply_rollback_apply_gives_the_same_schema(empty_db_url):
    """Every migration rolls back cleanly, and re-applying rebuilds an identical schema."""
    migrate(empty_db_url)
    before = snapshot(empty_db_url)
    assert rollback_schema(empty_db_url) == MIGRATIONS
    with psycopg.connect(empty_db_url) as conn:
        left = conn.execute("""SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
                                AND tablename NOT LIKE 'procrastinate%%'
                                AND tablename NOT LIKE '%%yoyo%%'""").fetchone()[0]
    assert left == 0, "rollback must remove every table of schema/"
    migrate(empty_db_url)
    assert snapshot(empty_db_url) == before


def test_named_constraints_are_in_place(db_url):
    """The rules of the schema are named CHECK constraints that psql's \\d shows."""
    with psycopg.connect(db_url) as conn:
        names = {r[0] for r in conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'import_jobs'::regclass")}
        item_names = {r[0] for r in conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'items'::regclass")}
    assert {"import_jobs_status_valid", "import_jobs_progress_range", "import_jobs_mode_valid",
            "import_jobs_completed_is_full", "import_jobs_user_idempotency_key"} <= names
    assert {"items_date_order", "items_name_length"} <= item_names


def _check_values(conn: psycopg.Connection, constraint: str) -> set[str]:
    """The quoted values a CHECK (column IN (...)) constraint allows, as the catalogue shows it."""
    definition = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
                              (constraint,)).fetchone()[0]
    return set(re.findall(r"'([a-z_]+)'::text", definition))


def test_vocabulary_enums_equal_the_check_constraints(db_url):
    """JobStatus and ImportMode hold exactly the values the schema's CHECK constraints allow."""
    with psycopg.connect(db_url) as conn:
        statuses = _check_values(conn, "import_jobs_status_valid")
        modes = _check_values(conn, "import_jobs_mode_valid")
    assert statuses == {s.value for s in JobStatus}
    assert modes == {m.value for m in ImportMode}
    assert ACTIVE | TERMINAL == set(JobStatus) and not ACTIVE & TERMINAL
