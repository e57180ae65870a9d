-- Run-time roles and row-level security: the API sees only the rows of the user set for the
-- transaction; the worker does its job; neither is a superuser.
-- depends: 0004.job-notify

-- Roles are cluster-wide, so another database on the same server may have created them.
DO $$
BEGIN
    CREATE ROLE importer_api NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
-- The worker acts for every user's job, as the original's service role did, and bulk-loads items
-- with COPY, which Postgres refuses under row-level security: it bypasses RLS (it is still no
-- superuser: it has only the grants below).
DO $$
BEGIN
    CREATE ROLE importer_worker NOLOGIN BYPASSRLS;
EXCEPTION WHEN duplicate_object THEN
    ALTER ROLE importer_worker BYPASSRLS;
END
$$;
-- The service logs in as the migrating user and takes one of these roles per transaction
-- (SET LOCAL ROLE), so that it must be a member of both.
DO $$
BEGIN
    EXECUTE format('GRANT importer_api, importer_worker TO %I', current_user);
EXCEPTION WHEN duplicate_object OR invalid_grant_operation THEN NULL;
END
$$;

-- The user of the current transaction, set by the API with set_config('importer.user_id', …, true).
-- NULL when unset, so that every policy below then matches nothing.
CREATE FUNCTION importer_current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('importer.user_id', true), '')::uuid
$$;

GRANT SELECT, INSERT, UPDATE ON users TO importer_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON year_wheels TO importer_api;
GRANT SELECT ON wheel_rings, activity_groups, labels, wheel_pages, items TO importer_api;
GRANT SELECT, INSERT ON import_files TO importer_api;
GRANT SELECT, INSERT, UPDATE ON import_jobs TO importer_api;
GRANT SELECT ON import_rejected_rows TO importer_api;
-- The API defers and cancels Procrastinate jobs inside its own transactions.
GRANT SELECT, INSERT, UPDATE ON procrastinate_jobs, procrastinate_events TO importer_api;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO importer_api;

GRANT SELECT, INSERT, UPDATE, DELETE ON
    users, year_wheels, wheel_rings, activity_groups, labels, wheel_pages, items,
    import_files, import_jobs, import_rejected_rows TO importer_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON procrastinate_jobs, procrastinate_events TO importer_worker;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO importer_worker;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE year_wheels ENABLE ROW LEVEL SECURITY;
ALTER TABLE wheel_rings ENABLE ROW LEVEL SECURITY;
ALTER TABLE activity_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE wheel_pages ENABLE ROW LEVEL SECURITY;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_rejected_rows ENABLE ROW LEVEL SECURITY;

CREATE POLICY users_self ON users TO importer_api
    USING (id = importer_current_user_id());
CREATE POLICY year_wheels_owner ON year_wheels TO importer_api
    USING (owner_id = importer_current_user_id());
CREATE POLICY wheel_rings_owner ON wheel_rings FOR SELECT TO importer_api
    USING (EXISTS (SELECT 1 FROM year_wheels w WHERE w.id = wheel_id));
CREATE POLICY activity_groups_owner ON activity_groups FOR SELECT TO importer_api
    USING (EXISTS (SELECT 1 FROM year_wheels w WHERE w.id = wheel_id));
CREATE POLICY labels_owner ON labels FOR SELECT TO importer_api
    USING (EXISTS (SELECT 1 FROM year_wheels w WHERE w.id = wheel_id));
CREATE POLICY wheel_pages_owner ON wheel_pages FOR SELECT TO importer_api
    USING (EXISTS (SELECT 1 FROM year_wheels w WHERE w.id = wheel_id));
CREATE POLICY items_owner ON items FOR SELECT TO importer_api
    USING (EXISTS (SELECT 1 FROM year_wheels w WHERE w.id = wheel_id));
CREATE POLICY import_files_owner ON import_files TO importer_api
    USING (user_id = importer_current_user_id());
-- A job may only be created for one of the user's own wheels (year_wheels' policy applies
-- inside the subquery).
CREATE POLICY import_jobs_owner ON import_jobs TO importer_api
    USING (user_id = importer_current_user_id())
    WITH CHECK (user_id = importer_current_user_id()
                AND EXISTS (SELECT 1 FROM year_wheels w WHERE w.id = wheel_id)
                AND EXISTS (SELECT 1 FROM import_files f WHERE f.id = file_id));
CREATE POLICY import_rejected_rows_owner ON import_rejected_rows FOR SELECT TO importer_api
    USING (EXISTS (SELECT 1 FROM import_jobs j WHERE j.id = job_id));

