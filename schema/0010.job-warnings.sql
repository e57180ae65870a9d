-- What reading a file found worth saying, on the job: its warnings (API.md, "Review before
-- import"), the date order the request chose, whether items already on the wheel are skipped,
-- and how many were.
-- depends: 0008.import-job-end

ALTER TABLE import_jobs
    ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN date_order text,
    ADD COLUMN skip_duplicates boolean NOT NULL DEFAULT true,
    ADD COLUMN skipped_duplicates integer NOT NULL DEFAULT 0,
    -- The file's own headers, so that errors.csv gives each rejected row's cells in their columns.
    ADD COLUMN headers text[],
    ADD CONSTRAINT import_jobs_warnings_list CHECK (jsonb_typeof(warnings) = 'array'),
    -- The notification payload carries them: the worker keeps them small, this keeps it so.
    ADD CONSTRAINT import_jobs_warnings_size CHECK (octet_length(warnings::text) <= 4000),
    ADD CONSTRAINT import_jobs_date_order_valid CHECK (
        date_order IS NULL OR date_order IN ('day_first', 'month_first')),
    ADD CONSTRAINT import_jobs_skipped_nonnegative CHECK (skipped_duplicates >= 0);

COMMENT ON COLUMN import_jobs.warnings IS
    'The file''s warnings as [{code, message, details}], written by the attempt that read it.';
COMMENT ON COLUMN import_jobs.date_order IS
    'day_first or month_first as the request chose; NULL: decided from the file.';

-- The job object of API.md, version 2: version 1 plus `warnings` and counts.skipped_duplicates.
-- A new function rather than a change of v1, so that an upgrade never changes a function under a
-- running process.
CREATE FUNCTION import_job_json_v2(j import_jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    -- Version 1's keys, with `counts` replaced (|| keeps the right-hand value of a key).
    SELECT import_job_json_v1(j) || jsonb_build_object(
        'counts', jsonb_build_object(
            'rings', j.created_rings, 'groups', j.created_groups, 'labels', j.created_labels,
            'pages', j.created_pages, 'items', j.created_items,
            'skipped_duplicates', j.skipped_duplicates),
        'warnings', j.warnings)
$$;

CREATE FUNCTION import_jobs_notify_v2() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    payload jsonb := import_job_json_v2(NEW);
BEGIN
    IF TG_OP = 'UPDATE'
       AND (payload - 'seq') = (import_job_json_v2(OLD) - 'seq') THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('import_jobs', (payload || jsonb_build_object('user_id', NEW.user_id))::text);
    RETURN NULL;
END
$$;

DROP TRIGGER import_jobs_notify ON import_jobs;
CREATE TRIGGER import_jobs_notify AFTER INSERT OR UPDATE ON import_jobs
    FOR EACH ROW EXECUTE FUNCTION import_jobs_notify_v2();
