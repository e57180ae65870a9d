"""Bench-only tasks, added to a worker's App only with IMPORTER_BENCH_TASKS=on (never in production).

`bench_noop` does nothing: bench/small_imports.py defers it in bulk and drains it through the
same workers as its imports, so that imports/s can be put against the queue's own task rate.
"""

from __future__ import annotations

from importer.jobs.context import TaskBlueprint

QUEUE = "bench"
NOOP_TASK = "bench_noop"

blueprint = TaskBlueprint()


@blueprint.task(name=NOOP_TASK, queue=QUEUE)
async def bench_noop() -> None:
    """Nothing: what remains of a task's time is the queue's fetch, start and finish."""
