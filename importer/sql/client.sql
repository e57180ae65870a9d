-- Queries of the command-line clients (`importer jobs`), run as the database owner.

-- name: import_jobs_overview_list
-- Newest first; each filter applies only when given. duration: run time so far for an active
-- job, start to finish for a finished one, NULL for one that never started. wheel_title: the
-- wheel the import went to (NULL once the wheel is deleted).
SELECT o.id,
       o.email,
       o.wheel_id,
       w.title AS wheel_title,
       o.mode,
       o.file_name,
       o.status,
       o.progress,
       o.processed_items,
       o.total_items,
       o.rejected_rows,
       o.attempts,
       o.worker_id,
       o.queue_status,
       o.created_at,
       coalesce(o.finished_at, CASE WHEN o.started_at IS NOT NULL THEN now() END) - o.started_at AS duration
  FROM import_jobs_overview o
  LEFT JOIN year_wheels w ON w.id = o.wheel_id
 WHERE (%(status)s::text IS NULL OR o.status = %(status)s::text)
   AND (%(user_id)s::uuid IS NULL OR o.user_id = %(user_id)s::uuid)
 ORDER BY o.created_at DESC, o.id DESC
 LIMIT %(limit)s;
