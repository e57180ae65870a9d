"""The one way from stored bytes and their media type to a Source (importer/model.py)."""

from __future__ import annotations

from typing import Any

from importer.model import Source
from importer.read.csv_source import open_csv
from importer.read.structured import parse_payload

#: Media types `import_files` stores (its CHECK constraint import_files_media_type_valid).
CSV = "text/csv"
STRUCTURED = "application/json"


def open_source(media_type: str, content: bytes, file_name: str, mapping: dict[str, Any] | None, *,
                default_year: int | None = None) -> Source:
    """The stored upload as a Source: CSV, or the structured JSON form of API.md.

    `default_year` (the wheel's year) completes dates written without one (`3 maj`). Raises
    UnreadableFile or BadRequest (importer/errors.py) for a file that cannot be an import.
    """
    if media_type == STRUCTURED:
        _mode, _name, source = parse_payload(content)
        return source
    return open_csv(content, file_name=file_name, mapping=mapping, default_year=default_year)
