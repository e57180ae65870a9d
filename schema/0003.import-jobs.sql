-- Import jobs, their stored input and the rows they rejected.
-- depends: 0002.item-integrity

-- Postgres is the only store: the uploaded bytes (or the structured JSON) live here, so a
-- retry reads them again without a re-upload. EXTERNAL storage: CSV is written once and read
-- once; compressing it on the submit path would only add latency.
CREATE TABLE import_files (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    media_type  text NOT NULL,
    size_bytes  bigint NOT NULL,
    sha256      bytea NOT NULL,
    content     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_files_media_type_valid CHECK (media_type IN ('text/csv', 'application/json')),
    CONSTRAINT import_files_size_matches CHECK (size_bytes = octet_length(content))
);
ALTER TABLE import_files ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE INDEX import_files_user_idx ON import_files (user_id);

CREATE TABLE import_jobs (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    wheel_id              uuid NOT NULL REFERENCES year_wheels (id) ON DELETE CASCADE,
    file_id               uuid NOT NULL REFERENCES import_files (id) ON DELETE RESTRICT,
    file_name             text NOT NULL,
    mode                  text NOT NULL DEFAULT 'append',
    mapping               jsonb,
    notify                boolean NOT NULL DEFAULT true,
    status                text NOT NULL DEFAULT 'pending',
    progress              integer NOT NULL DEFAULT 0,
    step                  text NOT NULL DEFAULT 'queued',
    current_step          text NOT NULL DEFAULT 'Väntar på att starta...',
    total_items           integer NOT NULL DEFAULT 0,
    processed_items       integer NOT NULL DEFAULT 0,
    rejected_rows         integer NOT NULL DEFAULT 0,
    eta_seconds           integer,
    created_rings         integer NOT NULL DEFAULT 0,
    created_groups        integer NOT NULL DEFAULT 0,
    created_labels        integer NOT NULL DEFAULT 0,
    created_pages         integer NOT NULL DEFAULT 0,
    created_items         integer NOT NULL DEFAULT 0,
    error_code            text,
    error_message         text,
    error_details         jsonb,
    attempts              integer NOT NULL DEFAULT 0,
    retry_of              uuid REFERENCES import_jobs (id) ON DELETE SET NULL,
    idempotency_key       text,
    procrastinate_job_id  bigint,
    seq                   bigint NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    started_at            timestamptz,
    finished_at           timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_jobs_file_name_length CHECK (char_length(file_name) BETWEEN 1 AND 255),
    CONSTRAINT import_jobs_mode_valid CHECK (mode IN ('append', 'replace')),
    CONSTRAINT import_jobs_status_valid CHECK (
        status IN ('pending', 'processing', 'cancelling', 'completed', 'failed', 'cancelled')),
    CONSTRAINT import_jobs_step_valid CHECK (
        step IN ('queued', 'parsing', 'deleting', 'rings', 'groups', 'labels', 'pages', 'items',
                 'finishing', 'done')),
    CONSTRAINT import_jobs_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT import_jobs_completed_is_full CHECK (status <> 'completed' OR progress = 100),
    CONSTRAINT import_jobs_finished_when_terminal CHECK (
        (status IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CONSTRAINT import_jobs_failed_has_code CHECK (status <> 'failed' OR error_code IS NOT NULL),
    CONSTRAINT import_jobs_counts_nonnegative CHECK (
        total_items >= 0 AND processed_items >= 0 AND rejected_rows >= 0
        AND created_rings >= 0 AND created_groups >= 0 AND created_labels >= 0
        AND created_pages >= 0 AND created_items >= 0 AND attempts >= 0),
    CONSTRAINT import_jobs_eta_nonnegative CHECK (eta_seconds IS NULL OR eta_seconds >= 0),
    CONSTRAINT import_jobs_current_step_length CHECK (char_length(current_step) <= 200),
    CONSTRAINT import_jobs_error_code_format CHECK (error_code IS NULL OR error_code ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT import_jobs_error_message_length CHECK (error_message IS NULL OR char_length(error_message) <= 2000),
    CONSTRAINT import_jobs_idempotency_key_length CHECK (
        idempotency_key IS NULL OR char_length(idempotency_key) BETWEEN 1 AND 255),
    CONSTRAINT import_jobs_user_idempotency_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX import_jobs_user_created_idx ON import_jobs (user_id, created_at DESC, id DESC);
CREATE INDEX import_jobs_wheel_idx ON import_jobs (wheel_id);
CREATE INDEX import_jobs_active_idx ON import_jobs (user_id)
    WHERE status IN ('pending', 'processing', 'cancelling');
CREATE INDEX import_jobs_finished_idx ON import_jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX import_jobs_file_idx ON import_jobs (file_id);
CREATE INDEX import_jobs_procrastinate_idx ON import_jobs (procrastinate_job_id);
COMMENT ON COLUMN import_jobs.mode IS 'import_mode in the original: append reuses rings, groups, labels and pages by name; replace swaps them.';
COMMENT ON COLUMN import_jobs.step IS 'Stable machine code of the current step; current_step is its text for a person (Swedish).';
COMMENT ON COLUMN import_jobs.seq IS 'Bumped by trigger on every change of the row; SSE event ids and resumption use it.';
COMMENT ON COLUMN import_jobs.attempts IS 'How many times a worker started this job (1 on the first run; more after crash recovery).';
COMMENT ON COLUMN import_jobs.total_items IS 'Data rows in the file (activities before year splitting).';
COMMENT ON COLUMN import_jobs.processed_items IS 'Data rows read so far, accepted or rejected.';

-- Rows that could not become an item, for errors.csv. The job's rejected_rows counts all of
-- them; this table keeps the first IMPORTER_MAX_STORED_REJECTIONS of a job.
CREATE TABLE import_rejected_rows (
    job_id       uuid NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    row_number   integer NOT NULL,
    column_name  text,
    reason       text NOT NULL,
    raw_values   text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, row_number)
);
COMMENT ON COLUMN import_rejected_rows.row_number IS 'Line of the record in the file as a spreadsheet shows it (the header is row 1).';
