"""The import job's lifecycle: every transition of `import_jobs`, and the only module naming them.

    submit / retry ──▶ pending ──claim──▶ processing ──complete──▶ completed
                          │                  │  ╰──fail──▶ failed      (retry: a new job)
                       cancel             cancel ──▶ cancelling ──▶ cancelled
                          ╰──▶ cancelled     ╰──requeue──▶ pending (a transient error)
    settle: an active job whose queue task ended without recording an end.

The API's transitions (`submit`, `retry`, `cancel`) open their own pipelined transaction as the
request's user (importer.db.as_user: row-level security makes another user's job a 404). The
worker's (`claim`, `write_progress`, `complete`, `end_attempt`, `settle_orphans`) run on the
connection they are given, in its transaction: `complete` belongs in the data transaction, so
that `completed` becomes visible with the items. Every end that is not a completion goes through
one SQL function, `import_job_end_v1` (schema/0008).

The package is one owner in three files: `values` (what the transitions take and give),
`requests` (the API's) and `attempts` (the worker's); callers use `lifecycle.<name>`.
"""

from importer.jobs.lifecycle.attempts import (
    cancelled,
    claim,
    complete,
    fail,
    requeue,
    settle_orphans,
    status_of,
    write_progress,
)
from importer.jobs.lifecycle.requests import (
    cancel,
    exists,
    get,
    get_on,
    headers,
    list_jobs,
    retry,
    store_file,
    store_file_within_quota,
    submit,
)
from importer.jobs.lifecycle.spooled import forget, quota_exceeded, store_spooled
from importer.jobs.lifecycle.values import (
    IMPORT_QUEUE,
    IMPORT_TASK,
    AlreadySubmitted,
    Claim,
    FileContent,
    FileNotes,
    JobObject,
    NewJob,
    ProgressReport,
    SpooledFile,
    Submitted,
    Totals,
)

__all__ = [
    "IMPORT_QUEUE", "IMPORT_TASK", "AlreadySubmitted", "Claim", "FileContent", "FileNotes", "JobObject", "NewJob",
    "ProgressReport", "SpooledFile", "Submitted", "Totals", "cancel", "cancelled", "claim", "complete",
    "exists", "fail", "forget", "get", "get_on", "headers", "list_jobs", "quota_exceeded",
    "requeue", "retry", "settle_orphans", "status_of", "store_file", "store_file_within_quota",
    "store_spooled", "submit", "write_progress",
]
