"""Progress of an attempt, on its injectable clock: throttling, cancel checks, percent bands, ETA."""

from __future__ import annotations

import uuid

import pytest

from importer.errors import ImportCancelled, Superseded
from importer.jobs.lifecycle import ProgressReport
from importer.load.progress import READ_DONE, ROWS_DONE, Progress
from importer.model import JobStatus


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Job:
    """The job row as the progress connection sees it: what was written, and its status."""

    def __init__(self) -> None:
        self.reports: list[ProgressReport] = []
        self.status: JobStatus | None = JobStatus.PROCESSING
        self.reads = 0

    async def write(self, report: ProgressReport) -> JobStatus | None:
        self.reports.append(report)
        return self.status

    async def read_status(self) -> JobStatus | None:
        self.reads += 1
        return self.status


def progress_of(job: Job, clock: Clock, *, total: int = 1000) -> Progress:
    progress = Progress(job.write, job.read_status, uuid.uuid4(), 1, min_interval=0.1,
                        cancel_check_interval=0.2, clock=clock)
    progress.total = total
    return progress


async def test_rows_are_written_at_most_every_min_interval():
    """Row reports within `min_interval` of the last write are not written; the next one later is."""
    job, clock = Job(), Clock()
    progress = progress_of(job, clock)
    await progress.rows(10, 0)
    await progress.rows(20, 0)
    clock.now += 0.05
    await progress.rows(30, 0)
    assert [r.processed for r in job.reports] == [10]
    clock.now += 0.06
    await progress.rows(40, 1)
    assert [(r.processed, r.rejected) for r in job.reports] == [(10, 0), (40, 1)]
    assert progress.writes == 2


async def test_steps_are_always_written_and_percent_never_goes_down():
    """A step is written whatever the clock; percent stays in its band and never decreases."""
    job, clock = Job(), Clock()
    progress = progress_of(job, clock, total=100)
    await progress.step("parsing", "Läser fil...", READ_DONE)
    await progress.step("parsing", "igen", 1)
    clock.now += 1
    await progress.rows(100, 0)
    clock.now += 1
    await progress.rows(50, 0)  # a lower count (a new chunk boundary) must not lower percent
    percents = [r.percent for r in job.reports]
    assert percents == [READ_DONE, READ_DONE, ROWS_DONE, ROWS_DONE]
    assert all(r.text for r in job.reports) and job.reports[1].text == "igen"


async def test_between_writes_a_cancel_is_checked_every_cancel_check_interval():
    """Throttled reports read the status once `cancel_check_interval` has passed; `cancelling` stops the attempt."""
    job, clock = Job(), Clock()
    progress = progress_of(job, clock)
    await progress.rows(1, 0)  # written
    clock.now += 0.05
    await progress.rows(2, 0)  # neither written nor checked
    assert job.reads == 0
    job.status = JobStatus.CANCELLING
    clock.now += 0.04  # 0.09 since the write: still throttled, but no check due either
    await progress.rows(3, 0)
    assert job.reads == 0
    progress.min_interval = 10.0
    clock.now += 0.2
    with pytest.raises(ImportCancelled):
        await progress.rows(4, 0)
    assert job.reads == 1


async def test_a_row_owned_by_another_attempt_supersedes_this_one():
    """A write or a check that finds the row no longer this attempt's raises Superseded."""
    job, clock = Job(), Clock()
    progress = progress_of(job, clock)
    job.status = None
    with pytest.raises(Superseded):
        await progress.step("items", "x")
    job.status = JobStatus.COMPLETED
    with pytest.raises(Superseded):
        await progress.check_cancel()


async def test_eta_follows_the_measured_rate():
    """ETA is unknown until two measurements half a second apart, then rows left / rows per second."""
    job, clock = Job(), Clock()
    progress = progress_of(job, clock, total=1000)
    await progress.rows(0, 0)
    assert progress.eta_seconds() is None
    clock.now += 1.0
    await progress.rows(100, 0)  # 100 rows/s, 900 left
    assert progress.eta_seconds() == 9
    assert job.reports[-1].eta_seconds == 9
