"""Turns accepted activities into item rows: finds or creates rings, groups, labels and pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID, uuid4

from importer.model import (
    Activity,
    Declared,
    Existing,
    ItemRow,
    NewColored,
    NewPage,
    NewRing,
    NewStructure,
)
from importer.read.construct import positional

DEFAULT_RING = "Aktiviteter"
DEFAULT_GROUP = "Allmänt"
FIRST_RING_COLOR = "#F4A896"  # what the original gave the first ring it created

# Pastel colours that stay readable under dark text on the wheel; groups cycle through 16 of
# them, labels through 12 stronger ones so a label stands out from its group.
GROUP_PALETTE = (
    "#F4A896", "#A8DADC", "#B5E48C", "#FFD6A5", "#CDB4DB", "#FFC8DD", "#BDE0FE", "#FDFFB6",
    "#CAFFBF", "#9BF6FF", "#A0C4FF", "#FFADAD", "#D4A5A5", "#C7CEEA", "#E2F0CB", "#FFDAC1",
)
LABEL_PALETTE = (
    "#E63946", "#2A9D8F", "#E9C46A", "#457B9D", "#F4A261", "#8AB17D",
    "#9D4EDD", "#FF6B6B", "#118AB2", "#EF476F", "#06D6A0", "#6C757D",
)


_item_row = positional(ItemRow)


def _key(name: str) -> str:
    # Existing holds names lower-cased by the loader; trimming makes " Ekonomi" match "Ekonomi".
    return name.strip().lower()


def _by_key(names: dict[str, UUID]) -> dict[str, UUID]:
    """Existing names keyed like ours (a wheel may hold "Ekonomi " from an older import)."""
    keyed: dict[str, UUID] = {}
    for name, id_ in names.items():
        keyed.setdefault(_key(name), id_)
    return keyed


class Planner:
    """Places activities onto the wheel, remembering what it has created since `take_new`.

    Names match case-insensitively and trimmed, first against what the wheel already has,
    then against what this planner created. Structure the source declares (the JSON form) is
    created up front with its declared type and colour, even where no item uses it: the client
    built that structure on purpose. The defaults "Aktiviteter" and "Allmänt" appear only when an
    activity lacks a ring or group.
    """

    def __init__(
        self,
        existing: Existing,
        declared: Declared = Declared(),  # noqa: B008 - attrs frozen, immutable
        *,
        id_factory: Callable[[], UUID] = uuid4,
    ):
        self._new_id = id_factory
        self._rings = _by_key(existing.rings)
        self._groups = _by_key(existing.groups)
        self._labels = _by_key(existing.labels)
        self._pages: dict[int, UUID] = dict(existing.pages)
        self._ring_order = existing.max_ring_order
        self._page_order = existing.max_page_order
        self._declared_rings = {_key(r.name): r for r in declared.rings}
        self._declared_groups = {_key(g.name): g.color for g in declared.groups}
        self._declared_labels = {_key(lb.name): lb.color for lb in declared.labels}
        # Raw spelling -> id, so the hot path skips strip().lower() for names seen before.
        self._ring_cache: dict[str | None, UUID] = {}
        self._group_cache: dict[str | None, UUID] = {}
        self._label_cache: dict[str | None, UUID | None] = {None: None}
        self._new_rings: list[NewRing] = []
        self._new_groups: list[NewColored] = []
        self._new_labels: list[NewColored] = []
        self._new_pages: list[NewPage] = []
        self.counts = {"rings": 0, "groups": 0, "labels": 0, "pages": 0, "items": 0}
        for ring in declared.rings:
            self._ring_id(ring.name)
        for group in declared.groups:
            self._group_id(group.name)
        for label in declared.labels:
            self._label_id(label.name)

    # -- structure -------------------------------------------------------------------------

    def _ring_id(self, raw: str | None) -> UUID:
        name = (raw or "").strip() or DEFAULT_RING
        key = name.lower()
        found = self._rings.get(key)
        if found is None:
            found = self._rings[key] = self._new_id()
            self._ring_order += 1
            declared = self._declared_rings.get(key)
            first = self.counts["rings"] == 0 and self._ring_order == 0
            color = declared.color if declared else (FIRST_RING_COLOR if first else None)
            self._new_rings.append(NewRing(
                id=found, name=name, type=declared.type if declared else "inner",
                color=color, ring_order=self._ring_order,
            ))
            self.counts["rings"] += 1
        return found

    def _group_id(self, raw: str | None) -> UUID:
        name = (raw or "").strip() or DEFAULT_GROUP
        key = name.lower()
        found = self._groups.get(key)
        if found is None:
            found = self._groups[key] = self._new_id()
            color = self._declared_groups.get(key) or GROUP_PALETTE[
                self.counts["groups"] % len(GROUP_PALETTE)]
            self._new_groups.append(NewColored(id=found, name=name, color=color))
            self.counts["groups"] += 1
        return found

    def _label_id(self, raw: str | None) -> UUID | None:
        name = (raw or "").strip()
        if not name:
            return None
        key = name.lower()
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = self._new_id()
            color = self._declared_labels.get(key) or LABEL_PALETTE[
                self.counts["labels"] % len(LABEL_PALETTE)]
            self._new_labels.append(NewColored(id=found, name=name, color=color))
            self.counts["labels"] += 1
        return found

    def _page_id(self, year: int) -> UUID:
        found = self._pages.get(year)
        if found is None:
            found = self._pages[year] = self._new_id()
            self._page_order += 1
            self._new_pages.append(NewPage(
                id=found, year=year, title=str(year), page_order=self._page_order))
            self.counts["pages"] += 1
        return found

    # -- items -----------------------------------------------------------------------------

    def place(self, activity: Activity) -> list[ItemRow]:
        """The item rows for one activity: one per calendar year it touches."""
        ring = activity.ring
        ring_id = self._ring_cache.get(ring)
        if ring_id is None:
            ring_id = self._ring_cache[ring] = self._ring_id(ring)
        group = activity.group
        group_id = self._group_cache.get(group)
        if group_id is None:
            group_id = self._group_cache[group] = self._group_id(group)
        label = activity.label
        try:
            label_id = self._label_cache[label]
        except KeyError:
            label_id = self._label_cache[label] = self._label_id(label)
        start, end = activity.start, activity.end
        first_year, last_year = start.year, end.year
        if first_year == last_year:
            page_id = self._pages.get(first_year) or self._page_id(first_year)
            self.counts["items"] += 1
            return [_item_row(activity.row_number, page_id, ring_id, group_id, label_id,
                              activity.name, start, end, activity.description, None)]
        link = self._new_id()
        pieces = []
        for year in range(first_year, last_year + 1):
            pieces.append(ItemRow(
                row_number=activity.row_number, page_id=self._page_id(year), ring_id=ring_id,
                group_id=group_id, label_id=label_id, name=activity.name,
                start=start if year == first_year else date(year, 1, 1),
                end=end if year == last_year else date(year, 12, 31),
                description=activity.description, cross_year_group_id=link,
            ))
        self.counts["items"] += len(pieces)
        return pieces

    def take_new(self) -> NewStructure:
        """Parents created since the last call (the loader inserts these before the items)."""
        new = NewStructure(
            rings=tuple(self._new_rings), groups=tuple(self._new_groups),
            labels=tuple(self._new_labels), pages=tuple(self._new_pages),
        )
        self._new_rings, self._new_groups, self._new_labels, self._new_pages = [], [], [], []
        return new
