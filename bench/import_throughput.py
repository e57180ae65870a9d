"""Import throughput against a bare COPY of the same rows, the 1,929-row time, and peak memory.

    .venv/bin/python bench/import_throughput.py [--rows 200000] [--rss-rows 1000000]
    .venv/bin/python bench/import_throughput.py --format xlsx [--rows 200000] [--rss-megabytes 50]

Uses DATABASE_URL's server (or the embedded Postgres when unset) and a database of its own,
created, migrated and dropped here. Prints:
  bare COPY            items/s of one COPY of pre-encoded items into `items` (same table,
                       triggers and indexes; parents already there)
  full import          items/s from the stored file bytes to `completed` (attempt.run_job:
                       claim, read, validate, plan, parents, COPY, progress, completion)
  ratio                full / bare (target >= 0.7)
  1,929 rows           seconds from run_job start to `completed` (target < 1 s), median of 5
  integrity            COPY of the same items into a copy of `items` with no check, with the
                       five foreign keys of the original schema, and into `items` itself (our
                       set-based statement trigger): what keeping items complete costs per row
  peak RSS             peak resident memory (VmHWM) of a process that runs one import of
                       --rss-rows rows, and of its reader child process
With --format xlsx it prints instead, for the same rows written as CSV and as an xlsx workbook
(dates as date cells, texts as shared strings, as Excel writes them):
  csv / xlsx import    items/s from the stored file bytes to `completed`, best of --rounds
  ratio                xlsx / csv (target >= 0.5)
  50 MB workbook       what the API's sniff says of a workbook of --rss-megabytes, and the peak
                       RSS of the worker process and its reader child importing it (target
                       within 1 GB, or refused up front with a clear 413/422)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg
import psycopg.rows
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import attrs  # noqa: E402

from importer.db import conninfo_url, database_url, make_pool  # noqa: E402
from importer.errors import ImporterError  # noqa: E402
from importer.load.attempt import run_job  # noqa: E402
from importer.load.copy_rows import ItemEncoder  # noqa: E402
from importer.load.transaction import insert_structure  # noqa: E402
from importer.migrate import migrate  # noqa: E402
from importer.model import Activity, Existing  # noqa: E402
from importer.queries import q  # noqa: E402
from importer.read.csv_source import open_csv  # noqa: E402
from importer.read.planning import Planner  # noqa: E402
from importer.read.spreadsheet_kinds import XLSX  # noqa: E402
from importer.read.spreadsheet_sandbox import sniff_workbook  # noqa: E402
from importer.settings import LoadSettings, Settings  # noqa: E402


def generate_csv(rows: int) -> bytes:
    """Swedish headers, ISO dates, 3 rings, 40 groups, 8 labels; every 50th row crosses a year."""
    out = ["Aktivitet,Startdatum,Slutdatum,Område,Kategori,Etikett,Beskrivning\r\n"]
    for name, start, end, ring, group, label, description in activity_rows(rows):
        out.append(f"{name},{start.isoformat()},{end.isoformat()},{ring},{group},{label},{description}\r\n")
    return "".join(out).encode("utf-8")


def activity_rows(rows: int):
    """The rows of generate_csv as values: (name, start, end, ring, group, label, description)."""
    base = date(2025, 1, 1)
    for i in range(rows):
        if i % 50 == 49:
            start, end = date(2025, 12, 15), date(2026, 1, 15)
        else:
            start = base + timedelta(days=(i * 7) % 700)
            end = start + timedelta(days=i % 30)
        description = "Årsbokslut och deklaration" if i % 2 else ""
        yield (f"Aktivitet {i}", start, end, f"Ring {i % 3}", f"Grupp {i % 40}", f"Person {i % 8}",
               description)


#: Rows an xlsx sheet can hold (ECMA-376 Part 1, 18.3.1.73: row indexes 1..1048576), header included.
XLSX_MAX_ROWS = 1_048_576


def generate_xlsx(rows: int, *, notes: bool = False) -> bytes:
    """The rows of generate_csv as an xlsx workbook: dates as date cells, texts as shared strings.
    `notes` adds a unique 40-character note per row (an eighth column): more bytes per row, for
    a workbook of many megabytes within the sheet's row limit."""
    import hashlib
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Aktiviteter")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["Aktivitet", "Startdatum", "Slutdatum", "Område", "Kategori", "Etikett",
                           "Beskrivning", *(["Anteckning"] if notes else [])])
    for r, (name, start, end, ring, group, label, description) in enumerate(activity_rows(rows), 1):
        if notes:
            sheet.write_string(r, 7, hashlib.sha1(name.encode()).hexdigest())
        sheet.write_string(r, 0, name)
        sheet.write_datetime(r, 1, start, day)
        sheet.write_datetime(r, 2, end, day)
        sheet.write_string(r, 3, ring)
        sheet.write_string(r, 4, group)
        sheet.write_string(r, 5, label)
        if description:
            sheet.write_string(r, 6, description)
    book.close()
    return out.getvalue()


