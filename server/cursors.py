"""Keyset cursors of paged lists: the sort key of a page's last row, opaque to clients.

A cursor is base64url (no padding) of "<start_date ISO>,<item UUID>": it names a position in
(start_date, id) order, not an offset, so a page costs the same however deep it is and rows
added or deleted meanwhile never shift the pages after it.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Any
from uuid import UUID

import attrs

from importer.errors import BadRequest

# Longer than any cursor we make ("YYYY-MM-DD," + 36 characters, encoded): refused unread.
MAX_CURSOR_LENGTH = 128
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@attrs.frozen(kw_only=True)
class ItemKey:
    """An item's place in start-date order; `FIRST` comes before every item."""

    start_date: date
    id: UUID

    def encode(self) -> str:
        raw = f"{self.start_date.isoformat()},{self.id}".encode("ascii")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def as_params(self) -> dict[str, Any]:
        """The named parameters of the items queries that continue after this key."""
        return {"after_date": self.start_date, "after_id": self.id}

    @classmethod
    def decode(cls, cursor: str) -> ItemKey:
        """The key a cursor of `encode` names; BadRequest `bad_cursor` for anything else."""
        try:
            if len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.match(cursor):
                raise ValueError(cursor)
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
            day, item = text.split(",")
            return cls(start_date=date.fromisoformat(day), id=UUID(item))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadRequest.of("api.bad_cursor", code="bad_cursor", details={"parameter": "after"}) from None


# The nil UUID after -infinity: the first page's lower bound (Postgres' date '-infinity' is
# before every date; Python's date has no such value, so the query gets it as text).
FIRST_AFTER: dict[str, Any] = {"after_date": "-infinity", "after_id": UUID(int=0)}
