-- Undo 0008: the function goes; jobs keep their rows.
DROP FUNCTION import_job_end_v1(uuid, text, text[], integer, text, text, text, jsonb, integer, integer);
