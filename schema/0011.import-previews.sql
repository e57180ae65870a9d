-- Review before import: a preview is a stored upload planned against a wheel, with the choices
-- the person made (mapping, date order, sheet), kept for a day after its last change.
-- depends: 0009.spreadsheet-media-types 0010.job-warnings

CREATE TABLE import_previews (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    wheel_id    uuid NOT NULL REFERENCES year_wheels (id) ON DELETE CASCADE,
    -- The file outlives the preview when an import uses it (import_jobs.file_id RESTRICT);
    -- retention deletes a file once neither a job nor a preview refers to it.
    file_id     uuid NOT NULL REFERENCES import_files (id) ON DELETE RESTRICT,
    file_name   text NOT NULL,
    mapping     jsonb,
    date_order  text,
    sheet       text,
    -- The preview object of API.md as last computed (its id, links and expiry are added on read).
    result      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    CONSTRAINT import_previews_file_name_length CHECK (char_length(file_name) BETWEEN 1 AND 255),
    CONSTRAINT import_previews_date_order_valid CHECK (
        date_order IS NULL OR date_order IN ('day_first', 'month_first')),
    CONSTRAINT import_previews_sheet_length CHECK (sheet IS NULL OR char_length(sheet) BETWEEN 1 AND 255),
    CONSTRAINT import_previews_expiry_after_change CHECK (expires_at > updated_at)
);
CREATE INDEX import_previews_user_idx ON import_previews (user_id);
CREATE INDEX import_previews_expires_idx ON import_previews (expires_at);
CREATE INDEX import_previews_file_idx ON import_previews (file_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON import_previews TO importer_api, importer_worker;
ALTER TABLE import_previews ENABLE ROW LEVEL SECURITY;
-- Like a job: a preview belongs to its user, of one of the user's wheels and files.
CREATE POLICY import_previews_owner ON import_previews TO importer_api
    USING (user_id = importer_current_user_id())
    WITH CHECK (user_id = importer_current_user_id()
                AND EXISTS (SELECT 1 FROM year_wheels w WHERE w.id = wheel_id)
                AND EXISTS (SELECT 1 FROM import_files f WHERE f.id = file_id));
