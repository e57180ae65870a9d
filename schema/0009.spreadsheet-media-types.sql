-- Workbooks as uploads: import_files keeps the bytes with the media type their content has
-- (xlsx, xlsm, xls, ods besides CSV and the structured JSON form), and a job remembers which
-- sheet its request named (NULL: the first visible worksheet with data).
-- depends: 0008.import-job-end

ALTER TABLE import_files
    DROP CONSTRAINT import_files_media_type_valid,
    ADD CONSTRAINT import_files_media_type_valid CHECK (media_type IN (
        'text/csv',
        'application/json',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'application/vnd.ms-excel.sheet.macroEnabled.12',
        'application/vnd.ms-excel',
        'application/vnd.oasis.opendocument.spreadsheet'));

COMMENT ON COLUMN import_files.media_type IS
    'What the bytes are, decided from the content (never the name or the declared type): '
    'text/csv, application/json (the structured form) or a workbook''s media type.';

ALTER TABLE import_jobs
    ADD COLUMN sheet text,
    ADD CONSTRAINT import_jobs_sheet_length CHECK (sheet IS NULL OR char_length(sheet) BETWEEN 1 AND 255);

COMMENT ON COLUMN import_jobs.sheet IS
    'The workbook sheet the request named; NULL: the first visible worksheet with data.';
