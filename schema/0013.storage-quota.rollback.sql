-- Undo 0013: the plain index on the owner again.
CREATE INDEX import_files_user_idx ON import_files (user_id);
DROP INDEX import_files_user_size_idx;
