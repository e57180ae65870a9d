-- The job object as clients see it, the seq counter, and NOTIFY on every visible change.
-- depends: 0003.import-jobs

-- The one definition of the job object of API.md: the API answers with it, the trigger
-- notifies it, `importer jobs` prints it. Texts are cut so that the notification payload stays
-- far below Postgres' 8,000-byte limit whatever a row holds (see import_jobs_notify_v1).
CREATE FUNCTION import_job_json_v1(j import_jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', j.id,
        'wheel_id', j.wheel_id,
        'file_name', left(j.file_name, 255),
        'mode', j.mode,
        'status', j.status,
        'progress', j.progress,
        'step', j.step,
        'current_step', left(j.current_step, 200),
        'total_items', j.total_items,
        'processed_items', j.processed_items,
        'rejected_rows', j.rejected_rows,
        'eta_seconds', j.eta_seconds,
        'counts', jsonb_build_object(
            'rings', j.created_rings, 'groups', j.created_groups, 'labels', j.created_labels,
            'pages', j.created_pages, 'items', j.created_items),
        'error', CASE WHEN j.error_code IS NULL THEN NULL
                      ELSE jsonb_build_object('code', j.error_code,
                                              'message', left(j.error_message, 500)) END,
        'attempts', j.attempts,
        'retry_of', j.retry_of,
        'created_at', j.created_at,
        'started_at', j.started_at,
        'finished_at', j.finished_at,
        'seq', j.seq,
        'links', jsonb_build_object(
            'self', '/api/imports/' || j.id,
            'events', '/api/imports/' || j.id || '/events',
            'errors', '/api/imports/' || j.id || '/errors.csv'))
$$;

-- Before each UPDATE: an update that changes nothing is left as it is (no seq bump, so no
-- event); any real change bumps seq by one and stamps updated_at. Progress never goes down
-- within one attempt, whatever a caller writes.
CREATE FUNCTION import_jobs_bump_seq_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := OLD.seq;
    NEW.updated_at := OLD.updated_at;
    IF NEW.attempts = OLD.attempts AND NEW.progress < OLD.progress THEN
        NEW.progress := OLD.progress;
    END IF;
    IF ROW(NEW.*) IS NOT DISTINCT FROM ROW(OLD.*) THEN
        RETURN NEW;
    END IF;
    NEW.seq := OLD.seq + 1;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;

CREATE TRIGGER import_jobs_bump_seq BEFORE UPDATE ON import_jobs
    FOR EACH ROW EXECUTE FUNCTION import_jobs_bump_seq_v1();

-- After an INSERT, or an UPDATE whose job object changed apart from seq: one notification on
-- channel import_jobs with the job object plus user_id, which the hub routes by and strips.
CREATE FUNCTION import_jobs_notify_v1() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payload jsonb := import_job_json_v1(NEW);
BEGIN
    IF TG_OP = 'UPDATE'
       AND (payload - 'seq') = (import_job_json_v1(OLD) - 'seq') THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('import_jobs', (payload || jsonb_build_object('user_id', NEW.user_id))::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER import_jobs_notify AFTER INSERT OR UPDATE ON import_jobs
    FOR EACH ROW EXECUTE FUNCTION import_jobs_notify_v1();
