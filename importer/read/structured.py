"""The structured JSON body form of an import (a client that mapped the file itself) as a Source."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from importer.errors import BadRequest, UnreadableFile
from importer.model import Activity, Declared, DeclaredColored, DeclaredRing, ImportMode, Rejection, Row
from importer.read.dates import DateColumn, DateError
from importer.read.rows import MAX_DESCRIPTION, MAX_NAME, MAX_PARENT_NAME, MAX_SPAN_YEARS, cap

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}$")
_DATES = DateColumn(day_first=True)


def _bad(message: str, **details: Any) -> BadRequest:
    return BadRequest(message, code="bad_payload", details=details)


def parse_payload(body: bytes | str | dict) -> tuple[str, str, StructuredSource]:
    """`(mode, file_name, source)` from the JSON body of API.md's third form.

    Raises BadRequest (code `bad_payload`) for anything structural: not JSON, not an object,
    a bad mode, type or colour, an item naming an id the structure lacks. Raises UnreadableFile
    (`no_data_rows`) when there are no items. Item content (empty name, unreadable date, end
    before start) is not an error here: those items become Rejections when iterated.
    A dict is accepted too, so a retry can rebuild the source from the stored payload.
    """
    if isinstance(body, bytes | str):
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad(f"Ogiltig JSON: {exc}") from None
    else:
        payload = body
    if not isinstance(payload, dict):
        raise _bad("Kroppen ska vara ett JSON-objekt")
    mode = payload.get("importMode", "append")
    if mode not in set(ImportMode):
        raise _bad(f"importMode ska vara 'append' eller 'replace', inte {mode!r}",
                   field="importMode")
    file_name = payload.get("fileName") or "import.json"
    if not isinstance(file_name, str):
        raise _bad("fileName ska vara text", field="fileName")
    return mode, file_name, StructuredSource(payload, file_name=file_name)


class StructuredSource:
    """model.Source over a parsed payload: declared structure plus items resolved to names.

    Row numbers are 1-based positions in the flattened item list (pages in order, items in
    order within each page); a rejection's `column` is the JSON field to blame. The page a
    client put an item on does not matter: pages follow from the item's dates.
    """

    def __init__(self, payload: dict, *, file_name: str):
        self.file_name = file_name
        structure = payload.get("structure")
        if structure is None:
            structure = {}
        if not isinstance(structure, dict):
            raise _bad("structure ska vara ett objekt", field="structure")
        rings = _entries(structure, "rings")
        groups = _entries(structure, "activityGroups")
        labels = _entries(structure, "labels")
        self._rings = {}
        declared_rings = []
        for i, ring in enumerate(rings):
            where = f"structure.rings[{i}]"
            ring_type = ring.get("type", "inner") or "inner"
            if ring_type not in ("inner", "outer"):
                raise _bad(f"{where}.type ska vara 'inner' eller 'outer', inte {ring_type!r}",
                           field=f"{where}.type")
            declared = DeclaredRing(name=_name(ring, where), type=ring_type,
                                    color=_color(ring, where))
            self._rings[_id(ring, where, self._rings)] = declared.name
            declared_rings.append(declared)
        self._groups, declared_groups = _colored(groups, "structure.activityGroups")
        self._labels, declared_labels = _colored(labels, "structure.labels")
        self.declared = Declared(rings=tuple(declared_rings), groups=tuple(declared_groups),
                                 labels=tuple(declared_labels))
        pages = payload.get("pages")
        if not isinstance(pages, list):
            raise _bad("pages ska vara en lista", field="pages")
        self._items: list[dict] = []
        for p, page in enumerate(pages):
            if not isinstance(page, dict) or not isinstance(page.get("items", []), list):
                raise _bad(f"pages[{p}] ska vara ett objekt med en lista items",
                           field=f"pages[{p}]")
            for i, item in enumerate(page.get("items", [])):
                where = f"pages[{p}].items[{i}]"
                if not isinstance(item, dict):
                    raise _bad(f"{where} ska vara ett objekt", field=where)
                self._check_refs(item, where)
                self._items.append(item)
        if not self._items:
            raise UnreadableFile("Importen innehåller inga aktiviteter.", code="no_data_rows")
        self.total_rows = len(self._items)

    def _check_refs(self, item: dict, where: str) -> None:
        for field, known in (("ringId", self._rings), ("activityId", self._groups)):
            ref = item.get(field)
            if ref is None:
                continue  # the planner's default ring/group
            if _key(ref) not in known:
                raise _bad(f"{where}.{field} {ref!r} finns inte i structure", field=f"{where}.{field}")
        label = _label_ref(item)
        if label is not None and _key(label) not in self._labels:
            raise _bad(f"{where}.labelId {label!r} finns inte i structure.labels",
                       field=f"{where}.labelId")

    def __iter__(self) -> Iterator[Row]:
        for number, item in enumerate(self._items, start=1):
            yield self._row(number, item)

    def _row(self, number: int, item: dict) -> Row:
        def reject(column: str | None, reason: str) -> Rejection:
            values = tuple(cap(_text(item.get(k))) for k in
                           ("name", "startDate", "endDate", "ringId", "activityId", "description"))
            return Rejection(row_number=number, column=column, reason=reason, values=values)

        name = _text(item.get("name")).strip()
        if not name:
            return reject("name", "Namn saknas")
        if len(name) > MAX_NAME:
            return reject("name", f"Namnet är längre än {MAX_NAME} tecken ({len(name)})")
        raw_start = _text(item.get("startDate")).strip()
        if not raw_start:
            return reject("startDate", "Startdatum saknas")
        try:
            start = _DATES.parse(raw_start)
        except DateError:
            return reject("startDate", f"Ogiltigt startdatum: '{cap(raw_start, 100)}'")
        raw_end = _text(item.get("endDate")).strip()
        end = start
        if raw_end:
            try:
                end = _DATES.parse(raw_end)
            except DateError:
                return reject("endDate", f"Ogiltigt slutdatum: '{cap(raw_end, 100)}'")
        if end < start:
            return reject("endDate", "Slutdatum före startdatum")
        span = end.year - start.year
        if span > MAX_SPAN_YEARS or (
            span == MAX_SPAN_YEARS and (end.month, end.day) > (start.month, start.day)
        ):
            return reject("endDate", f"Aktiviteten spänner över mer än {MAX_SPAN_YEARS} år")
        ring = item.get("ringId")
        group = item.get("activityId")
        label = _label_ref(item)
        description = _text(item.get("description")).strip()
        return Activity(
            row_number=number, name=name, start=start, end=end,
            ring=None if ring is None else self._rings[_key(ring)],
            group=None if group is None else self._groups[_key(group)],
            label=None if label is None else self._labels[_key(label)],
            description=cap(description, MAX_DESCRIPTION) if description else None,
        )


def _entries(structure: dict, field: str) -> list[dict]:
    entries = structure.get(field) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _bad(f"structure.{field} ska vara en lista av objekt", field=f"structure.{field}")
    return entries


def _key(ref: Any) -> str:
    # Ids may be "ring-1" or 1; both spell the same reference.
    return str(ref)


def _id(entry: dict, where: str, seen: dict) -> str:
    ref = entry.get("id")
    if ref is None or isinstance(ref, dict | list | bool) or _key(ref) == "":
        raise _bad(f"{where}.id saknas", field=f"{where}.id")
    if _key(ref) in seen:
        raise _bad(f"{where}.id {ref!r} förekommer två gånger", field=f"{where}.id")
    return _key(ref)


def _name(entry: dict, where: str) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad(f"{where}.name saknas", field=f"{where}.name")
    name = name.strip()
    if len(name) > MAX_PARENT_NAME:
        raise _bad(f"{where}.name är längre än {MAX_PARENT_NAME} tecken", field=f"{where}.name")
    return name


def _color(entry: dict, where: str) -> str | None:
    color = entry.get("color")
    if color is None or color == "":
        return None
    if not isinstance(color, str) or not _COLOR.match(color):
        raise _bad(f"{where}.color ska vara #RRGGBB, inte {color!r}", field=f"{where}.color")
    return color.upper()


def _colored(entries: list[dict], where: str) -> tuple[dict[str, str], list[DeclaredColored]]:
    names: dict[str, str] = {}
    declared = []
    for i, entry in enumerate(entries):
        at = f"{where}[{i}]"
        one = DeclaredColored(name=_name(entry, at), color=_color(entry, at))
        names[_id(entry, at, names)] = one.name
        declared.append(one)
    return names, declared


def _label_ref(item: dict) -> Any:
    label = item.get("labelId")
    if label is None:
        # The original client sent `labelIds: [...]`; an item has at most one label.
        ids = item.get("labelIds")
        if isinstance(ids, list) and ids:
            label = ids[0]
    return label


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
