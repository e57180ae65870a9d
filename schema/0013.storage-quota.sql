-- The per-user storage quota (API.md: IMPORTER_MAX_STORED_BYTES_PER_USER): a user's stored
-- uploads are the sum of size_bytes over their rows of import_files. Covering the index with
-- size_bytes makes that sum an index-only scan, cheap enough to run before every upload's body
-- is read and again, under the user lock, where the file is inserted. No running total to keep
-- in step: retention deleting a file frees its bytes by deleting its row.
-- depends: 0012.job-language

CREATE INDEX import_files_user_size_idx ON import_files (user_id) INCLUDE (size_bytes);
DROP INDEX import_files_user_idx;
