-- The import job's lifecycle (importer/jobs/lifecycle/, the only code that names these).
-- Every write of the worker names the attempt it belongs to, so that a stale run (a worker
-- presumed dead that still runs) cannot overwrite the state of the attempt that replaced it.
-- The API's statements run under importer.db.as_user: row-level security scopes them to the
-- request's user, and "not found" includes "not yours".

-- ---------------------------------------------------------------------------------------------
-- Creating a job (API): lock the user, check, store the file, insert the row.

-- name: user_lock
-- Serialises one user's submits and retries, so that the active-jobs limit and the
-- Idempotency-Key lookup hold under concurrent requests. The checks run in the next statement,
-- whose snapshot is taken after the lock is held.
SELECT id FROM users WHERE id = %(user_id)s FOR UPDATE;

-- name: import_submit_check
SELECT (SELECT count(*) FROM import_jobs
         WHERE user_id = %(user_id)s AND status IN ('pending', 'processing', 'cancelling')) AS active,
       EXISTS (SELECT 1 FROM year_wheels WHERE id = %(wheel_id)s) AS wheel_found,
       (SELECT coalesce(sum(size_bytes), 0)::bigint FROM import_files WHERE user_id = %(user_id)s) AS stored_bytes,
       (SELECT import_job_json_v2(j) FROM import_jobs j
         WHERE j.user_id = %(user_id)s AND j.idempotency_key = %(idempotency_key)s) AS existing;

-- name: upload_admission_check
-- An upload's limits before its body is read (API.md: a refused upload costs the server
-- nothing): the wheel, the active jobs and the stored bytes, and whether the Idempotency-Key
-- is a replay (answered with its first job whatever the limits). Only a cheap early refusal: the
-- same limits hold race-free where the job or file is inserted, under user_lock.
SELECT EXISTS (SELECT 1 FROM year_wheels WHERE id = %(wheel_id)s) AS wheel_found,
       (SELECT count(*) FROM import_jobs
         WHERE user_id = %(user_id)s AND status IN ('pending', 'processing', 'cancelling')) AS active,
       (SELECT coalesce(sum(size_bytes), 0)::bigint FROM import_files WHERE user_id = %(user_id)s) AS stored_bytes,
       EXISTS (SELECT 1 FROM import_jobs
                WHERE user_id = %(user_id)s AND idempotency_key = %(idempotency_key)s) AS replay;

-- name: user_stored_bytes
-- What the user's stored uploads take (index-only on import_files_user_size_idx, schema/0013).
SELECT coalesce(sum(size_bytes), 0)::bigint AS stored_bytes FROM import_files WHERE user_id = %(user_id)s;

-- name: import_job_by_key
SELECT import_job_json_v2(j) AS job FROM import_jobs j
WHERE j.user_id = %(user_id)s AND j.idempotency_key = %(idempotency_key)s;

-- name: import_file_insert
-- The content goes in binary format (its placeholder ends in b): sent as it is, not escaped as text.
INSERT INTO import_files (id, user_id, media_type, size_bytes, sha256, content)
VALUES (%(id)s, %(user_id)s, %(media_type)s, %(size_bytes)s, %(sha256)s, %(content)b);

-- name: import_job_insert
INSERT INTO import_jobs (id, user_id, wheel_id, file_id, file_name, mode, mapping, date_order,
                         skip_duplicates, sheet, notify, retry_of, idempotency_key,
                         procrastinate_job_id, language, current_step)
VALUES (%(id)s, %(user_id)s, %(wheel_id)s, %(file_id)s, %(file_name)s, %(mode)s, %(mapping)s,
        %(date_order)s, %(skip_duplicates)s, %(sheet)s, %(notify)s, %(retry_of)s,
        %(idempotency_key)s, %(procrastinate_job_id)s, %(language)s, %(current_step)s)
RETURNING import_job_json_v2(import_jobs.*) AS job;

-- ---------------------------------------------------------------------------------------------
-- Reading jobs (API, streams).

-- name: import_job_get
SELECT import_job_json_v2(j) AS job FROM import_jobs j WHERE j.id = %(job_id)s;

