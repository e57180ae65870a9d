-- An e-mail that is due but cannot go out because its recipient is not one valid address
-- (a token's `email` such as "a@x.se, b@y.se"): recorded as `skipped`, with the reason.
-- depends: 0014.operator-role

ALTER TABLE import_emails ADD COLUMN skip_reason text;
COMMENT ON COLUMN import_emails.skip_reason IS
    'Why a due e-mail was not sent (status skipped), e.g. a recipient that is not one valid address.';
ALTER TABLE import_emails DROP CONSTRAINT import_emails_status_valid;
ALTER TABLE import_emails ADD CONSTRAINT import_emails_status_valid
    CHECK (status IN ('queued', 'sent', 'failed', 'skipped'));
ALTER TABLE import_emails ADD CONSTRAINT import_emails_skipped_has_reason
    CHECK ((status = 'skipped') = (skip_reason IS NOT NULL));
ALTER TABLE import_emails ADD CONSTRAINT import_emails_skip_reason_length
    CHECK (skip_reason IS NULL OR char_length(skip_reason) <= 2000);
