-- Bookkeeping of `importer migrate` (importer/migrate.py).

-- name: migrate_lock
SELECT pg_advisory_xact_lock(hashtext('importer migrate'));

-- name: procrastinate_version_table_create
CREATE TABLE IF NOT EXISTS procrastinate_schema_version (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version    text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: procrastinate_version_get
SELECT version FROM procrastinate_schema_version;

-- name: procrastinate_schema_exists
SELECT to_regclass('procrastinate_jobs') IS NOT NULL;

-- name: procrastinate_version_set
INSERT INTO procrastinate_schema_version (version) VALUES (%(version)s)
ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, applied_at = now()
WHERE procrastinate_schema_version.version <> excluded.version;
