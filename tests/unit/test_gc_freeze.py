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


def make_cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


def keeper_at(now: list[float]) -> FreezeKeeper:
    return FreezeKeeper(refreeze=1, full_every=600, clock=lambda: now[0])


def test_a_tick_moves_what_is_alive_out_of_the_collectors_reach():
    """After a tick the survivors are frozen: a collection no longer walks them (nor frees their cycles)."""
    keeper = keeper_at([0.0])
    alive, cycle = make_cycle()
    keeper.tick()
    assert gc.get_freeze_count() > 0
    del alive  # garbage now, but frozen
    gc.collect()
    assert cycle() is not None  # waits for the full collection
    assert keeper.full_collections == 0


def test_a_cycle_already_dead_at_a_tick_is_collected_not_frozen():
    """The young generations are collected before freezing, so fresh garbage does not wait ten minutes."""
    keeper = keeper_at([0.0])
    alive, cycle = make_cycle()
    del alive
    keeper.tick()
    assert cycle() is None


def test_the_periodic_full_collection_reclaims_cycles_that_died_frozen():
    """Once full_every has passed, a tick unfreezes, collects (the frozen cycle goes) and freezes again."""
    now = [0.0]
    keeper = keeper_at(now)
    alive, cycle = make_cycle()
    keeper.tick()
    del alive
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
