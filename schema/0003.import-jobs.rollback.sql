DROP TABLE import_rejected_rows;
DROP TABLE import_jobs;
DROP TABLE import_files;
