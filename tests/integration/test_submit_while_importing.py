"""A running import's wheel lock does not block new submits into that wheel, yet still serialises imports."""

from __future__ import annotations

import asyncio

import pytest

from importer.queries import q
from tests.factories import make_job, make_user, make_wheel

pytestmark = pytest.mark.timeout(30)


async def test_submit_into_a_wheel_being_imported_does_not_wait(pool):
    """While wheel_lock is held, a job row for the wheel goes in at once and a second wheel_lock waits."""
    user = await make_user(pool)
    wheel = await make_wheel(pool, user)
    async with pool.connection() as importing, importing.transaction():
        await importing.execute(q("wheel_lock"), {"wheel_id": wheel})
        # The foreign-key check of the new job row takes KEY SHARE on the wheel.
        await asyncio.wait_for(make_job(pool, user, wheel), 2)
        async with pool.connection() as other:
            await other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(Exception, match="lock timeout"):
                async with other.transaction():
                    await other.execute(q("wheel_lock"), {"wheel_id": wheel})
