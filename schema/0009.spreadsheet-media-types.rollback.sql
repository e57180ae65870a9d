-- Undo 0009. While workbooks are stored the narrower CHECK cannot be added and the rollback
-- fails, on purpose: code before 0009 would read their bytes as CSV. Purge those jobs first.
ALTER TABLE import_files
    DROP CONSTRAINT import_files_media_type_valid,
    ADD CONSTRAINT import_files_media_type_valid CHECK (media_type IN ('text/csv', 'application/json'));
COMMENT ON COLUMN import_files.media_type IS NULL;

ALTER TABLE import_jobs DROP COLUMN sheet;