def fmt(rate: float) -> str:
    return f"{rate:,.0f}"


async def make_owner(conn) -> tuple[uuid.UUID, uuid.UUID]:
    user = uuid.uuid4()
    await conn.execute("INSERT INTO users (id, email) VALUES (%s, 'bench@example.test')", (user,))
    wheel = (await (await conn.execute(
        "INSERT INTO year_wheels (owner_id, title, year) VALUES (%s, 'Bench', 2025) RETURNING id",
        (user,))).fetchone())["id"]
    return user, wheel


async def store_job(conn, user, wheel, content: bytes, mode: str = "append",
                    media_type: str = "text/csv") -> uuid.UUID:
    async with conn.transaction():
        file_id = (await (await conn.execute(
            "INSERT INTO import_files (user_id, media_type, size_bytes, sha256, content)"
            " VALUES (%s, %s, %s, sha256(%s), %s) RETURNING id",
            (user, media_type, len(content), content, content))).fetchone())["id"]
        return (await (await conn.execute(
            "INSERT INTO import_jobs (user_id, wheel_id, file_id, file_name, mode, notify)"
            " VALUES (%s, %s, %s, 'bench.csv', %s, false) RETURNING id",
            (user, wheel, file_id, mode))).fetchone())["id"]


async def bare_copy(pool, content: bytes, table: str = "items") -> tuple[int, float]:
    """Items of the same file, encoded beforehand, in one COPY; returns (items, seconds).

    `table` other than items: one of the comparison tables of integrity_costs().
    """
    async with pool.connection() as conn:
        _, wheel = await make_owner(conn)
    source = open_csv(content, file_name="bench.csv")
    planner = Planner(Existing(), source.declared)
    # A job id like the loader writes (provenance column): the same bytes per row.
    encoder = ItemEncoder(wheel, uuid.uuid4())
    items = []
    for row in source:
        if type(row) is Activity:
            items.extend(planner.place(row))
    new = planner.take_new()
    data = encoder.encode(items).encode("utf-8")
    count = len(items)
    del items
    async with pool.connection() as conn:
        async with conn.transaction():
            await insert_structure(conn, wheel, new)
        began = time.perf_counter()
        async with conn.transaction():
            statement = q("items_copy") if table == "items" else sql.SQL(q("items_copy").replace(
                "COPY items ", "COPY {} ")).format(sql.Identifier(table))
            async with conn.cursor() as cur, cur.copy(statement) as copy:
                step = 1 << 20
                for at in range(0, len(data), step):
                    await copy.write(data[at:at + step])
        elapsed = time.perf_counter() - began
    return count, elapsed


# Three ways to keep items complete, measured on the same rows: no check at all (the floor), the
# five foreign keys of the original schema (one RI query per row and key), and ours (items as
# migrated: one set-based statement trigger per COPY). The comparison tables are dropped after.
COMPARISON_DDL = """
CREATE TABLE items_bench_unchecked (LIKE items INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE TABLE items_bench_fk (LIKE items INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE items_bench_fk
    ADD FOREIGN KEY (wheel_id) REFERENCES year_wheels (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (page_id) REFERENCES wheel_pages (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (ring_id) REFERENCES wheel_rings (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (group_id) REFERENCES activity_groups (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (label_id) REFERENCES labels (id) ON DELETE SET NULL;
"""


async def integrity_costs(url: str, pool, content: bytes, rounds: int) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(COMPARISON_DDL)
    try:
        rates: dict[str, float] = {}
        for table in ("items_bench_unchecked", "items_bench_fk", "items"):
            best = 0.0
            for _ in range(rounds):
                await vacuum(url)
                n, t = await bare_copy(pool, content, table)
                best = max(best, n / t)
            rates[table] = best
        floor = rates["items_bench_unchecked"]
        print(f"integrity of items, COPY of the same {n:,} items (best of {rounds}):")
        print(f"  no check at all:          {fmt(floor)} items/s")
        print(f"  five foreign keys:        {fmt(rates['items_bench_fk'])} items/s "
              f"({rates['items_bench_fk'] / floor:.2f} of no check)")
        print(f"  statement trigger (ours): {fmt(rates['items'])} items/s ({rates['items'] / floor:.2f} of no check)")
    finally:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute("DROP TABLE IF EXISTS items_bench_unchecked, items_bench_fk")


def settings_with(limits: LoadSettings | None) -> Settings:
    """The service's defaults (no environment read), with `limits` as the load part if given."""
    settings = Settings.from_env({"DATABASE_URL": "unused"})
    return settings if limits is None else attrs.evolve(settings, load=limits)


