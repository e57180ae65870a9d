"""The in-process reader: every chunk in order, on the loop's thread pool for a file of one chunk."""

from __future__ import annotations

import threading
from uuid import UUID

from importer.load.produce import Plan
from importer.load.readers import ThreadReader
from importer.model import Existing
from tests.unit.test_produce import ListSource, act

PLAN = Plan(existing=Existing(), wheel_id=UUID(int=1), job_id=UUID(int=2), chunk_rows=10)


async def read_all(rows: int) -> tuple[int, set[str]]:
    """Rows read through a ThreadReader, and the names of the threads that read them."""
    names: set[str] = set()

    class Recorded(ListSource):
        warnings = ()

        def __iter__(self):
            names.add(threading.current_thread().name)
            return super().__iter__()

    reader = ThreadReader(Recorded([act(i + 2) for i in range(rows)]))
    reader.start(PLAN)
    try:
        read = sum([chunk.rows async for chunk in reader])
    finally:
        await reader.close()
    return read, names


async def test_a_file_of_one_chunk_is_read_without_a_thread_of_its_own():
    """A file of at most one chunk is read on the loop's thread pool (starting a thread blocks the loop)."""
    read, names = await read_all(10)
    assert read == 10
    assert names and "import-reader" not in names and threading.current_thread().name not in names


async def test_a_larger_file_is_read_by_its_own_thread():
    """A file of several chunks is read by a thread of its own, which may wait for the COPY for long."""
    read, names = await read_all(35)
    assert read == 35
    assert names == {"import-reader"}