-- name: import_job_lock
-- The job, locked for a cancel or a retry (two retries of one job serialise here), with its
-- newest retry if it has one.
SELECT id, wheel_id, file_id, file_name, mode, mapping, date_order, skip_duplicates, sheet,
       notify, status, procrastinate_job_id,
       (SELECT r.id FROM import_jobs r WHERE r.retry_of = import_jobs.id
         ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS retried_by
FROM import_jobs WHERE id = %(job_id)s FOR UPDATE;

-- name: import_job_list
-- Newest first, keyset-paged on (created_at, id): `before_at`/`before_id` is the last job of
-- the previous page (or a timestamp with the nil UUID, meaning "created before then").
SELECT import_job_json_v2(j) AS job FROM import_jobs j
WHERE (%(status)s::text IS NULL OR j.status = %(status)s::text)
  AND (%(wheel_id)s::uuid IS NULL OR j.wheel_id = %(wheel_id)s::uuid)
  AND (%(before_at)s::timestamptz IS NULL
       OR (j.created_at, j.id) < (%(before_at)s::timestamptz, %(before_id)s::uuid))
ORDER BY j.created_at DESC, j.id DESC
LIMIT %(limit)s;

-- name: import_job_owner
-- Whose job it is: an operator's retry is made as the owner (schema/0014).
SELECT user_id FROM import_jobs WHERE id = %(job_id)s;

-- name: import_job_cursor
SELECT created_at, id FROM import_jobs WHERE id = %(job_id)s;

-- name: import_job_exists
SELECT 1 AS found FROM import_jobs WHERE id = %(job_id)s;

-- name: import_job_headers
-- The file's own headers (noted by the attempt that read it; NULL before one did).
SELECT headers FROM import_jobs WHERE id = %(job_id)s;

-- ---------------------------------------------------------------------------------------------
-- Cancelling (API).

-- name: import_job_cancel_running
-- Running: the worker sees `cancelling`, rolls its data back and ends the job `cancelled`.
-- `texts`: the current step by language ({"sv": ..., "en": ...}); the job's is written.
UPDATE import_jobs
   SET status = 'cancelling', current_step = %(texts)s::jsonb ->> import_jobs.language
 WHERE id = %(job_id)s AND status = 'processing'
RETURNING import_job_json_v2(import_jobs.*) AS job;

-- name: import_job_cancel_pending
-- Not started: cancelled at once (the worker's claim skips a cancelled job).
SELECT import_job_json_v2(e) AS job
  FROM import_job_end_v1(%(job_id)s, 'cancelled', ARRAY['pending'],
                         p_current_step => %(texts)s::jsonb ->> (
                             SELECT language FROM import_jobs WHERE id = %(job_id)s)) e;

-- ---------------------------------------------------------------------------------------------
-- An attempt (worker).

-- name: job_claim
-- Start an attempt. `processing` is claimable too: a worker that died left it so, and the
-- recovered task starts over. Anything else (cancelled while pending, already ended) is not.
UPDATE import_jobs
   SET status = 'processing', attempts = attempts + 1, started_at = clock_timestamp(),
       step = 'parsing', current_step = %(texts)s::jsonb ->> import_jobs.language, progress = 0,
       processed_items = 0, rejected_rows = 0, eta_seconds = NULL,
       created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0,
       created_items = 0, error_code = NULL, error_message = NULL, error_details = NULL,
       warnings = '[]', skipped_duplicates = 0, headers = NULL
 WHERE id = %(job_id)s AND status IN ('pending', 'processing')
RETURNING id, user_id, wheel_id, file_id, file_name, mode, mapping, date_order, skip_duplicates,
          sheet, attempts, status, language,
          (SELECT w.year FROM year_wheels w WHERE w.id = import_jobs.wheel_id) AS wheel_year;

-- name: job_status_get
SELECT status, attempts FROM import_jobs WHERE id = %(job_id)s;

-- name: job_progress_set
-- Throttled by the caller; the trigger keeps progress from going down within an attempt and
-- skips the NOTIFY when nothing visible changed. Returns the status so that a cancel is seen.
-- The created_* counts are those of the uncommitted data transaction, so that a person sees
-- "✓ 3 ringar ✓ 39 grupper" while items load; a failure or a cancel sets them back to 0.
-- `warnings` and `headers` (NULL: unchanged) come with the first report once the file is open:
-- what reading it found worth saying, and the file's headers for errors.csv.
UPDATE import_jobs
   SET step = %(step)s, current_step = %(text)s, progress = %(progress)s,
       processed_items = %(processed)s, total_items = %(total)s,
       rejected_rows = %(rejected)s, eta_seconds = %(eta)s,
       created_rings = %(rings)s, created_groups = %(groups)s, created_labels = %(labels)s,
       created_pages = %(pages)s, created_items = %(items)s,
       warnings = coalesce(%(warnings)s::jsonb, warnings),
       headers = coalesce(%(headers)s::text[], headers)
 WHERE id = %(job_id)s AND attempts = %(attempt)s AND status IN ('processing', 'cancelling')
RETURNING status;

-- name: job_complete
-- In the data transaction: `completed` becomes visible with the items, never before. A job
-- cancelled meanwhile (or taken over by another attempt) matches nothing, and the caller
-- rolls the data back.
UPDATE import_jobs
   SET status = 'completed', progress = 100, step = 'done', current_step = %(texts)s::jsonb ->> import_jobs.language,
       finished_at = clock_timestamp(), eta_seconds = 0,
       processed_items = %(processed)s, total_items = %(total)s, rejected_rows = %(rejected)s,
       created_rings = %(rings)s, created_groups = %(groups)s, created_labels = %(labels)s,
       created_pages = %(pages)s, created_items = %(items)s,
       skipped_duplicates = %(skipped_duplicates)s, warnings = warnings || %(warnings)s
 WHERE id = %(job_id)s AND attempts = %(attempt)s AND status = 'processing'
RETURNING id;

-- name: job_end
-- Fail, cancel or requeue an attempt (import_job_end_v1, schema/0008). A job found
-- `cancelling` before any attempt ran is ended with `attempt` NULL. `texts` (current step) and
-- `messages` (error) are by language ({"sv": ..., "en": ...}); the job's are written.
SELECT id FROM import_job_end_v1(
    %(job_id)s, %(status)s, %(from)s::text[], %(attempt)s,
    %(texts)s::jsonb ->> (SELECT language FROM import_jobs WHERE id = %(job_id)s), %(code)s,
    %(messages)s::jsonb ->> (SELECT language FROM import_jobs WHERE id = %(job_id)s),
    %(details)s, %(processed)s, %(rejected)s);

-- ---------------------------------------------------------------------------------------------
-- Recovery (worker's maintenance task).

-- name: import_jobs_orphans_settle
-- Imports still active whose queue job has ended for good (the task could not write its own
-- end, e.g. the database was unreachable at that moment): a person must not wait forever.
SELECT e.id
  FROM import_jobs j
  JOIN procrastinate_jobs pj ON pj.id = j.procrastinate_job_id
 CROSS JOIN LATERAL import_job_end_v1(
         j.id,
         CASE WHEN j.status = 'cancelling' THEN 'cancelled' ELSE 'failed' END,
         ARRAY['pending', 'processing', 'cancelling'],
         p_current_step => (CASE WHEN j.status = 'cancelling' THEN %(cancelled)s::jsonb
                                 ELSE %(failed)s::jsonb END) ->> j.language,
         p_error_code => CASE WHEN j.status = 'cancelling' THEN NULL ELSE 'internal_error' END,
         p_error_message => CASE WHEN j.status = 'cancelling' THEN NULL
                                 ELSE %(lost)s::jsonb ->> j.language END) e
 WHERE j.status IN ('pending', 'processing', 'cancelling')
   AND pj.status IN ('succeeded', 'failed', 'cancelled', 'aborted');

-- name: import_file_copy
-- A large upload streamed in (lifecycle/spooled.py), binary format, one row: COPY sends the
-- content in chunks where an INSERT's parameter would hold it whole in memory. COPY FROM is
-- not allowed under row-level security, so it runs as the login role, after user_lock and the
-- quota check in the same transaction; the row names its user explicitly.
COPY import_files (id, user_id, media_type, size_bytes, sha256, content) FROM STDIN (FORMAT BINARY);
