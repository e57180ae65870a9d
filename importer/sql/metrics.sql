-- /metrics (importer/metrics.py): what lives in the database, read in one statement per scrape
-- (cached for a couple of seconds). Durations and rows/s come as counts per bucket index of
-- width_bucket over the given bounds; the collector turns them into cumulative histograms.

-- name: metrics_snapshot
WITH done AS (
    SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds, processed_items
      FROM import_jobs
     WHERE status = 'completed' AND started_at IS NOT NULL AND finished_at >= started_at
), todo AS (
    SELECT pj.queue_name,
           coalesce(pj.scheduled_at,
                    (SELECT min(e.at) FROM procrastinate_events e
                      WHERE e.job_id = pj.id AND e.type = 'deferred')) AS since
      FROM procrastinate_jobs pj
     WHERE pj.status = 'todo' AND (pj.scheduled_at IS NULL OR pj.scheduled_at <= now())
)
SELECT
    (SELECT coalesce(jsonb_object_agg(status, n), '{}')
       FROM (SELECT status, count(*) AS n FROM import_jobs GROUP BY status) s) AS jobs_by_status,
    (SELECT coalesce(jsonb_object_agg(queue_name, jsonb_build_object(
                'depth', n, 'oldest_seconds', extract(epoch FROM now() - oldest))), '{}')
       FROM (SELECT queue_name, count(*) AS n, min(since) AS oldest FROM todo GROUP BY queue_name) s) AS queues,
    (SELECT coalesce(jsonb_object_agg(status, n), '{}')
       FROM (SELECT status, count(*) AS n FROM import_emails GROUP BY status) s) AS emails_by_status,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(i, n, total)), '[]')
       FROM (SELECT width_bucket(seconds, %(duration_bounds)s::float8[]) AS i, count(*) AS n,
                    sum(seconds) AS total
               FROM done GROUP BY 1) s) AS durations,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(i, n, total)), '[]')
       FROM (SELECT width_bucket(processed_items / seconds, %(rate_bounds)s::float8[]) AS i, count(*) AS n,
                    sum(processed_items / seconds) AS total
               FROM done WHERE seconds > 0 GROUP BY 1) s) AS rates;
