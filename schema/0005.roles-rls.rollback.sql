-- The roles themselves stay: they are cluster-wide and other databases may use them.
DROP POLICY import_rejected_rows_owner ON import_rejected_rows;
DROP POLICY import_jobs_owner ON import_jobs;
DROP POLICY import_files_owner ON import_files;
DROP POLICY items_owner ON items;
DROP POLICY wheel_pages_owner ON wheel_pages;
DROP POLICY labels_owner ON labels;
DROP POLICY activity_groups_owner ON activity_groups;
DROP POLICY wheel_rings_owner ON wheel_rings;
DROP POLICY year_wheels_owner ON year_wheels;
DROP POLICY users_self ON users;
ALTER TABLE import_rejected_rows DISABLE ROW LEVEL SECURITY;
ALTER TABLE import_jobs DISABLE ROW LEVEL SECURITY;
ALTER TABLE import_files DISABLE ROW LEVEL SECURITY;
ALTER TABLE items DISABLE ROW LEVEL SECURITY;
ALTER TABLE wheel_pages DISABLE ROW LEVEL SECURITY;
ALTER TABLE labels DISABLE ROW LEVEL SECURITY;
ALTER TABLE activity_groups DISABLE ROW LEVEL SECURITY;
ALTER TABLE wheel_rings DISABLE ROW LEVEL SECURITY;
ALTER TABLE year_wheels DISABLE ROW LEVEL SECURITY;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON procrastinate_jobs, procrastinate_events FROM importer_api, importer_worker;
REVOKE USAGE ON ALL SEQUENCES IN SCHEMA public FROM importer_api, importer_worker;
REVOKE ALL ON users, year_wheels, wheel_rings, activity_groups, labels, wheel_pages, items,
    import_files, import_jobs, import_rejected_rows FROM importer_api, importer_worker;
DROP FUNCTION importer_current_user_id();
