"""Item rows as Postgres COPY text, built in bulk: the hot path of every import."""

from __future__ import annotations

import re
from collections.abc import Iterable
from uuid import UUID

from importer.model import ItemRow

# The columns of `items_copy` (importer/sql/load.sql), in order.
ITEM_COLUMNS = ("wheel_id", "page_id", "ring_id", "group_id", "label_id", "name", "start_date",
                "end_date", "description", "cross_year_group_id", "import_job_id")

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# str.translate looks every character up in a dict; most texts need no escape at all, and
# finding that out is one scan in C.
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]").search


def copy_text(value: str | None) -> str:
    """One field of COPY text format: NULL as \\N, separators and backslashes escaped."""
    if value is None:
        return NULL
    return value.translate(_ESCAPES) if _NEEDS_ESCAPE(value) else value


class ItemEncoder:
    """Encodes ItemRows of one wheel and job; remembers the text of the parent ids it has seen.

    A wheel has a few dozen parents and up to a million items. The planner hands out the same
    UUID object for every item of a parent, so the text is cached by object identity: hashing
    a UUID runs Python code, `id()` does not. The cache holds the UUIDs too, so an identity
    cannot be reused by another object while the encoder lives.
    """

    def __init__(self, wheel_id: UUID, job_id: UUID | None):
        self._prefix = f"{wheel_id}\t"
        self._suffix = f"\t{job_id}\n" if job_id else f"\t{NULL}\n"
        self._ids: dict[int, str] = {id(None): NULL}
        self._keep: list[UUID | None] = [None]
        self._heads: dict[tuple[int, int, int, int], str] = {}

    def _id(self, value: UUID | None) -> str:
        text = self._ids.get(id(value))
        if text is None:
            text = self._ids[id(value)] = str(value)
            self._keep.append(value)
        return text

    def _head(self, key: tuple[int, int, int, int], r: ItemRow) -> str:
        head = self._heads[key] = (f"{self._prefix}{self._id(r.page_id)}\t{self._id(r.ring_id)}\t"
                                   f"{self._id(r.group_id)}\t{self._id(r.label_id)}\t")
        return head

    def encode(self, rows: Iterable[ItemRow]) -> str:
        # The first five fields repeat for every item of one page, ring, group and label: they
        # are one cached string per combination (a few hundred in a large file).
        heads = self._heads
        make_head = self._head
        suffix = self._suffix
        escapes = _ESCAPES
        special = _NEEDS_ESCAPE
        out: list[str] = []
        append = out.append
        for r in rows:
            key = (id(r.page_id), id(r.ring_id), id(r.group_id), id(r.label_id))
            head = heads.get(key) or make_head(key, r)
            name, description, cross = r.name, r.description, r.cross_year_group_id
            if special(name):
                name = name.translate(escapes)
            if description is None:
                description = NULL
            elif special(description):
                description = description.translate(escapes)
            append(
                f"{head}{name}\t{r.start.isoformat()}\t{r.end.isoformat()}\t{description}\t"
                f"{NULL if cross is None else str(cross)}{suffix}"
            )
        return "".join(out)
