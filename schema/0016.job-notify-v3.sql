-- The NOTIFY trigger, version 3: it builds the old job object only when no column that progress
-- writes change has changed (the comparison that decides whether anything visible changed), and
-- it has a bench-only switch: bench/notify_concurrency.py measures what the
-- commit-time NOTIFY lock costs by running the same imports with progress notifications and
-- without them. A worker started with IMPORTER_BENCH_PROGRESS_NOTIFY=off opens its connections
-- with the session setting importer.bench_progress_notify = 'off'; an update from such a
-- connection that keeps the job's status (a progress write) then notifies nobody. Every status
-- change still notifies, so terminal events arrive as always. Unset (production), the trigger
-- behaves exactly as version 2.
-- depends: 0015.email-skipped

CREATE FUNCTION import_jobs_notify_v3() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payload jsonb;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status
       AND current_setting('importer.bench_progress_notify', true) = 'off' THEN
        RETURN NULL;
    END IF;
    payload := import_job_json_v2(NEW);
    -- A change of a column every progress write changes is visible: no need to build the old
    -- job object to compare (half of what a progress write cost here). Else compare them whole.
    IF TG_OP = 'UPDATE'
       AND (NEW.status, NEW.progress, NEW.step, NEW.current_step, NEW.processed_items,
            NEW.rejected_rows, NEW.created_items)
           IS NOT DISTINCT FROM
           (OLD.status, OLD.progress, OLD.step, OLD.current_step, OLD.processed_items,
            OLD.rejected_rows, OLD.created_items)
       AND (payload - 'seq') = (import_job_json_v2(OLD) - 'seq') THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('import_jobs', (payload || jsonb_build_object('user_id', NEW.user_id))::text);
    RETURN NULL;
END
$$;

DROP TRIGGER import_jobs_notify ON import_jobs;
CREATE TRIGGER import_jobs_notify AFTER INSERT OR UPDATE ON import_jobs
    FOR EACH ROW EXECUTE FUNCTION import_jobs_notify_v3();
