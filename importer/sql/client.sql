-- Queries of the command-line clients (`importer jobs`), run as the database owner.

-- name: import_jobs_overview_list
-- Newest first; each filter applies only when given. duration: run time so far for an active
-- job, start to finish for a finished one, NULL for one that never started.
SELECT id,
       email,
       file_name,
       status,
       progress,
       processed_items,
       total_items,
       rejected_rows,
       attempts,
       worker_id,
       queue_status,
       created_at,
       coalesce(finished_at, CASE WHEN started_at IS NOT NULL THEN now() END) - started_at AS duration
  FROM import_jobs_overview
 WHERE (%(status)s::text IS NULL OR status = %(status)s::text)
   AND (%(user_id)s::uuid IS NULL OR user_id = %(user_id)s::uuid)
 ORDER BY created_at DESC, id DESC
 LIMIT %(limit)s;