async def full_import(pool, content: bytes, limits: LoadSettings | None = None,
                      media_type: str = "text/csv") -> tuple[int, float, dict]:
    async with pool.connection() as conn:
        user, wheel = await make_owner(conn)
        job = await store_job(conn, user, wheel, content, media_type=media_type)
    began = time.perf_counter()
    status = await run_job(pool, job, settings=settings_with(limits))
    elapsed = time.perf_counter() - began
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT * FROM import_jobs WHERE id = %s", (job,))).fetchone()
    assert status == "completed", (status, row["error_code"], row["error_message"])
    return row["created_items"], elapsed, row


async def vacuum(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("VACUUM ANALYZE items")
        await conn.execute("CHECKPOINT")


async def bench(url: str, rows: int, limits: LoadSettings, rounds: int) -> None:
    pool = make_pool(url, min_size=2, max_size=6, name="bench")
    await pool.open(wait=True, timeout=30)
    try:
        content = generate_csv(rows)
        print(f"file: {rows:,} rows, {len(content) / 1e6:.1f} MB")
        bare_rates, full_rates = [], []
        # Alternating rounds, best of each: on a shared machine the neighbours' load comes and
        # goes, and the best round is the one closest to the machine's own capacity.
        for _ in range(rounds):
            await vacuum(url)
            n, t = await bare_copy(pool, content)
            bare_rates.append(n / t)
            await vacuum(url)
            n, t, row = await full_import(pool, content, limits)
            full_rates.append(n / t)
        bare, full = max(bare_rates), max(full_rates)
        print(f"bare COPY: {fmt(bare)} items/s ({n:,} items; best of {rounds})")
        print(f"full import (file bytes -> completed): {fmt(full)} items/s, {row['processed_items']:,} rows "
              f"(best of {rounds}; progress updates: {row['seq'] - 1})")
        ratios = sorted(f / b for f, b in zip(full_rates, bare_rates, strict=True))
        print(f"ratio full/bare: {full / bare:.2f} best/best (per round: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.7)")
        small = generate_csv(1929)
        times = []
        for _ in range(5):
            _, t, _ = await full_import(pool, small, limits)
            times.append(t)
        print(f"1,929 rows end to end: {statistics.median(times) * 1000:.0f} ms median of 5 "
              f"(min {min(times) * 1000:.0f} ms; target < 1000 ms)")
        await integrity_costs(url, pool, content, rounds)
    finally:
        await pool.close()


async def bench_xlsx(url: str, rows: int, limits: LoadSettings, rounds: int) -> None:
    """The same rows as CSV and as xlsx, imported alternately; best of each."""
    pool = make_pool(url, min_size=2, max_size=6, name="bench")
    await pool.open(wait=True, timeout=30)
    try:
        csv, xlsx = generate_csv(rows), generate_xlsx(rows)
        print(f"file: {rows:,} rows; CSV {len(csv) / 1e6:.1f} MB, xlsx {len(xlsx) / 1e6:.1f} MB")
        rates: dict[str, list[float]] = {"csv": [], "xlsx": []}
        for _ in range(rounds):
            for name, content, media_type in (("csv", csv, "text/csv"), ("xlsx", xlsx, XLSX)):
                await vacuum(url)
                n, t, _ = await full_import(pool, content, limits, media_type=media_type)
                rates[name].append(n / t)
        best = {name: max(found) for name, found in rates.items()}
        for name in ("csv", "xlsx"):
            print(f"{name} import (file bytes -> completed): {fmt(best[name])} items/s, {n:,} items "
                  f"(best of {rounds}; rounds: {', '.join(fmt(r) for r in rates[name])})")
        ratios = [x / c for x, c in zip(rates["xlsx"], rates["csv"], strict=True)]
        print(f"ratio xlsx/csv: {best['xlsx'] / best['csv']:.2f} best/best (per round: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.5)")
    finally:
        await pool.close()


def xlsx_rows_for(megabytes: int) -> tuple[int, bool]:
    """Rows (and whether with notes) whose xlsx is about `megabytes` MB, from 20,000-row samples:
    without notes where the sheet's row limit allows, else with them."""
    for notes in (False, True):
        rows = int(20_000 * megabytes * 1e6 / len(generate_xlsx(20_000, notes=notes)))
        if rows < XLSX_MAX_ROWS:
            return rows, notes
    return XLSX_MAX_ROWS - 1, True


def peak_rss_xlsx(url: str, megabytes: int) -> None:
    """A workbook of `megabytes` MB: the API's sniff first (what a submit would answer), then, if
    it is accepted, one import in a fresh process with its peak RSS and its reader child's."""
    rows, notes = xlsx_rows_for(megabytes)
    content = generate_xlsx(rows, notes=notes)
    began = time.perf_counter()
    try:
        sniff_workbook(content, media_type=XLSX, mapping=None, sheet=None)
    except ImporterError as exc:
        print(f"{len(content) / 1e6:.0f} MB workbook ({rows:,} rows, {8 if notes else 7} columns): refused by "
              f"the API's sniff in "
              f"{time.perf_counter() - began:.1f} s: {exc.code}: {exc.message}")
        return
    print(f"{len(content) / 1e6:.0f} MB workbook ({rows:,} rows, {8 if notes else 7} columns): the API's "
          f"sniff accepts it in "
          f"{time.perf_counter() - began:.1f} s")

    async def store() -> str:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True,
                                                         row_factory=psycopg.rows.dict_row) as conn:
            user, wheel = await make_owner(conn)
            return str(await store_job(conn, user, wheel, content, media_type=XLSX))

    job = asyncio.run(store())
    out = subprocess.run([sys.executable, __file__, "--rss-child", "--job", job, "--url", url],
                         capture_output=True, text=True, check=True, timeout=1800)
    status, before, after, reader, elapsed = out.stdout.split()[-5:]
    print(f"peak RSS importing it ({status} in {float(elapsed):.1f} s): worker process "
          f"{int(after) / 1024:.0f} MB (before: {int(before) / 1024:.0f} MB), reader process "
          f"{int(reader) / 1024:.0f} MB; target within 1 GB")


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _descendants(pid: int) -> list[int]:
    parents = _parents()
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        todo += children
    return found


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def watch_descendants(stop: threading.Event, peak: list[int]) -> None:
    """Peak resident memory (VmHWM) of the largest process under us: the reader child runs
    under the forkserver, so RUSAGE_CHILDREN does not see it."""
    while not stop.wait(0.05):
        for pid in _descendants(os.getpid()):
            peak[0] = max(peak[0], _peak_kb(pid))


