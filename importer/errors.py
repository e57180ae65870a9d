"""The one error hierarchy of the service; the HTTP layer maps each class to a status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from importer.model import Rejection


class ImporterError(Exception):
    """Base of every error the service raises on purpose. `code` is stable and snake_case."""

    code = "importer_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class InvalidInput(ImporterError):
    """What a user sent cannot be imported (a bad request, an unreadable file): retrying cannot
    help. The worker fails such a job at once; a reader child process sends its code and
    message, and the worker raises it again as this class (importer/load/readers.py)."""

    code = "invalid_input"


class BadRequest(InvalidInput):
    code = "bad_request"


class Unauthorized(ImporterError):
    code = "unauthorized"


class NotFound(ImporterError):
    code = "not_found"


class Conflict(ImporterError):
    code = "conflict"


class PayloadTooLarge(ImporterError):
    code = "payload_too_large"


class UnsupportedMediaType(ImporterError):
    code = "unsupported_media_type"


class UnreadableFile(InvalidInput):
    """The file cannot be an import at all (not text, no header, no usable column, no rows).

    Retrying cannot help: the worker fails such a job at once, the API answers 422.
    """

    code = "unreadable_file"


class TooManyActiveJobs(ImporterError):
    code = "too_many_active_jobs"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ImportCancelled(ImporterError):
    """Raised inside the loader when it sees its job is `cancelling`; rolls the data back."""

    code = "cancelled"


class TransientImportError(ImporterError):
    """A failure a later attempt may not meet (lost connection, deadlock): retried by the queue."""

    code = "internal_error"


class NoValidRows(ImporterError):
    """No row of the file could become an activity; `rejections` (at most the stored cap) say why."""

    code = "no_valid_rows"

    def __init__(self, message: str, rejections: list[Rejection], rejected: int, processed: int):
        super().__init__(message)
        self.rejections = rejections
        self.rejected = rejected
        self.processed = processed


class Superseded(Exception):
    """Another attempt of the same job owns its row now (this run was presumed dead): the
    attempt stops, its data transaction rolls back, and it records nothing."""


# A CHECK a request could have violated, by constraint name (schema/): what was wrong with it.
REQUEST_CONSTRAINTS = {
    "year_wheels_title_length": "title must be 1 to 200 characters.",
    "year_wheels_year_range": "year must be between 1900 and 2100.",
    "import_jobs_file_name_length": "file_name must be 1 to 255 characters.",
    "import_jobs_idempotency_key_length": "Idempotency-Key must be 1 to 255 characters.",
    "users_email_length": "The token's email must be 3 to 320 characters.",
}


def request_error(exc: psycopg.errors.IntegrityError) -> BadRequest | None:
    """The BadRequest a violated constraint means when a request's own value broke it (by the
    constraint's name); None for any other constraint: that one is a bug of ours, not the user's."""
    name = exc.diag.constraint_name or ""
    message = REQUEST_CONSTRAINTS.get(name)
    return None if message is None else BadRequest(message, details={"constraint": name})
