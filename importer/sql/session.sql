-- Taking a run-time role for the current transaction (see schema/0005.roles-rls.sql).

-- name: session_as_user
-- The API's role, with the user whose rows it may see; both end with the transaction.
SELECT set_config('role', 'importer_api', true),
       set_config('importer.user_id', %(user_id)s::text, true);

-- name: session_as_operator
-- An operator (schema/0014): the API's role and user, plus the flag of the operator policies.
SELECT set_config('role', 'importer_api', true),
       set_config('importer.user_id', %(user_id)s::text, true),
       set_config('importer.operator', 'on', true);

-- name: session_as_worker
SELECT set_config('role', 'importer_worker', true);

-- name: session_commit_unflushed
-- This transaction's commit does not wait for its WAL to reach the disk (it gets there within
-- wal_writer_delay; a later durable commit flushes it first). For writes a crash may lose
-- without harm: a progress report, or a claim, which the retry of a crashed import makes again.
-- Why it matters: Postgres holds its NOTIFY lock through the commit's flush, so that NOTIFYing
-- commits that wait for the disk are serialised, one flush at a time (bench/notify_concurrency.py).
SELECT set_config('synchronous_commit', 'off', true);

-- name: transaction_begin
-- Sent as statements (not psycopg's transaction()) so that they can travel in a pipeline.
BEGIN;

-- name: transaction_begin_snapshot
-- A long read (errors.csv through a server-side cursor): every statement sees one snapshot.
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;

-- name: transaction_commit
COMMIT;
