"""The SQL an operator copies from README's Operations section runs on a migrated database."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.factories import make_job, make_user, make_wheel

pytestmark = pytest.mark.timeout(60)

README = Path(__file__).resolve().parents[2] / "README.md"


def operations_sql() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)
    return [stmt.strip() for block in blocks for stmt in block.split(";\n") if stmt.strip()]


def test_readme_has_the_operator_queries():
    """The Operations section holds at least the five queries an operator runs most, each a SELECT."""
    statements = operations_sql()
    assert len(statements) >= 5
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements)


async def test_every_readme_query_runs(pool, db_url):
    """Each ```sql statement of the Operations section runs and returns rows on a database with jobs in it."""
    user = await make_user(pool, email="someone@example.com")
    wheel = await make_wheel(pool, user)
    await make_job(pool, user, wheel)
    await make_job(pool, user, wheel, status="failed", error_code="no_valid_rows", finished_at=datetime.now(UTC))
    with psycopg.connect(db_url) as conn:
        for statement in operations_sql():
            cur = conn.execute(statement)
            assert cur.description is not None, statement
            cur.fetchall()
        rows = conn.execute(operations_sql()[-1]).fetchall()
    assert len(rows) == 2  # the user's two jobs
