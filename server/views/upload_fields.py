"""The form fields and headers that come with an upload (multipart parts or query parameters:
mode, notify, date order, mapping, sheet, file name; the Idempotency-Key header), each parsed
and checked at the edge: a bad one is a 400 that changes nothing (API.md, "Errors")."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from importer.errors import BadRequest
from importer.model import ImportMode
from importer.storable import storable_json, storable_text
from server.views.common import unstorable

DEFAULT_FILE_NAME = "import.csv"


def parse_mode(raw: str | None) -> ImportMode:
    if raw is None or raw == "":
        return ImportMode.APPEND
    try:
        return ImportMode(raw)
    except ValueError:
        raise BadRequest.of("api.bad_mode", code="bad_mode", details={"mode": raw[:50]}) from None


def parse_notify(raw: str | None, *, name: str = "notify") -> bool:
    """A yes/no form field or query parameter (`notify`, `skip_duplicates`); unset is true."""
    if raw is None or raw == "":
        return True
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise BadRequest.of("api.bad_boolean", params={"name": name}, code=f"bad_{name}")


#: The orders `date_order` names (API.md): which part of 03/04 is the day.
DATE_ORDERS = ("day_first", "month_first")


def parse_date_order(raw: str | None) -> str | None:
    """`day_first` or `month_first` when the request chooses; None (unset): decided from the file."""
    if raw is None or raw.strip() == "":
        return None
    if raw not in DATE_ORDERS:
        raise BadRequest.of("api.bad_date_order", code="bad_date_order", details={"date_order": raw[:50]})
    return raw


def parse_mapping(raw: str | None) -> dict[str, Any] | None:
    """The mapping's JSON; which headers it names is checked against the file by the sniff.

    Raises BadRequest(bad_mapping) with the catalogue's `mapping.*` text, the same as the
    reader's check of the headers (importer/read/columns.py), so one code reads alike.
    """

    if raw is None or raw.strip() == "":
        return None
    try:
        mapping = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest.of("mapping.not_json", code="bad_mapping") from None
    if not isinstance(mapping, dict):
        raise BadRequest.of("mapping.not_object", code="bad_mapping")
    if not storable_json(mapping):  # it is stored as jsonb with the job
        raise unstorable("mapping", code="bad_mapping")
    return mapping


def parse_sheet(raw: str | None) -> str | None:
    """A sheet name as a person typed it (Excel allows at most 31 characters; ODS more)."""
    if raw is None or raw.strip() == "":
        return None
    if len(raw) > 255:
        raise BadRequest.of("api.bad_sheet", code="bad_sheet")
    if not storable_text(raw):
        raise unstorable("sheet", code="bad_sheet")
    return raw


def parse_file_name(raw: str | None) -> str:
    name = (raw or "").strip().replace("\\", "/").rsplit("/", 1)[-1]
    if not name:
        return DEFAULT_FILE_NAME
    if len(name) > 255:
        raise BadRequest.of("api.bad_file_name", code="bad_file_name")
    if not storable_text(name):
        raise unstorable("file_name", code="bad_file_name")
    return name


_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def idempotency_key(request: web.Request) -> str | None:
    """The Idempotency-Key header: 1 to 255 visible ASCII characters; 400
    `bad_idempotency_key` for anything else."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise BadRequest.of("api.bad_idempotency_key", code="bad_idempotency_key")
    return key
