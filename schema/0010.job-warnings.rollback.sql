-- Undo 0010: the trigger notifies the version 1 job object again; the new columns go.
DROP TRIGGER import_jobs_notify ON import_jobs;
CREATE TRIGGER import_jobs_notify AFTER INSERT OR UPDATE ON import_jobs
    FOR EACH ROW EXECUTE FUNCTION import_jobs_notify_v1();
DROP FUNCTION import_jobs_notify_v2();
DROP FUNCTION import_job_json_v2(import_jobs);
ALTER TABLE import_jobs
    DROP COLUMN warnings,
    DROP COLUMN date_order,
    DROP COLUMN skip_duplicates,
    DROP COLUMN headers,
    DROP COLUMN skipped_duplicates;
