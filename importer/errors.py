"""The one error hierarchy of the service; the HTTP layer maps each class to a status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import psycopg

if TYPE_CHECKING:
    from importer.model import Rejection


class ImporterError(Exception):
    """Base of every error the service raises on purpose. `code` is stable and snake_case.

    `message` is the text in Swedish (the default language: logs, the worker, old callers). An
    error raised before the request's language is known also carries its catalogue `key` and
    `params` (importer/messages.py): server/middlewares.py renders those in the language of the
    request (API.md, "Language"), and falls back to `message` for an error without a key.
    """

    code = "importer_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None,
                 key: str | None = None, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}
        self.key = key
        self.params = params or {}

    @classmethod
    def of(cls, key: str, /, *, params: dict[str, Any] | None = None, **kwargs: Any) -> Self:
        """The error of catalogue entry `key` filled with `params`: its `message` in Swedish,
        `key` and `params` kept for the request's language. `kwargs` go to the constructor."""
        from importer.messages import SWEDISH, render_in

        return cls(render_in(SWEDISH, key, **(params or {})), key=key, params=params, **kwargs)

    def message_in(self, language: str) -> str:
        """The message in `language`: rendered from `key` and `params` when the error has them,
        else `message` as it was raised."""
        if self.key is None:
            return self.message
        from importer.messages import render_in

        return render_in(language, self.key, **self.params)


class InvalidInput(ImporterError):
    """What a user sent cannot be imported (a bad request, an unreadable file): retrying cannot
    help. The worker fails such a job at once; a reader child process sends its code and
    message, and the worker raises it again as this class (importer/load/readers.py)."""

    code = "invalid_input"


class BadRequest(InvalidInput):
    code = "bad_request"


class Unauthorized(ImporterError):
    code = "unauthorized"


class Forbidden(ImporterError):
    """A valid token that may not do this (a non-operator asking for every user's jobs)."""

    code = "forbidden"


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


class TooManyRequests(ImporterError):
    """A per-user limit is reached (429); `retry_after` (seconds) goes out as `Retry-After`."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StreamRefused(ImporterError):
    """A progress stream refused before it opens (server/stream_slots.py); the client may try
    again after `retry_after` seconds. The connection is closed with the answer: a refused
    client holds no file descriptor."""

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TooManyStreams(StreamRefused):
    """The user already holds IMPORTER_MAX_STREAMS_PER_USER streams on this server process (429)."""

    code = "too_many_streams"


class ServerBusy(StreamRefused):
    """This server process holds as many streams as it can (IMPORTER_MAX_STREAMS, or fewer when
    its open-file limit cannot hold that many): 503."""

    code = "server_busy"


class RequestTimeout(ImporterError):
    """A request body that stopped coming, or came too slowly (server/body_timeout.py): 408,
    and the connection is closed."""

    code = "request_timeout"


class TooManyActiveJobs(TooManyRequests):
    code = "too_many_active_jobs"


class TooManyUploads(TooManyRequests):
    """The user already has IMPORTER_MAX_UPLOADS_PER_USER bodies being received by this process."""

    code = "too_many_uploads"


class StorageQuotaExceeded(TooManyRequests):
    """The user's stored uploads would exceed IMPORTER_MAX_STORED_BYTES_PER_USER."""

    code = "storage_quota_exceeded"


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


# A CHECK a request could have violated, by constraint name (schema/): the catalogue key of
# what was wrong with it.
REQUEST_CONSTRAINTS = {
    "year_wheels_title_length": "api.constraint_title",
    "year_wheels_year_range": "api.constraint_year",
    "import_jobs_file_name_length": "api.constraint_file_name",
    "import_jobs_idempotency_key_length": "api.constraint_idempotency_key",
    "users_email_length": "api.constraint_email",
}


def request_error(exc: psycopg.errors.IntegrityError) -> BadRequest | None:
    """The BadRequest a violated constraint means when a request's own value broke it (by the
    constraint's name); None for any other constraint: that one is a bug of ours, not the user's."""
    name = exc.diag.constraint_name or ""
    key = REQUEST_CONSTRAINTS.get(name)
    if key is None:
        return None
    return BadRequest.of(key, details={"constraint": name})
