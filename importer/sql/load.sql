-- The worker's side of an import (importer/loader.py, importer/progress.py).
-- Every write to import_jobs names the attempt it belongs to, so that a stale run (a worker
-- presumed dead that still runs) cannot overwrite the state of the attempt that replaced it.

-- name: job_claim
-- Start an attempt. `processing` is claimable too: a worker that died left it so, and the
-- recovered task starts over. Anything else (cancelled while pending, already ended) is not.
UPDATE import_jobs
   SET status = 'processing', attempts = attempts + 1, started_at = clock_timestamp(),
       step = 'parsing', current_step = 'Läser fil...', progress = 0,
       processed_items = 0, rejected_rows = 0, eta_seconds = NULL,
       created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0,
       created_items = 0, error_code = NULL, error_message = NULL, error_details = NULL
 WHERE id = %(job_id)s AND status IN ('pending', 'processing')
RETURNING id, user_id, wheel_id, file_id, file_name, mode, mapping, attempts, status,
          (SELECT w.year FROM year_wheels w WHERE w.id = import_jobs.wheel_id) AS wheel_year;

-- name: job_status_get
SELECT status, attempts FROM import_jobs WHERE id = %(job_id)s;

-- name: job_cancelling_finish
-- A job found `cancelling` when a (recovered) attempt starts: nothing of it was written.
UPDATE import_jobs
   SET status = 'cancelled', finished_at = clock_timestamp(), step = 'done',
       created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0, created_items = 0,
       current_step = 'Import avbruten', eta_seconds = NULL
 WHERE id = %(job_id)s AND status = 'cancelling'
RETURNING id;

-- name: import_file_get
SELECT media_type, content FROM import_files WHERE id = %(file_id)s;

-- name: import_file_size
SELECT media_type, size_bytes FROM import_files WHERE id = %(file_id)s;

-- name: import_file_slice
-- A large file is read in slices (EXTERNAL storage: substring reads only the TOAST chunks it
-- needs), so that neither the worker nor the reader holds it twice over.
SELECT substring(content FROM %(start)s FOR %(length)s) AS part FROM import_files WHERE id = %(file_id)s;

-- name: rejected_rows_clear
-- A new attempt reports its own rejections.
DELETE FROM import_rejected_rows WHERE job_id = %(job_id)s;

-- name: rejected_rows_insert
INSERT INTO import_rejected_rows (job_id, row_number, column_name, reason, raw_values)
VALUES (%(job_id)s, %(row_number)s, %(column_name)s, %(reason)s, %(raw_values)s)
ON CONFLICT (job_id, row_number) DO NOTHING;

-- name: job_progress_set
-- Throttled by the caller; the trigger keeps progress from going down within an attempt and
-- skips the NOTIFY when nothing visible changed. Returns the status so that a cancel is seen.
-- The created_* counts are those of the uncommitted data transaction, so that a person sees
-- "✓ 3 ringar ✓ 39 grupper" while items load; a failure or a cancel sets them back to 0.
UPDATE import_jobs
   SET step = %(step)s, current_step = %(text)s, progress = %(progress)s,
       processed_items = %(processed)s, total_items = %(total)s,
       rejected_rows = %(rejected)s, eta_seconds = %(eta)s,
       created_rings = %(rings)s, created_groups = %(groups)s, created_labels = %(labels)s,
       created_pages = %(pages)s, created_items = %(items)s
 WHERE id = %(job_id)s AND attempts = %(attempt)s AND status IN ('processing', 'cancelling')
RETURNING status;

-- name: job_complete
-- In the data transaction: `completed` becomes visible with the items, never before. A job
-- cancelled meanwhile (or taken over by another attempt) matches nothing, and the caller
-- rolls the data back.
UPDATE import_jobs
   SET status = 'completed', progress = 100, step = 'done', current_step = 'Import klar!',
       finished_at = clock_timestamp(), eta_seconds = 0,
       processed_items = %(processed)s, total_items = %(total)s, rejected_rows = %(rejected)s,
       created_rings = %(rings)s, created_groups = %(groups)s, created_labels = %(labels)s,
       created_pages = %(pages)s, created_items = %(items)s
 WHERE id = %(job_id)s AND attempts = %(attempt)s AND status = 'processing'
RETURNING id;

-- name: job_fail
UPDATE import_jobs
   SET status = 'failed', finished_at = clock_timestamp(), step = 'done',
       current_step = 'Importen misslyckades', eta_seconds = NULL,
       created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0, created_items = 0,
       error_code = %(code)s, error_message = left(%(message)s, 2000), error_details = %(details)s,
       processed_items = greatest(processed_items, %(processed)s),
       rejected_rows = greatest(rejected_rows, %(rejected)s)
 WHERE id = %(job_id)s AND attempts = %(attempt)s AND status IN ('processing', 'cancelling')
RETURNING id;

-- name: job_cancel_finish
UPDATE import_jobs
   SET status = 'cancelled', finished_at = clock_timestamp(), step = 'done',
       created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0, created_items = 0,
       current_step = 'Import avbruten', eta_seconds = NULL
 WHERE id = %(job_id)s AND attempts = %(attempt)s AND status IN ('processing', 'cancelling')
