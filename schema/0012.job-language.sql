-- The language of the request that started a job (API.md, "Language": Swedish by default,
-- English when Accept-Language prefers it): its texts for a person (current_step, warnings'
-- messages, its error) are rendered in it from the catalogue (importer/locale), by the API and
-- by the worker. The SQL that writes a current_step takes its texts by language as a jsonb
-- parameter ({"sv": ..., "en": ...}) and picks the job's; no text lives in the schema any more.
-- depends: 0011.import-previews

ALTER TABLE import_jobs
    ADD COLUMN language text NOT NULL DEFAULT 'sv',
    ADD CONSTRAINT import_jobs_language_known CHECK (language IN ('sv', 'en'));

COMMENT ON COLUMN import_jobs.language IS
    'Language of the request that started the job: its current_step, warnings and error are in it.';
