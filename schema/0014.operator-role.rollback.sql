-- Undo 0013: no operator policies; operators are ordinary users again.
DROP POLICY import_jobs_operator_cancel ON import_jobs;
DROP POLICY import_jobs_operator_read ON import_jobs;
DROP FUNCTION importer_current_is_operator();
