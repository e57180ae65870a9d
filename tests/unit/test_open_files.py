"""The stream cap fitted under the open-file limit."""

from __future__ import annotations

import resource

from importer.settings import Settings
from server.open_files import REQUEST_RESERVE, fit_streams, open_now, stream_room


def test_stream_room_keeps_the_reserve_and_never_goes_below_one():
    """Streams fit under the limit after what the process, the database and the reserve need."""
    assert stream_room(1024, in_use=10, database=21) == 1024 - 10 - 21 - REQUEST_RESERVE
    assert stream_room(64, in_use=10, database=21) == 1


def test_fit_streams_lowers_the_cap_only_when_the_limit_cannot_hold_it():
    """Under this process' (raised) limit, a cap above what fits is lowered to stream_room; one below stays."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    fitted = fit_streams(Settings.from_env({"IMPORTER_MAX_STREAMS": str(10 * soft)}), database=21)
    assert fitted.max_streams == stream_room(resource.getrlimit(resource.RLIMIT_NOFILE)[0],
                                             in_use=open_now(), database=21)
    assert fit_streams(Settings.from_env({"IMPORTER_MAX_STREAMS": "5"}), database=21).max_streams == 5
