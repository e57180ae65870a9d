-- The completion e-mail: what a message says about its job, and the record of sending it.

-- name: email_job_facts
-- Everything the decision and the message need about one job, with its owner's address.
SELECT j.id AS job_id,
       j.wheel_id,
       w.title AS wheel_title,
       j.file_name,
       j.mode,
       j.status,
       j.notify,
       j.total_items,
       j.rejected_rows,
       j.created_rings,
       j.created_groups,
       j.created_labels,
       j.created_pages,
       j.created_items,
       j.error_code,
       j.error_message,
       j.started_at,
       j.finished_at,
       extract(epoch FROM j.finished_at - j.started_at)::float8 AS run_seconds,
       u.email AS recipient,
       j.language
  FROM import_jobs j
  JOIN users u ON u.id = j.user_id
  LEFT JOIN year_wheels w ON w.id = j.wheel_id
 WHERE j.id = %(job_id)s;

-- name: email_record_queue
-- At most one e-mail per job: a second end of the same job (it cannot happen, but) queues nothing.
INSERT INTO import_emails (job_id, kind, recipient)
VALUES (%(job_id)s, %(kind)s, %(recipient)s)
ON CONFLICT (job_id) DO NOTHING
RETURNING job_id;

-- name: email_record_skip
-- A due e-mail that will not go out (its recipient is not one valid address), and why: no task
-- is queued for it, and the record says so instead of a silence.
INSERT INTO import_emails (job_id, kind, recipient, status, skip_reason)
VALUES (%(job_id)s, %(kind)s, left(%(recipient)s, 320), 'skipped', left(%(reason)s, 2000))
ON CONFLICT (job_id) DO NOTHING;

-- name: email_record_claim
-- One sending attempt starts: counted before the SMTP conversation, so a crash mid-send still
-- shows in `attempts`. Nothing comes back once the message was sent.
UPDATE import_emails
   SET attempts = attempts + 1, status = 'queued', updated_at = now()
 WHERE job_id = %(job_id)s AND status NOT IN ('sent', 'skipped')
RETURNING job_id, kind, recipient, attempts;

-- name: email_record_get
SELECT job_id, kind, recipient, status, attempts, last_error, skip_reason, message_id, created_at, sent_at
  FROM import_emails
 WHERE job_id = %(job_id)s;

-- name: email_record_sent
UPDATE import_emails
   SET status = 'sent', sent_at = now(), message_id = %(message_id)s, updated_at = now()
 WHERE job_id = %(job_id)s;

-- name: email_record_error
-- A failed attempt; `final` marks the last one, after which nobody will try again.
UPDATE import_emails
   SET last_error = left(%(error)s, 2000),
       status = CASE WHEN %(final)s THEN 'failed' ELSE status END,
       updated_at = now()
 WHERE job_id = %(job_id)s;
