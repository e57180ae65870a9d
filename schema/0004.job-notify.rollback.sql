DROP TRIGGER import_jobs_notify ON import_jobs;
DROP FUNCTION import_jobs_notify_v1();
DROP TRIGGER import_jobs_bump_seq ON import_jobs;
DROP FUNCTION import_jobs_bump_seq_v1();
DROP FUNCTION import_job_json_v1(import_jobs);
