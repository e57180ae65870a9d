"""The multiprocessing context of every child process the service starts, and its fork server.

Children: an import's reader of a large file (importer/load/readers.py), a preview
(importer/previews/runner.py), the check of a workbook (importer/read/spreadsheet_sandbox.py)
and of a large JSON body (importer/read/structured_sandbox.py).

forkserver: a clean, pre-imported interpreter forks each child in milliseconds, and a child never
inherits its parent's threads, sockets or event loop as a plain fork would. A process has one
fork server, whichever child asks for it first (`importer serve --with-worker` starts readers,
previews and checks alike), so the modules it preloads are decided here, once.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context

# What the fork server imports before it forks anything: the readers (with calamine and the
# spreadsheet reader) and the preview's planner. Named, not imported: this module sits below both.
PRELOAD = ["importer.load.readers", "importer.previews.plan"]

_CONTEXT: multiprocessing.context.ForkServerContext | None = None


def process_context() -> multiprocessing.context.ForkServerContext:
    """The context to start every child with (its Process, Pipe, or a ProcessPoolExecutor's mp_context)."""
    global _CONTEXT
    if _CONTEXT is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _CONTEXT = context
    return _CONTEXT


def prewarm() -> None:
    """Start the fork server now (about half a second of imports), not at the first large file."""
    from multiprocessing import forkserver

    process_context()
    forkserver.ensure_running()
