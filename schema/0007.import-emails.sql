-- One completion or failure e-mail per import job: queued with the job's end, then sent or failed.
-- depends: 0006.inspection-views

-- The row is written in the same transaction that ends the job and defers the sending task, so
-- an e-mail that should go out is never lost without a trace; a retried task reads `status`
-- and does not send twice after a success.
CREATE TABLE import_emails (
    job_id      uuid PRIMARY KEY REFERENCES import_jobs (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    recipient   text NOT NULL,
    status      text NOT NULL DEFAULT 'queued',
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    message_id  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_emails_kind_valid CHECK (kind IN ('success', 'failure')),
    CONSTRAINT import_emails_status_valid CHECK (status IN ('queued', 'sent', 'failed')),
    CONSTRAINT import_emails_recipient_length CHECK (char_length(recipient) BETWEEN 3 AND 320),
    CONSTRAINT import_emails_attempts_nonnegative CHECK (attempts >= 0),
    CONSTRAINT import_emails_sent_has_time CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT import_emails_failed_has_error CHECK (status <> 'failed' OR last_error IS NOT NULL),
    CONSTRAINT import_emails_last_error_length CHECK (last_error IS NULL OR char_length(last_error) <= 2000)
);
CREATE INDEX import_emails_unsent_idx ON import_emails (created_at) WHERE status <> 'sent';
COMMENT ON COLUMN import_emails.attempts IS 'Sending attempts made so far (SMTP conversations started or outbox writes).';
COMMENT ON COLUMN import_emails.last_error IS 'The error of the latest failed attempt; kept after a later success for the record.';

GRANT SELECT, INSERT, UPDATE ON import_emails TO importer_worker;
GRANT SELECT ON import_emails TO importer_api;

ALTER TABLE import_emails ENABLE ROW LEVEL SECURITY;
-- The API sees the e-mails of the jobs it can see (import_jobs' own policy applies in the subquery).
CREATE POLICY import_emails_owner ON import_emails FOR SELECT TO importer_api
    USING (EXISTS (SELECT 1 FROM import_jobs j WHERE j.id = job_id));
