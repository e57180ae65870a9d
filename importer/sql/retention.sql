-- Retention (importer/jobs/retention.py): finished imports older than IMPORTER_RETENTION_DAYS go,
-- with their rejected rows and e-mail records (ON DELETE CASCADE), the uploads no job refers to
-- any more, and Procrastinate's finished jobs. Each statement handles at most %(batch)s rows,
-- so that a purge never holds many locks or a long transaction; the task loops over batches.

-- name: retention_import_jobs_purge
-- Oldest first (import_jobs_finished_idx). SKIP LOCKED: a job a user is retrying right now is
-- left for the next run rather than waited for. retry_of of newer jobs becomes NULL.
DELETE FROM import_jobs
 WHERE id IN (SELECT id FROM import_jobs
               WHERE finished_at < now() - make_interval(days => %(days)s)
               ORDER BY finished_at
               LIMIT %(batch)s
               FOR UPDATE SKIP LOCKED)
RETURNING id, procrastinate_job_id;

-- name: retention_import_files_purge
-- Uploads older than the cutoff that no job and no preview refers to (a purged job's file was
-- stored before the job finished, so it is older too). A file a retry is being created from is
-- locked by that insert's foreign-key check and skipped.
DELETE FROM import_files
 WHERE id IN (SELECT f.id FROM import_files f
               WHERE f.created_at < now() - make_interval(days => %(days)s)
                 AND NOT EXISTS (SELECT 1 FROM import_jobs j WHERE j.file_id = f.id)
                 AND NOT EXISTS (SELECT 1 FROM import_previews p WHERE p.file_id = f.id)
               LIMIT %(batch)s
               FOR UPDATE SKIP LOCKED)
RETURNING id;

-- name: retention_previews_purge
-- Previews a day past their last change (API.md: then 404), and with each its file, unless a
-- job imports that file or another preview still shows it (previews keep their own expiry, not
-- the retention days). The file DELETE sees the previews as they were before this statement, so
-- the ones the first DELETE removes are left out by id.
WITH gone AS (
    DELETE FROM import_previews
     WHERE id IN (SELECT id FROM import_previews
                   WHERE expires_at < now()
                   ORDER BY expires_at
                   LIMIT %(batch)s
                   FOR UPDATE SKIP LOCKED)
    RETURNING id, file_id),
files AS (
    DELETE FROM import_files f
     USING gone
     WHERE f.id = gone.file_id
       AND NOT EXISTS (SELECT 1 FROM import_jobs j WHERE j.file_id = f.id)
       AND NOT EXISTS (SELECT 1 FROM import_previews p
                        WHERE p.file_id = f.id AND p.id NOT IN (SELECT id FROM gone))
    RETURNING f.id)
SELECT gone.id FROM gone;

-- name: retention_queue_jobs_purge
-- Procrastinate's own finished jobs (their events cascade): the criterion of its
-- delete_old_jobs (latest event older than the cutoff, any final status), in batches.
DELETE FROM procrastinate_jobs
 WHERE id IN (SELECT pj.id FROM procrastinate_jobs pj
               WHERE pj.status IN ('succeeded', 'failed', 'cancelled', 'aborted')
                 AND (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = pj.id)
                     < now() - make_interval(days => %(days)s)
               LIMIT %(batch)s
               FOR UPDATE SKIP LOCKED)
RETURNING id;