RETURNING id;

-- name: job_requeue
-- A transient failure that the queue will retry: back to pending, the attempt count kept.
UPDATE import_jobs
   SET status = 'pending', step = 'queued', eta_seconds = NULL,
       created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0, created_items = 0,
       current_step = left('Nytt försök snart: ' || %(message)s, 200)
 WHERE id = %(job_id)s AND attempts = %(attempt)s AND status = 'processing'
RETURNING id;

-- name: wheel_lock
-- Two imports into one wheel serialise here, for the whole data transaction. NO KEY UPDATE, not
-- UPDATE: the foreign-key check of a new import_jobs row takes KEY SHARE on its wheel, which
-- FOR UPDATE would block, so every submit into a wheel waited for its running import to commit.
SELECT id FROM year_wheels WHERE id = %(wheel_id)s FOR NO KEY UPDATE;

-- name: lock_timeout_short
-- While another import holds the wheel, wait in short slices, so that a cancel is seen.
SELECT set_config('lock_timeout', '200ms', true);

-- name: lock_timeout_reset
SELECT set_config('lock_timeout', '0', true);

-- name: items_delete_wheel
DELETE FROM items WHERE wheel_id = %(wheel_id)s;

-- name: wheel_pages_delete_wheel
DELETE FROM wheel_pages WHERE wheel_id = %(wheel_id)s;

-- name: labels_delete_wheel
DELETE FROM labels WHERE wheel_id = %(wheel_id)s;

-- name: activity_groups_delete_wheel
DELETE FROM activity_groups WHERE wheel_id = %(wheel_id)s;

-- name: wheel_rings_delete_wheel
DELETE FROM wheel_rings WHERE wheel_id = %(wheel_id)s;

-- name: wheel_rings_existing
SELECT lower(name) AS key, id, ring_order FROM wheel_rings WHERE wheel_id = %(wheel_id)s;

-- name: activity_groups_existing
SELECT lower(name) AS key, id FROM activity_groups WHERE wheel_id = %(wheel_id)s;

-- name: labels_existing
SELECT lower(name) AS key, id FROM labels WHERE wheel_id = %(wheel_id)s;

-- name: wheel_pages_existing
SELECT year, id, page_order FROM wheel_pages WHERE wheel_id = %(wheel_id)s;

-- name: wheel_rings_insert
INSERT INTO wheel_rings (id, wheel_id, name, type, color, ring_order)
VALUES (%(id)s, %(wheel_id)s, %(name)s, %(type)s, %(color)s, %(ring_order)s);

-- name: activity_groups_insert
INSERT INTO activity_groups (id, wheel_id, name, color)
VALUES (%(id)s, %(wheel_id)s, %(name)s, %(color)s);

-- name: labels_insert
INSERT INTO labels (id, wheel_id, name, color)
VALUES (%(id)s, %(wheel_id)s, %(name)s, %(color)s);

-- name: wheel_pages_insert
INSERT INTO wheel_pages (id, wheel_id, year, title, page_order)
VALUES (%(id)s, %(wheel_id)s, %(year)s, %(title)s, %(page_order)s);

-- name: wheel_pages_order_defer
SET CONSTRAINTS wheel_pages_wheel_order_key DEFERRED;

-- name: wheel_pages_renumber
-- One page per year, ordered by year: 1..n without gaps, whatever orders an append added.
UPDATE wheel_pages p
   SET page_order = r.n
  FROM (SELECT id, row_number() OVER (ORDER BY year) AS n
          FROM wheel_pages WHERE wheel_id = %(wheel_id)s) r
 WHERE p.id = r.id AND p.page_order <> r.n;

-- name: items_copy
COPY items (wheel_id, page_id, ring_id, group_id, label_id, name, start_date, end_date,
            description, cross_year_group_id, import_job_id) FROM STDIN;

-- name: import_jobs_orphans_settle
-- Imports still active whose queue job has ended for good (the task could not write its own
-- end, e.g. the database was unreachable at that moment): a person must not wait forever.
UPDATE import_jobs j
   SET status = CASE WHEN j.status = 'cancelling' THEN 'cancelled' ELSE 'failed' END,
       finished_at = clock_timestamp(), step = 'done', eta_seconds = NULL,
       created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0, created_items = 0,
       current_step = CASE WHEN j.status = 'cancelling' THEN 'Import avbruten'
                           ELSE 'Importen misslyckades' END,
       error_code = CASE WHEN j.status = 'cancelling' THEN NULL ELSE 'internal_error' END,
       error_message = CASE WHEN j.status = 'cancelling' THEN NULL
                            ELSE 'Importen avbröts oväntat och kunde inte göras om.' END
  FROM procrastinate_jobs pj
 WHERE pj.id = j.procrastinate_job_id
   AND j.status IN ('pending', 'processing', 'cancelling')
   AND pj.status IN ('succeeded', 'failed', 'cancelled', 'aborted')
RETURNING j.id;