def rss_child(url: str, job: str) -> None:
    """In a fresh process: import the stored job, print ru_maxrss before and after."""

    async def run() -> None:
        pool = make_pool(url, min_size=2, max_size=4, name="bench-rss")
        await pool.open(wait=True, timeout=30)
        try:
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent.
            before = _peak_kb(os.getpid())
            stop, peak = threading.Event(), [0]
            watcher = threading.Thread(target=watch_descendants, args=(stop, peak), daemon=True)
            watcher.start()
            began = time.perf_counter()
            status = await run_job(pool, uuid.UUID(job), settings=settings_with(None))
            elapsed = time.perf_counter() - began
            stop.set()
            after = _peak_kb(os.getpid())
            print(f"{status} {before} {after} {peak[0]} {elapsed:.2f}")
        finally:
            await pool.close()

    asyncio.run(run())


async def store_big_job(url: str, rows: int) -> tuple[str, int]:
    content = generate_csv(rows)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True,
                                                     row_factory=psycopg.rows.dict_row) as conn:
        user, wheel = await make_owner(conn)
        job = await store_job(conn, user, wheel, content)
    return str(job), len(content)


def peak_rss(url: str, rows: int) -> None:
    job, size = asyncio.run(store_big_job(url, rows))
    out = subprocess.run([sys.executable, __file__, "--rss-child", "--job", job, "--url", url],
                         capture_output=True, text=True, check=True, timeout=1800)
    status, before, after, reader, elapsed = out.stdout.split()[-5:]
    print(f"peak RSS for {rows:,} rows ({size / 1e6:.0f} MB file, {status} in {float(elapsed):.1f} s): "
          f"worker process {int(after) / 1024:.0f} MB (before the import: "
          f"{int(before) / 1024:.0f} MB), reader process {int(reader) / 1024:.0f} MB; "
          f"target well under 500 MB each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rss-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--chunk-rows", type=int, default=LoadSettings().chunk_rows)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv",
                        help="xlsx: the same rows as CSV and as a workbook, and a large workbook's memory")
    parser.add_argument("--rss-megabytes", type=int, default=50, help="size of the large workbook (xlsx)")
    parser.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.url, args.job)
        return
    server = database_url(Settings.from_env())
    name = f"bench_import_{os.getpid()}"
    admin = conninfo_url(server, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = conninfo_url(server, dbname=name)
    try:
        migrate(url)
        limits = LoadSettings(chunk_rows=args.chunk_rows)
        if args.format == "xlsx":
            asyncio.run(bench_xlsx(url, args.rows, limits, args.rounds))
            if not args.skip_rss:
                peak_rss_xlsx(url, args.rss_megabytes)
            return
        asyncio.run(bench(url, args.rows, limits, args.rounds))
        if not args.skip_rss:
            peak_rss(url, args.rss_rows)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
