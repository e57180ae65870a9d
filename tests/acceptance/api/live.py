"""`importer serve` as its own process on a free loopback port, for tools that need a real server."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.processes import serving


@contextlib.contextmanager
def serve(env: dict[str, str], *, log_dir: Path | None = None) -> Iterator[str]:
    """Run `importer serve` with `env` added; yields its base URL once /readyz answers 200."""
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="importer-serve-"))
    with serving("server", {**os.environ, **env}, log_dir) as (_proc, url):
        yield url
