"""The server process' open-file limit: raised to the hard limit at start-up, and the stream cap fitted under it.

Every SSE stream holds a socket. A process whose streams used up its file descriptors could no
longer accept any connection (/healthz, other users), open a database connection or reconnect
its LISTEN connection; so the stream cap leaves room for those.
"""

from __future__ import annotations

import logging
import os
import resource

import attrs

from importer.settings import Settings

log = logging.getLogger(__name__)

#: Descriptors kept for what is not a stream: requests in flight (/healthz, /readyz, other
#: users' calls, uploads and their refusals), preview and spreadsheet children's pipes, log
#: files. The database's connections and what the process holds at start-up come on top.
REQUEST_RESERVE = 64
#: Linux's ceiling for a soft limit when the hard one is unlimited (fs.nr_open's default).
NR_OPEN_DEFAULT = 1 << 20


def raise_soft_limit() -> tuple[int, int, int]:
    """(soft limit before, soft limit now, hard limit) of RLIMIT_NOFILE, after raising the soft
    limit as far as the hard one allows. A refusal leaves the limit as it was."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else _nr_open()
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # e.g. macOS refuses above OPEN_MAX
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
        else:
            return soft, target, hard
    return soft, soft, hard


def _nr_open() -> int:
    try:
        with open("/proc/sys/fs/nr_open") as f:
            return int(f.read())
    except (OSError, ValueError):
        return NR_OPEN_DEFAULT


def open_now() -> int:
    """File descriptors this process holds now (0 where the system does not say)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return max(len(os.listdir(folder)) - 1, 0)  # less the one listdir itself opened
        except OSError:
            continue
    return 0


def stream_room(limit: int, *, in_use: int, database: int, reserve: int = REQUEST_RESERVE) -> int:
    """Streams that fit under `limit` descriptors once `in_use`, `database` connections and
    `reserve` are set aside; at least 1."""
    return max(limit - in_use - database - reserve, 1)


def fit_streams(settings: Settings, *, database: int) -> Settings:
    """`settings` with `max_streams` lowered to what the (raised) open-file limit can hold next
    to `database` connections and the reserve; logged once when it is lowered."""
    before, soft, hard = raise_soft_limit()
    if soft != before:
        log.info("open-file limit raised from %d to %d (the hard limit)", before, soft)
    if soft == resource.RLIM_INFINITY:
        return settings
    in_use = open_now()
    room = stream_room(soft, in_use=in_use, database=database)
    if room >= settings.max_streams:
        return settings
    log.warning("IMPORTER_MAX_STREAMS lowered from %d to %d: the open-file limit is %d (hard %d), and "
                "%d are kept for the process (%d open now), the database (%d connections) and other "
                "requests (%d); raise `ulimit -n` (the hard limit) for more streams",
                settings.max_streams, room, soft, hard, soft - room, in_use, database, REQUEST_RESERVE)
    return attrs.evolve(settings, max_streams=room)
