"""The Planner: reuse by name, creation with ids and orders, defaults, one page per year,
splitting at year boundaries."""

from __future__ import annotations

import itertools
import re
from datetime import date
from uuid import UUID

from importer.model import Activity, Declared, DeclaredColored, DeclaredRing, Existing
from importer.read.planning import DEFAULT_GROUP, DEFAULT_RING, GROUP_PALETTE, LABEL_PALETTE, Planner


def ids():
    counter = itertools.count(1)
    return lambda: UUID(int=next(counter))


def act(n=2, name="A", start=date(2026, 1, 1), end=date(2026, 1, 2), **kw):
    return Activity(row_number=n, name=name, start=start, end=end, **kw)


def test_palettes_are_valid_and_distinct():
    """Group and label colours are distinct #RRGGBB values (16 and 12 of them)."""
    assert len(set(GROUP_PALETTE)) == 16 and len(set(LABEL_PALETTE)) == 12
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in GROUP_PALETTE + LABEL_PALETTE)


def test_existing_structure_is_reused_case_insensitively():
    """Names matching what the wheel has (any case, trimmed) reuse its ids; nothing is new."""
    ring, group, label, page = UUID(int=101), UUID(int=102), UUID(int=103), UUID(int=104)
    planner = Planner(Existing(rings={"ekonomi": ring}, groups={"bokslut": group},
                               labels={"anna": label}, pages={2026: page},
                               max_ring_order=3, max_page_order=2), id_factory=ids())
    (item,) = planner.place(act(ring=" EKONOMI ", group="Bokslut", label="anna"))
    assert (item.ring_id, item.group_id, item.label_id, item.page_id) == (ring, group, label, page)
    assert not planner.take_new()
    assert planner.counts == {"rings": 0, "groups": 0, "labels": 0, "pages": 0, "items": 1}


def test_new_structure_gets_ids_orders_and_colours():
    """New rings continue ring_order, pages continue page_order with the year as title,
    groups and labels take palette colours; each is created once."""
    planner = Planner(Existing(max_ring_order=3, max_page_order=2), id_factory=ids())
    planner.place(act(ring="Ekonomi", group="Bokslut", label="Anna"))
    planner.place(act(ring="ekonomi", group="Moms", label="ANNA", start=date(2027, 5, 1),
                      end=date(2027, 5, 1)))
    new = planner.take_new()
    assert [(r.name, r.type, r.ring_order) for r in new.rings] == [("Ekonomi", "inner", 4)]
    assert [(g.name, g.color) for g in new.groups] == [("Bokslut", GROUP_PALETTE[0]),
                                                       ("Moms", GROUP_PALETTE[1])]
    assert [(lb.name, lb.color) for lb in new.labels] == [("Anna", LABEL_PALETTE[0])]
    assert [(p.year, p.title, p.page_order) for p in new.pages] == [(2026, "2026", 3),
                                                                    (2027, "2027", 4)]
    assert not planner.take_new()  # handed over once
    assert planner.counts == {"rings": 1, "groups": 2, "labels": 1, "pages": 2, "items": 2}


def test_defaults_only_when_needed():
    """Without ring or group the defaults are created, once; a label stays absent."""
    planner = Planner(Existing(), id_factory=ids())
    assert not planner.take_new()
    first = planner.place(act())[0]
    second = planner.place(act(n=3))[0]
    new = planner.take_new()
    assert [r.name for r in new.rings] == [DEFAULT_RING]
    assert [g.name for g in new.groups] == [DEFAULT_GROUP]
    assert first.label_id is None and first.ring_id == second.ring_id
    assert new.rings[0].color == "#F4A896"  # the first ring of an empty wheel


def test_declared_structure_is_created_up_front_with_its_type_and_colour():
    """Declared rings keep type and colour, declared groups their colour, even unused."""
    declared = Declared(
        rings=(DeclaredRing(name="Helgdagar", type="outer", color="#112233"),),
        groups=(DeclaredColored(name="Möten", color="#445566"),),
        labels=(DeclaredColored(name="Viktig", color=None),),
    )
    planner = Planner(Existing(), declared, id_factory=ids())
    new = planner.take_new()
    assert [(r.name, r.type, r.color, r.ring_order) for r in new.rings] == [
        ("Helgdagar", "outer", "#112233", 0)]
    assert [(g.name, g.color) for g in new.groups] == [("Möten", "#445566")]
    assert [(lb.name, lb.color) for lb in new.labels] == [("Viktig", LABEL_PALETTE[0])]
    (item,) = planner.place(act(ring="helgdagar", group="MÖTEN"))
    assert item.ring_id == new.rings[0].id and item.group_id == new.groups[0].id


def test_cross_year_activity_is_split_per_year():
    """20 Dec - 10 Jan becomes two items on two pages sharing one cross_year_group_id."""
    planner = Planner(Existing(), id_factory=ids())
    first, second = planner.place(act(start=date(2025, 12, 20), end=date(2026, 1, 10)))
    assert (first.start, first.end) == (date(2025, 12, 20), date(2025, 12, 31))
    assert (second.start, second.end) == (date(2026, 1, 1), date(2026, 1, 10))
    assert first.cross_year_group_id == second.cross_year_group_id is not None
    assert first.page_id != second.page_id
    assert planner.counts["items"] == 2


def test_long_activity_covers_every_year_once():
    """A three-year activity gives one piece per year, whole middle year included."""
    planner = Planner(Existing(), id_factory=ids())
    pieces = planner.place(act(start=date(2024, 6, 1), end=date(2026, 2, 1)))
    assert [(p.start, p.end) for p in pieces] == [
        (date(2024, 6, 1), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 2, 1))]
    assert [p.title for p in planner.take_new().pages] == ["2024", "2025", "2026"]


def test_single_year_items_are_not_linked():
    """An activity within one year has no cross_year_group_id."""
    (item,) = Planner(Existing(), id_factory=ids()).place(act())
    assert item.cross_year_group_id is None


def test_existing_names_with_stray_spaces_are_matched():
    """A wheel's " Ekonomi " (from an older import) is reused for "ekonomi"."""
    ring = UUID(int=7)
    planner = Planner(Existing(rings={" ekonomi ": ring}), id_factory=ids())
    (item,) = planner.place(act(ring="Ekonomi"))
    assert item.ring_id == ring and not planner.take_new().rings
