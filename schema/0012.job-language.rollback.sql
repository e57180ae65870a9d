-- Undo 0012: jobs are Swedish only again.
ALTER TABLE import_jobs DROP COLUMN language;
