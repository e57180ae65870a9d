"""The one error hierarchy of the service; the HTTP layer maps each class to a status."""

from __future__ import annotations

from typing import Any


class ImporterError(Exception):
    """Base of every error the service raises on purpose. `code` is stable and snake_case."""

    code = "importer_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class BadRequest(ImporterError):
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


class UnreadableFile(ImporterError):
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
