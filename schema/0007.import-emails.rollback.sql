-- Undo 0007: the e-mail records go; the jobs keep their rows.
DROP TABLE import_emails;
