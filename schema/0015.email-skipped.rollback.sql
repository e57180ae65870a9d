-- Undo 0014: skipped records go with the column that says why.
DELETE FROM import_emails WHERE status = 'skipped';
ALTER TABLE import_emails DROP CONSTRAINT import_emails_skip_reason_length;
ALTER TABLE import_emails DROP CONSTRAINT import_emails_skipped_has_reason;
ALTER TABLE import_emails DROP CONSTRAINT import_emails_status_valid;
ALTER TABLE import_emails ADD CONSTRAINT import_emails_status_valid
    CHECK (status IN ('queued', 'sent', 'failed'));
ALTER TABLE import_emails DROP COLUMN skip_reason;
