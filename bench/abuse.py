"""Abuse bench (issue 17): what one user's large request costs the server, per scenario: peak
RSS growth of the server process and the longest event-loop stall: a 1,000,000-item wheel's
items page by page and errors.csv of 200,000 rejections (bench/abuse_responses.py), one user's
ten parallel 60 MB uploads and a 94 MB JSON body (bench/abuse_admission.py). Goal: RSS growth < 100 MB
and no stall over 100 ms in every scenario.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/abuse.py
    .venv/bin/python bench/abuse.py --only items          # the scenarios whose name has "items"
    .venv/bin/python bench/abuse.py --server-root /tmp/before   # an older checkout's server

DATABASE_URL: a server on which the bench creates (and drops) its own database; unset, it
starts an embedded Postgres in a temporary directory. Each scenario
gets a fresh `importer serve` process in asyncio debug mode; bench/abuse_harness.py says how
the figures are taken. Scenarios live in their own modules (a list `SCENARIOS` of
abuse_harness.Scenario each), joined here.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import abuse_admission, abuse_harness, abuse_responses

SCENARIOS = [*abuse_responses.SCENARIOS,
             *(abuse_harness.scenario_of_parts(name, function)
               for name, function in abuse_admission.SCENARIOS.items())]

if __name__ == "__main__":
    sys.exit(abuse_harness.main(SCENARIOS, description=__doc__.splitlines()[0]))
