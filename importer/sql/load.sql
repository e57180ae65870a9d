-- The data of an import (importer/load/): the stored file, the wheel's lock and its rows, the
-- COPY of items and the rejected rows. The job row itself is importer/sql/jobs.sql's.

-- name: import_file_open
-- The file's type and size, and its content when the worker reads it in its own process
-- (smaller than `inline_below` bytes and none of the `in_child` types): one round trip for a
-- small file; a large one is left in place (EXTERNAL storage: nothing of it is read here).
SELECT media_type, size_bytes,
       CASE WHEN size_bytes < %(inline_below)s AND media_type <> ALL (%(in_child)s::text[])
            THEN content END AS content
  FROM import_files WHERE id = %(file_id)s;

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

-- name: wheel_lock
-- Two imports into one wheel serialise here, for the whole data transaction. NO KEY UPDATE, not
-- UPDATE: the foreign-key check of a new import_jobs row takes KEY SHARE on its wheel, which
-- FOR UPDATE would block, so every submit into a wheel waited for its running import to commit.
SELECT id FROM year_wheels WHERE id = %(wheel_id)s FOR NO KEY UPDATE;

-- name: wheel_lock_now
-- The same lock when no other import holds it (no row when one does, and nothing waits): the
-- usual case costs one statement, without the slices of lock_timeout_short and a savepoint.
SELECT id FROM year_wheels WHERE id = %(wheel_id)s FOR NO KEY UPDATE SKIP LOCKED;

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

-- name: items_duplicates_delete
-- Items this import wrote that the wheel had already (API.md: the same name ignoring case and
-- surrounding space, the same dates, ring and group): deleted in one set-based statement at the
-- end of the data transaction, so importing a file twice leaves the wheel as after the first.
WITH skipped AS (
    DELETE FROM items n
     USING items o
     WHERE n.wheel_id = %(wheel_id)s AND n.import_job_id = %(job_id)s
       AND o.wheel_id = %(wheel_id)s AND o.import_job_id IS DISTINCT FROM %(job_id)s
       AND lower(btrim(o.name)) = lower(btrim(n.name))
       AND o.start_date = n.start_date AND o.end_date = n.end_date
       AND o.ring_id = n.ring_id AND o.group_id = n.group_id
    RETURNING n.id)
SELECT count(*) AS n FROM skipped;

-- name: items_duplicates_count
-- The same comparison for an import that keeps its duplicates (skip_duplicates = false): only
-- counted, for the duplicate_items warning.
SELECT count(*) AS n FROM items n
 WHERE n.wheel_id = %(wheel_id)s AND n.import_job_id = %(job_id)s
   AND EXISTS (SELECT 1 FROM items o
                WHERE o.wheel_id = %(wheel_id)s AND o.import_job_id IS DISTINCT FROM %(job_id)s
                  AND lower(btrim(o.name)) = lower(btrim(n.name))
                  AND o.start_date = n.start_date AND o.end_date = n.end_date
                  AND o.ring_id = n.ring_id AND o.group_id = n.group_id);

-- name: items_copy
COPY items (wheel_id, page_id, ring_id, group_id, label_id, name, start_date, end_date,
            description, cross_year_group_id, import_job_id) FROM STDIN;
