-- Taking a run-time role for the current transaction (see schema/0005.roles-rls.sql).

-- name: session_as_user
-- The API's role, with the user whose rows it may see; both end with the transaction.
SELECT set_config('role', 'importer_api', true),
       set_config('importer.user_id', %(user_id)s::text, true);

-- name: session_as_worker
SELECT set_config('role', 'importer_worker', true);

-- name: transaction_begin
-- Sent as statements (not psycopg's transaction()) so that they can travel in a pipeline.
BEGIN;

-- name: transaction_begin_snapshot
-- A long read (errors.csv through a server-side cursor): every statement sees one snapshot.
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;

-- name: transaction_commit
COMMIT;
