-- Undo 0013: the trigger of version 2 again, without the bench switch.
DROP TRIGGER import_jobs_notify ON import_jobs;
CREATE TRIGGER import_jobs_notify AFTER INSERT OR UPDATE ON import_jobs
    FOR EACH ROW EXECUTE FUNCTION import_jobs_notify_v2();
DROP FUNCTION import_jobs_notify_v3();
