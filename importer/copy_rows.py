"""Item rows as Postgres COPY text, built in bulk: the hot path of every import."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from importer.model import ItemRow

# The columns of `items_copy` (importer/sql/load.sql), in order.
ITEM_COLUMNS = ("wheel_id", "page_id", "ring_id", "group_id", "label_id", "name", "start_date",
                "end_date", "description", "cross_year_group_id", "import_job_id")

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str | None) -> str:
    """One field of COPY text format: NULL as \\N, separators and backslashes escaped."""
    if value is None:
        return NULL
    return value.translate(_ESCAPES)


class ItemEncoder:
    """Encodes ItemRows of one wheel and job; remembers the text of ids it has seen.

    A wheel has a few dozen parents and up to a million items: caching str(UUID) of parents
    saves most of the per-row formatting.
    """

    def __init__(self, wheel_id: UUID, job_id: UUID | None):
        self._prefix = f"{wheel_id}\t"
        self._suffix = f"\t{job_id}\n" if job_id else f"\t{NULL}\n"
        self._ids: dict[UUID | None, str] = {None: NULL}

    def _id(self, value: UUID | None) -> str:
        text = self._ids.get(value)
        if text is None:
            text = self._ids[value] = str(value)
        return text

    def encode(self, rows: Iterable[ItemRow]) -> str:
        ids = self._ids
        ident = self._id
        prefix, suffix = self._prefix, self._suffix
        escapes = _ESCAPES
        out = []
        append = out.append
        for r in rows:
            description = r.description
            cross = r.cross_year_group_id
            append(
                f"{prefix}{ids.get(r.page_id) or ident(r.page_id)}\t"
                f"{ids.get(r.ring_id) or ident(r.ring_id)}\t"
                f"{ids.get(r.group_id) or ident(r.group_id)}\t"
                f"{ids.get(r.label_id) or ident(r.label_id)}\t"
                f"{r.name.translate(escapes)}\t{r.start.isoformat()}\t{r.end.isoformat()}\t"
                f"{NULL if description is None else description.translate(escapes)}\t"
                f"{NULL if cross is None else str(cross)}{suffix}"
            )
        return "".join(out)
