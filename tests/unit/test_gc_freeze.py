"""The garbage-collector housekeeping of server/gc_freeze.py: freezing survivors, and reclaiming frozen cycles."""

from __future__ import annotations

import gc
import weakref

import pytest

from server.gc_freeze import FreezeKeeper


class Node:
    """An object that can take part in a reference cycle and be watched through a weak reference."""

    other: Node | None = None


@pytest.fixture(autouse=True)
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def make_cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_a_tick_moves_what_is_alive_out_of_the_collectors_reach():
    """After a tick the survivors are frozen: a collection no longer walks them (nor frees their cycles)."""
    now = [0.0]
    keeper = FreezeKeeper(refreeze=10, full_every=600, clock=lambda: now[0])
    cycle = make_cycle()
    keeper.tick()
    assert gc.get_freeze_count() > 0
    gc.collect()
    assert cycle() is not None  # frozen: a cycle of garbage waits for the full collection
    assert keeper.full_collections == 0


def test_the_periodic_full_collection_reclaims_cycles_that_died_frozen():
    """Once full_every has passed, a tick unfreezes, collects (the frozen cycle goes) and freezes again."""
    now = [0.0]
    keeper = FreezeKeeper(refreeze=10, full_every=600, clock=lambda: now[0])
    cycle = make_cycle()
    keeper.tick()
    now[0] = 599.0
    keeper.tick()
    assert cycle() is not None and keeper.full_collections == 0
    now[0] = 600.0
    keeper.tick()
    assert cycle() is None
    assert keeper.full_collections == 1 and gc.get_freeze_count() > 0
    now[0] = 900.0
    keeper.tick()
    assert keeper.full_collections == 1  # the next one is due 600 s after the last
