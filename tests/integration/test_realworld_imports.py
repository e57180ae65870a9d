"""The real exports of issue 15 imported through the real loader into Postgres: each gives the
items expected.json says, whichever reader (thread or child process) reads it."""

from __future__ import annotations

import attrs
import pytest

from importer.load import attempt
from importer.settings import LoadSettings, Settings
from tests.data import realworld
from tests.factories import make_job, make_user, make_wheel
from tests.import_support import job_row

pytestmark = pytest.mark.timeout(120)

SETTINGS = Settings.from_env({"DATABASE_URL": "unused"})
# The loader reads files from this size in a child process; 0 sends every file there.
READERS = {"thread": SETTINGS, "process": attrs.evolve(SETTINGS, load=LoadSettings(process_min_bytes=0))}


async def import_file(pool, name: str, content: bytes, settings: Settings):
    """Store `content` as an upload named `name`, run its job once; the job row and the items."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user, year=2026)
    job = await make_job(pool, user, wheel, content=content, file_name=name)
    await attempt.run_job(pool, job, settings=settings)
    async with pool.connection() as conn:
        items = await (await conn.execute(
            "SELECT i.name, i.start_date AS start, i.end_date AS end, g.name AS group,"
            " l.name AS label, i.description FROM items i JOIN activity_groups g ON g.id = i.group_id"
            " LEFT JOIN labels l ON l.id = i.label_id WHERE i.wheel_id = %s ORDER BY i.start_date",
            (wheel,))).fetchall()
    return await job_row(pool, job), items


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", realworld.FILES)
async def test_each_real_export_imports_as_its_user_expects(pool, name, reader):
    """The job completes with exactly the expected items and rejections, and the items in the
    wheel have the expected dates, groups, labels and descriptions."""
    row, items = await import_file(pool, name, realworld.content(name), READERS[reader])
    assert row["status"] == realworld.EXPECTED[name]["status"], row["error"]
    assert (row["created_items"], row["rejected_rows"]) == (len(items), realworld.EXPECTED[name]["rejected"])
    realworld.check(name, items, row["rejected_rows"])


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_a_repaired_file_imports_with_its_warning_on_the_job(pool, reader):
    """A UTF-8 file with a pasted Windows-1252 row imports with every å, ä and ö right and the
    encoding_repaired warning, with its message, on the job."""
    content = ("Aktivitet;Startdatum\nMöte på Åland;2026-01-10\n".encode()
               + "Årsmöte i Växjö;2026-03-01\n".encode("cp1252"))
    row, items = await import_file(pool, "blandat.csv", content, READERS[reader])
    assert row["status"] == "completed"
    assert sorted(item["name"] for item in items) == ["Möte på Åland", "Årsmöte i Växjö"]
    (warning,) = [w for w in row["warnings"] if w["code"] == "encoding_repaired"]
    assert warning["details"] == {"bytes": 4, "rows": 1, "first_row": 3, "encoding": "UTF-8",
                                  "repaired_as": "Windows-1252"}
    assert warning["message"].startswith("4 byte var inte giltig text")


async def test_an_ambiguous_file_imports_with_date_order_assumed_on_the_job(pool):
    """A file whose dates all read both ways imports day-first with date_order_assumed and its
    evidence on the job."""
    row, items = await import_file(pool, "tvetydig.csv", b"Aktivitet,Datum\nA,01/02/2026\nB,03/04/2026\n",
                                   SETTINGS)
    assert row["status"] == "completed"
    assert sorted(str(item["start"]) for item in items) == ["2026-02-01", "2026-04-03"]
    (warning,) = [w for w in row["warnings"] if w["code"] == "date_order_assumed"]
    assert warning["details"] == {"column": "Datum", "ambiguous": 2, "order": "day_first",
                                  "source": "default", "example": "01/02/2026", "read_as": "2026-02-01"}
    assert "dagen före månaden" in warning["message"]
