"""Admission of SSE streams: at most so many per user and so many in all, counted per server process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import Counter

from importer.errors import ServerBusy, TooManyStreams

# Seconds a refused client is asked to wait: a stream of its own (or someone's) must end first,
# which takes a closed tab or a finished job, not milliseconds.
RETRY_AFTER_SECONDS = 5

# On /metrics with the process' other metrics (the default registry): a user at the cap or a
# process at its limit shows here before anyone complains.
REFUSED = Counter("importer_sse_streams_refused", "SSE streams this process refused before they opened; "
                  "`reason` is user (IMPORTER_MAX_STREAMS_PER_USER, 429) or process (IMPORTER_MAX_STREAMS, 503)",
                  labelnames=["reason"])


class StreamSlots:
    """How many streams each user and the whole process hold; `hold(user)` admits one more or refuses.

    Counted in this process only (each server process has its own file descriptors to protect).
    A slot is taken before the stream opens (before its subscription and its database read) and
    given back when `hold`'s block ends, however it ends: the client left, the job ended, the
    server shut down, an error, a cancelled handler.
    """

    def __init__(self, *, per_user: int, total: int):
        self.per_user = per_user
        self.total = total
        self.open = 0
        self._by_user: dict[str, int] = {}

    def of_user(self, user_id: Any) -> int:
        """Streams `user_id` holds now."""
        return self._by_user.get(str(user_id), 0)

    @contextlib.contextmanager
    def hold(self, user_id: Any) -> Iterator[None]:
        """One slot for `user_id` for the block. Raises TooManyStreams (429) when the user holds
        `per_user` streams, ServerBusy (503) when the process holds `total`; both before anything
        is taken."""
        key = str(user_id)
        held = self._by_user.get(key, 0)
        if held >= self.per_user:
            REFUSED.labels(reason="user").inc()
            raise TooManyStreams.of("api.too_many_streams", params={"open": held, "limit": self.per_user},
                                    retry_after=RETRY_AFTER_SECONDS,
                                    details={"open": held, "limit": self.per_user})
        if self.open >= self.total:
            REFUSED.labels(reason="process").inc()
            raise ServerBusy.of("api.server_busy", params={"limit": self.total},
                                retry_after=RETRY_AFTER_SECONDS, details={"limit": self.total})
        self._by_user[key] = held + 1
        self.open += 1
        try:
            yield
        finally:
            self.open -= 1
            left = self._by_user[key] - 1
            if left:
                self._by_user[key] = left
            else:
                del self._by_user[key]  # no entry per user who ever streamed


# The app's stream slots, made by create_app from the settings (serve.py has fitted
# `max_streams` to the process' open-file limit by then).
STREAM_SLOTS = web.AppKey("stream_slots", StreamSlots)
