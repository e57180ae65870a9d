-- Operators (a token with `role: service_role`, API.md "Authentication") may list, read,
-- cancel and retry every user's import jobs, and nothing else.
-- depends: 0013.storage-quota

-- Why policies rather than a role that bypasses row-level security, or queries run as the
-- worker: the operator's transaction stays under importer_api, so every other table keeps
-- its owner policy and an operator still sees no other user's wheels, items, files, previews
-- or uploads. What the operator may do more is written here, in two policies on one table,
-- where a reader of the schema finds it; the API sets the flag only for a token with that
-- role (importer.db.as_operator), and only for the job actions of server/views/jobs.py.
-- A retry by an operator is not covered here: it is made as the job's owner (the new job is
-- theirs, counted against their limit), see importer/jobs/lifecycle/requests.py.

-- Whether the current transaction is an operator's: set with
-- set_config('importer.operator', 'on', true), so it ends with the transaction.
CREATE FUNCTION importer_current_is_operator() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('importer.operator', true), '') = 'on'
$$;

-- Reading every job (list, read, the job's event stream, and the lock a cancel takes).
CREATE POLICY import_jobs_operator_read ON import_jobs FOR SELECT TO importer_api
    USING (importer_current_is_operator());
-- Cancelling every job: the job row's own UPDATE (import_job_cancel_running,
-- import_job_end_v1). Permissive policies add up, so the owner's policy still applies to owners.
CREATE POLICY import_jobs_operator_cancel ON import_jobs FOR UPDATE TO importer_api
    USING (importer_current_is_operator())
    WITH CHECK (importer_current_is_operator());
