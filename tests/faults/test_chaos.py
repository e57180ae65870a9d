"""The short run of bench/chaos.py: a minute of load while workers and servers are SIGKILLed and Postgres restarts."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from bench.chaos import ChaosConfig, run_chaos

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]


def test_chaos_during_load_loses_nothing_and_every_watcher_sees_every_end():
    """Under a minute of load with a worker and a server killed and Postgres restarted, every job
    ends, each completed one with exactly its file's items, and every watcher sees every end."""
    # Not tmp_path: pytest keeps only its last few, and a failed run's service logs must stay.
    logs = Path(tempfile.mkdtemp(prefix="importer-chaos-test-"))
    lines: list[str] = []
    result = run_chaos(ChaosConfig.short(), logs, lines.append)
    print("\n".join(lines))  # the figures, shown with -s or on failure
    assert result.counts["worker"] >= 1 and result.counts["server"] >= 1 and result.counts["postgres"] == 1, \
        result.counts
    assert not result.failures, "\n".join(lines) + f"\nservice logs in {logs}"
    shutil.rmtree(logs, ignore_errors=True)
