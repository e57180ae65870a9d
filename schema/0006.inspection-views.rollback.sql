DROP VIEW import_jobs_stuck;
DROP VIEW import_jobs_overview;
