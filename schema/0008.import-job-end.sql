-- The one way an import job stops running, as a function: the worker, the API and recovery
-- all end jobs through it, so the list of what an end resets exists once.
-- depends: 0007.import-emails

-- The attempt `p_attempt` (NULL: whichever) of a job in one of the `p_from` statuses ends
-- `failed` or `cancelled`, or goes back to the queue (`pending`) to be run again. Nothing of
-- the attempt was committed (its data transaction rolled back, or never began), so the counts
-- of what it created go back to 0; rows read and rejected are kept (they say how far it got).
-- Returns the ended row, or no row when the job was not in that state (another attempt owns
-- it, or it has ended already): the caller decides what that means.
CREATE FUNCTION import_job_end_v1(
    p_job_id uuid,
    p_status text,
    p_from text[],
    p_attempt integer DEFAULT NULL,
    p_current_step text DEFAULT NULL,
    p_error_code text DEFAULT NULL,
    p_error_message text DEFAULT NULL,
    p_error_details jsonb DEFAULT NULL,
    p_processed integer DEFAULT 0,
    p_rejected integer DEFAULT 0
) RETURNS SETOF import_jobs
LANGUAGE sql AS $$
    UPDATE import_jobs
       SET status = p_status,
           finished_at = CASE WHEN p_status = 'pending' THEN NULL ELSE clock_timestamp() END,
           step = CASE WHEN p_status = 'pending' THEN 'queued' ELSE 'done' END,
           current_step = left(coalesce(p_current_step, CASE p_status
               WHEN 'failed' THEN 'Importen misslyckades'
               WHEN 'cancelled' THEN 'Import avbruten'
               ELSE 'Väntar på att starta...' END), 200),
           eta_seconds = NULL,
           created_rings = 0, created_groups = 0, created_labels = 0, created_pages = 0,
           created_items = 0,
           error_code = p_error_code,
           error_message = left(p_error_message, 2000),
           error_details = p_error_details,
           processed_items = greatest(processed_items, p_processed),
           rejected_rows = greatest(rejected_rows, p_rejected)
     WHERE id = p_job_id
       AND status = ANY (p_from)
       AND (p_attempt IS NULL OR attempts = p_attempt)
    RETURNING *
$$;

COMMENT ON FUNCTION import_job_end_v1 IS
    'Ends an import job failed or cancelled, or puts it back in the queue (pending); see schema/0008.';
