"""Stream admission counts per user and per process, refuses before taking, and gives back on every exit."""

from __future__ import annotations

import uuid

import pytest

from importer.errors import ServerBusy, TooManyStreams
from server.stream_slots import RETRY_AFTER_SECONDS, StreamSlots


def test_a_user_past_the_per_user_limit_is_refused_and_others_are_not():
    """The third stream of a user with limit 2 is TooManyStreams; another user still gets one."""
    slots = StreamSlots(per_user=2, total=10)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    with slots.hold(alice), slots.hold(alice):
        with pytest.raises(TooManyStreams) as refused:
            with slots.hold(alice):
                pass
        assert refused.value.retry_after == RETRY_AFTER_SECONDS
        assert refused.value.details == {"open": 2, "limit": 2}
        with slots.hold(bob):
            assert slots.open == 3
    assert slots.open == 0 and slots.of_user(alice) == 0


def test_the_process_limit_refuses_every_user():
    """At `total` streams a new user's stream is ServerBusy, and a refusal takes nothing."""
    slots = StreamSlots(per_user=5, total=2)
    with slots.hold(uuid.uuid4()), slots.hold(uuid.uuid4()):
        newcomer = uuid.uuid4()
        with pytest.raises(ServerBusy):
            with slots.hold(newcomer):
                pass
        assert slots.open == 2 and slots.of_user(newcomer) == 0


def test_a_stream_that_fails_gives_its_slot_back():
    """An exception (or a cancelled handler) inside the block releases the slot."""
    slots = StreamSlots(per_user=1, total=1)
    user = uuid.uuid4()
    with pytest.raises(ConnectionResetError), slots.hold(user):
        raise ConnectionResetError
    with slots.hold(user):
        assert slots.of_user(user) == 1
    assert slots.open == 0

