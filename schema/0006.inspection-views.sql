-- Views for operators in psql: each import beside its Procrastinate job.
-- depends: 0005.roles-rls

-- One row per import job: our state, the queue's state (status, attempts, worker and its last
-- heartbeat) and timings taken from procrastinate_events.
CREATE VIEW import_jobs_overview AS
SELECT j.id,
       j.user_id,
       u.email,
       j.wheel_id,
       j.file_name,
       j.mode,
       j.status,
       j.step,
       j.progress,
       j.processed_items,
       j.total_items,
       j.rejected_rows,
       j.created_items,
       j.attempts,
       j.error_code,
       j.retry_of,
       j.created_at,
       j.started_at,
       j.finished_at,
       j.finished_at - j.started_at AS run_time,
       coalesce(j.started_at, now()) - j.created_at AS queue_wait,
       j.procrastinate_job_id,
       pj.status AS queue_status,
       pj.attempts AS queue_attempts,
       pj.worker_id,
       w.last_heartbeat AS worker_heartbeat,
       ev.deferred_at,
       ev.first_started_at,
       ev.last_started_at,
       ev.ended_at
  FROM import_jobs j
  JOIN users u ON u.id = j.user_id
  LEFT JOIN procrastinate_jobs pj ON pj.id = j.procrastinate_job_id
  LEFT JOIN procrastinate_workers w ON w.id = pj.worker_id
  LEFT JOIN LATERAL (
      SELECT min(e.at) FILTER (WHERE e.type = 'deferred') AS deferred_at,
             min(e.at) FILTER (WHERE e.type = 'started') AS first_started_at,
             max(e.at) FILTER (WHERE e.type = 'started') AS last_started_at,
             max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed', 'cancelled', 'aborted')) AS ended_at
        FROM procrastinate_events e
       WHERE e.job_id = j.procrastinate_job_id
  ) ev ON true;
COMMENT ON VIEW import_jobs_overview IS 'Each import job beside its Procrastinate job: queue status, attempts, worker, timings.';

-- Jobs that look stuck: active, and either never picked up for a minute or run by a worker
-- whose heartbeat is older than a minute.
CREATE VIEW import_jobs_stuck AS
SELECT *
  FROM import_jobs_overview
 WHERE status IN ('pending', 'processing', 'cancelling')
   AND ((status = 'pending' AND created_at < now() - interval '1 minute')
        OR (status <> 'pending' AND (worker_heartbeat IS NULL
                                     OR worker_heartbeat < now() - interval '1 minute')));
COMMENT ON VIEW import_jobs_stuck IS 'Active imports not picked up for a minute, or whose worker stopped heart-beating.';
