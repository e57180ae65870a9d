-- The progress streams: the hub's LISTEN connection and what the SSE views read.
--
-- hub_listen starts listening and, run again every few seconds, proves that the connection
-- still answers (a half-open TCP connection stays silent); LISTEN again is a no-op. It starts
-- with LISTEN so that pg_stat_activity shows the hub as `LISTEN ...` whatever it last ran, and
-- the database time it returns bounds the re-read after a reconnect.

-- name: hub_listen
LISTEN import_jobs; SELECT now() AS now;

-- name: hub_jobs_reread
-- After a lost LISTEN connection: every job a client streams, and every job of a user with an
-- open /api/events that is active or changed since shortly before the connection was lost.
-- Runs as the owner: the hub routes by user_id like the trigger, and strips it before sending.
SELECT import_job_json_v2(j) || jsonb_build_object('user_id', j.user_id) AS job
  FROM import_jobs j
 WHERE j.id = ANY(%(job_ids)s::uuid[])
    OR (j.user_id = ANY(%(user_ids)s::uuid[])
        AND (j.status IN ('pending', 'processing', 'cancelling') OR j.updated_at >= %(since)s));

-- name: events_user_jobs
-- The first events of /api/events (under as_user): active jobs and those finished in the last
-- day, at most the newest 100, oldest first so that a client applies them in order.
SELECT job FROM (
    SELECT import_job_json_v2(j) AS job, j.created_at, j.id
      FROM import_jobs j
     WHERE j.user_id = %(user_id)s
       AND (j.status IN ('pending', 'processing', 'cancelling')
            OR j.finished_at > now() - interval '24 hours')
     ORDER BY j.created_at DESC, j.id DESC
     LIMIT 100
) recent
ORDER BY created_at, id;
