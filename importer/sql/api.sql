-- The HTTP API's queries. Each runs inside importer.db.as_user, so row-level security scopes
-- every read and write to the request's user; "not found" includes "not yours".

-- name: user_ensure
-- The first valid request of a subject creates its row; a token with a new e-mail updates it.
INSERT INTO users (id, email) VALUES (%(user_id)s, %(email)s)
ON CONFLICT (id) DO UPDATE SET email = excluded.email
WHERE excluded.email IS NOT NULL AND users.email IS DISTINCT FROM excluded.email;

-- name: wheel_create
INSERT INTO year_wheels (owner_id, title, year) VALUES (%(owner_id)s, %(title)s, %(year)s)
RETURNING id, title, year, created_at;

-- name: wheel_first
SELECT id FROM year_wheels ORDER BY created_at, id LIMIT 1;

-- name: wheel_list
SELECT id, title, year, created_at FROM year_wheels ORDER BY created_at DESC, id DESC;

-- name: wheel_get
SELECT w.id, w.title, w.year, w.created_at,
       jsonb_build_object(
           'rings', (SELECT count(*) FROM wheel_rings r WHERE r.wheel_id = w.id),
           'groups', (SELECT count(*) FROM activity_groups g WHERE g.wheel_id = w.id),
           'labels', (SELECT count(*) FROM labels l WHERE l.wheel_id = w.id),
           'pages', (SELECT count(*) FROM wheel_pages p WHERE p.wheel_id = w.id),
           'items', (SELECT count(*) FROM items i WHERE i.wheel_id = w.id)) AS counts
FROM year_wheels w WHERE w.id = %(wheel_id)s;

-- name: wheel_exists
SELECT 1 AS found FROM year_wheels WHERE id = %(wheel_id)s;

-- name: wheel_items
-- The wheel's items with the names of what they refer to; `year` (NULL: every page) picks a page.
SELECT i.name, i.start_date, i.end_date, r.name AS ring, g.name AS "group", l.name AS label,
       i.description, p.year AS page_year
FROM items i
JOIN wheel_pages p ON p.id = i.page_id
JOIN wheel_rings r ON r.id = i.ring_id
JOIN activity_groups g ON g.id = i.group_id
LEFT JOIN labels l ON l.id = i.label_id
WHERE i.wheel_id = %(wheel_id)s AND (%(year)s::integer IS NULL OR p.year = %(year)s::integer)
ORDER BY i.start_date, i.name, i.id;

-- name: user_lock
-- Serialises one user's submits and retries, so that the active-jobs limit and the
-- Idempotency-Key lookup hold under concurrent requests. The checks run in the next statement,
-- whose snapshot is taken after the lock is held.
SELECT id FROM users WHERE id = %(user_id)s FOR UPDATE;

-- name: import_submit_check
SELECT (SELECT count(*) FROM import_jobs
         WHERE user_id = %(user_id)s AND status IN ('pending', 'processing', 'cancelling')) AS active,
       EXISTS (SELECT 1 FROM year_wheels WHERE id = %(wheel_id)s) AS wheel_found,
       (SELECT import_job_json_v1(j) FROM import_jobs j
         WHERE j.user_id = %(user_id)s AND j.idempotency_key = %(idempotency_key)s) AS existing;

-- name: import_job_by_key
SELECT import_job_json_v1(j) AS job FROM import_jobs j
WHERE j.user_id = %(user_id)s AND j.idempotency_key = %(idempotency_key)s;

-- name: import_file_insert
INSERT INTO import_files (id, user_id, media_type, size_bytes, sha256, content)
VALUES (%(id)s, %(user_id)s, %(media_type)s, %(size_bytes)s, %(sha256)s, %(content)s);

-- name: import_job_insert
INSERT INTO import_jobs (id, user_id, wheel_id, file_id, file_name, mode, mapping, notify,
                         retry_of, idempotency_key, procrastinate_job_id)
VALUES (%(id)s, %(user_id)s, %(wheel_id)s, %(file_id)s, %(file_name)s, %(mode)s, %(mapping)s,
        %(notify)s, %(retry_of)s, %(idempotency_key)s, %(procrastinate_job_id)s)
RETURNING import_job_json_v1(import_jobs.*) AS job;

-- name: import_job_get
SELECT import_job_json_v1(j) AS job FROM import_jobs j WHERE j.id = %(job_id)s;

-- name: import_job_lock
SELECT id, wheel_id, file_id, file_name, mode, mapping, notify, status, procrastinate_job_id
FROM import_jobs WHERE id = %(job_id)s FOR UPDATE;

-- name: import_job_cancel_pending
-- Not started: cancelled at once (the worker's claim skips a cancelled job).
UPDATE import_jobs
   SET status = 'cancelled', finished_at = clock_timestamp(), step = 'done',
       current_step = 'Import avbruten', eta_seconds = NULL
 WHERE id = %(job_id)s AND status = 'pending'
RETURNING import_job_json_v1(import_jobs.*) AS job;

-- name: import_job_cancel_running
-- Running: the worker sees `cancelling`, rolls its data back and ends the job `cancelled`.
UPDATE import_jobs
   SET status = 'cancelling', current_step = 'Avbryter...'
 WHERE id = %(job_id)s AND status = 'processing'
RETURNING import_job_json_v1(import_jobs.*) AS job;

-- name: import_job_list
-- Newest first, keyset-paged on (created_at, id): `before_at`/`before_id` is the last job of
-- the previous page (or a timestamp with the nil UUID, meaning "created before then").
SELECT import_job_json_v1(j) AS job FROM import_jobs j
WHERE (%(status)s::text IS NULL OR j.status = %(status)s::text)
  AND (%(wheel_id)s::uuid IS NULL OR j.wheel_id = %(wheel_id)s::uuid)
  AND (%(before_at)s::timestamptz IS NULL
       OR (j.created_at, j.id) < (%(before_at)s::timestamptz, %(before_id)s::uuid))
ORDER BY j.created_at DESC, j.id DESC
LIMIT %(limit)s;

-- name: import_job_cursor
SELECT created_at, id FROM import_jobs WHERE id = %(job_id)s;

-- name: import_job_exists
SELECT 1 AS found FROM import_jobs WHERE id = %(job_id)s;

-- name: rejected_rows_list
SELECT row_number, column_name, reason, raw_values
FROM import_rejected_rows WHERE job_id = %(job_id)s ORDER BY row_number;
