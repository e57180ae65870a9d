"""Rows per second through open_csv + validation + Planner for a typical generated file."""

from __future__ import annotations

import csv
import io
import random
import sys
import time
from datetime import date, timedelta

from importer.model import Activity, Existing
from importer.read.csv_source import open_csv, sniff
from importer.read.planning import Planner


def generate(rows: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Aktivitet", "Startdatum", "Slutdatum", "Ring", "Aktivitetsgrupp",
                     "Etikett", "Beskrivning"])
    base = date(2025, 1, 1)
    for i in range(rows):
        start = base + timedelta(days=rng.randrange(700))
        end = start + timedelta(days=rng.randrange(40))
        writer.writerow([f"Bokslut kund {i}", start.isoformat(), end.isoformat(),
                         f"Ring {i % 3}", f"Grupp {i % 12}", f"Person {i % 8}",
                         "Årsbokslut och deklaration" if i % 2 else ""])
    return out.getvalue().encode("utf-8")


def measure(data: bytes, rows: int) -> tuple[float, float]:
    """Best of three: rows per wall second and per CPU second."""
    best = best_cpu = 0.0
    for _ in range(3):
        began, began_cpu = time.perf_counter(), time.process_time()
        source = open_csv(data, file_name="bench.csv")
        planner = Planner(Existing())
        for row in source:
            if type(row) is Activity:
                planner.place(row)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        assert source.total_rows == rows and planner.counts["items"] >= rows
        best, best_cpu = max(best, rows / elapsed), max(best_cpu, rows / cpu)
    return best, best_cpu


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    data = generate(rows)
    # Every field quoted (as some exporters write): the row count then needs a csv pass.
    quoted = b'"' + data[:-2].replace(b",", b'","').replace(b"\r\n", b'"\r\n"') + b'"\r\n'
    for label, variant in (("plain", data), ("all quoted", quoted)):
        wall, cpu = measure(variant, rows)
        # CPU time too: the machine is shared, and wall time then measures the neighbours.
        print(f"{label}: {rows} rows, {len(variant) / 1e6:.1f} MB: {wall:,.0f} rows/s wall, "
              f"{cpu:,.0f} rows/s per CPU second "
              f"(open_csv incl. counting pass + validate + plan, best of 3)")
    prefix = data[:65536]
    began = time.perf_counter()
    for _ in range(200):
        sniff(prefix, complete=False)
    print(f"sniff(64 KiB prefix): {(time.perf_counter() - began) / 200 * 1000:.2f} ms")


if __name__ == "__main__":
    main()
