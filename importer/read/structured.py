"""The structured JSON body form of an import (a client that mapped the file itself) as a Source."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from importer.errors import BadRequest, UnreadableFile
from importer.model import Declared, DeclaredColored, DeclaredRing, ImportMode, JobWarning, Row
from importer.read.dates import DateColumn
from importer.read.validate import MAX_PARENT_NAME, Blame, Rules
from importer.storable import storable_text

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}$")
# The item fields a rejection keeps as its raw values, in this order.
_VALUES = ("name", "startDate", "endDate", "ringId", "activityId", "description")


def _values(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(_text(item.get(k)) for k in _VALUES)


# Items are validated like CSV rows; a rejection blames the JSON field. Each date field holds
# one date (no ranges), read day-first where the order is ambiguous.
_RULES: Rules[dict[str, Any]] = Rules(
    Blame(name="name", start="startDate", end="endDate", ring="ringId", group="activityId",
          label="labelId"),
    start_dates=DateColumn(day_first=True), ranges=False, cells_of=_values,
    # JSON strings may hold an escaped NUL or lone surrogate: such an item is rejected, not the import.
    check_text=True)


def _bad(key: str, /, *, field: str | None = None, **params: Any) -> BadRequest:
    """BadRequest(bad_payload) with the catalogue's `payload.*` message; `field` is the place
    of the problem, also given in `details`."""
    return BadRequest.of(key, params=params, code="bad_payload", details={} if field is None else {"field": field})


def parse_payload(body: bytes | str | dict[str, Any]) -> tuple[str, str, StructuredSource]:
    """`(mode, file_name, source)` from the JSON body of API.md's third form.

    Raises BadRequest (code `bad_payload`) for anything structural: not JSON, nested too deep,
    not an object,
    a bad mode, type or colour, an item naming an id the structure lacks. Raises UnreadableFile
    (`no_data_rows`) when there are no items. Item content (empty name, unreadable date, end
    before start) is not an error here: those items become Rejections when iterated.
    A dict is accepted too, so a retry can rebuild the source from the stored payload.
    """
    if isinstance(body, bytes | str):
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad("payload.not_json", error=exc) from None
        except RecursionError:
            # Deeper than the interpreter's recursion limit (about 1000 levels); a real payload
            # is five deep. A 400 like any malformed body, never a 500.
            raise _bad("payload.too_deep") from None
    else:
        payload = body
    if not isinstance(payload, dict):
        raise _bad("payload.not_object")
    mode = payload.get("importMode", "append")
    if not isinstance(mode, str) or mode not in set(ImportMode):
        raise _bad("payload.bad_mode", value=mode, field="importMode")
    file_name = payload.get("fileName") or "import.json"
    if not isinstance(file_name, str):
        raise _bad("payload.file_name_not_text", field="fileName")
    return mode, file_name, StructuredSource(payload, file_name=file_name)


class StructuredSource:
    """model.Source over a parsed payload: declared structure plus items resolved to names.

    Row numbers are 1-based positions in the flattened item list (pages in order, items in
    order within each page); a rejection's `column` is the JSON field to blame. The page a
    client put an item on does not matter: pages follow from the item's dates.
    """

    warnings: tuple[JobWarning, ...] = ()  # a client that mapped its file said what it meant
    #: What a rejected item's values are (errors.csv's columns): these fields, in this order.
    headers = _VALUES

    def __init__(self, payload: dict[str, Any], *, file_name: str):
        self.file_name = file_name
        structure = payload.get("structure")
        if structure is None:
            structure = {}
        if not isinstance(structure, dict):
            raise _bad("payload.structure_not_object", field="structure")
        rings = _entries(structure, "rings")
        groups = _entries(structure, "activityGroups")
        labels = _entries(structure, "labels")
        self._rings: dict[str, str] = {}
        declared_rings = []
        for i, ring in enumerate(rings):
            where = f"structure.rings[{i}]"
            ring_type = ring.get("type", "inner") or "inner"
            if ring_type not in ("inner", "outer"):
                raise _bad("payload.bad_ring_type", where=f"{where}.type", value=ring_type,
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
            raise _bad("payload.pages_not_list", field="pages")
        self._items: list[dict[str, Any]] = []
        for p, page in enumerate(pages):
            if not isinstance(page, dict) or not isinstance(page.get("items", []), list):
                raise _bad("payload.page_not_object", where=f"pages[{p}]", field=f"pages[{p}]")
            for i, item in enumerate(page.get("items", [])):
                where = f"pages[{p}].items[{i}]"
                if not isinstance(item, dict):
                    raise _bad("payload.item_not_object", where=where, field=where)
                self._check_refs(item, where)
                self._items.append(item)
        if not self._items:
            raise UnreadableFile.of("payload.no_items", code="no_data_rows")
        self.total_rows = len(self._items)

    def _check_refs(self, item: dict[str, Any], where: str) -> None:
        for field, known in (("ringId", self._rings), ("activityId", self._groups)):
            ref = item.get(field)
            if ref is None:
                continue  # the planner's default ring/group
            if _key(ref) not in known:
                raise _bad("payload.unknown_ref", where=f"{where}.{field}", ref=ref,
                           declared="structure", field=f"{where}.{field}")
        label = _label_ref(item)
        if label is not None and _key(label) not in self._labels:
            raise _bad("payload.unknown_ref", where=f"{where}.labelId", ref=label,
                       declared="structure.labels", field=f"{where}.labelId")

    def __iter__(self) -> Iterator[Row]:
        for number, item in enumerate(self._items, start=1):
            yield self._row(number, item)

    def _row(self, number: int, item: dict[str, Any]) -> Row:
        # The rules are the CSV rows' (importer.read.validate); here only the fields are found
        # and the structure's ids resolved to the names it declares.
        ring = item.get("ringId")
        group = item.get("activityId")
        label = _label_ref(item)
        return _RULES.validate(
            number, _text(item.get("name")), _text(item.get("startDate")),
            _text(item.get("endDate")),
            None if ring is None else self._rings[_key(ring)],
            None if group is None else self._groups[_key(group)],
            None if label is None else self._labels[_key(label)],
            _text(item.get("description")),
            item,
        )


def _entries(structure: dict[str, Any], field: str) -> list[dict[str, Any]]:
    entries = structure.get(field) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _bad("payload.not_list_of_objects", where=f"structure.{field}",
                   field=f"structure.{field}")
    return entries


def _key(ref: Any) -> str:
    # Ids may be "ring-1" or 1; both spell the same reference.
    return str(ref)


def _id(entry: dict[str, Any], where: str, seen: dict[str, Any]) -> str:
    ref = entry.get("id")
    if ref is None or isinstance(ref, dict | list | bool) or _key(ref) == "":
        raise _bad("payload.id_missing", where=f"{where}.id", field=f"{where}.id")
    if _key(ref) in seen:
        raise _bad("payload.id_twice", where=f"{where}.id", ref=ref, field=f"{where}.id")
    return _key(ref)


def _name(entry: dict[str, Any], where: str) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad("payload.name_missing", where=f"{where}.name", field=f"{where}.name")
    name = name.strip()
    if not storable_text(name):
        # A ring, group or label holds items: its name is the structure's, so a 400 at once.
        raise _bad("payload.text_not_storable", where=f"{where}.name", field=f"{where}.name")
    if len(name) > MAX_PARENT_NAME:
        raise _bad("payload.name_too_long", where=f"{where}.name", limit=MAX_PARENT_NAME,
                   field=f"{where}.name")
    return name


def _color(entry: dict[str, Any], where: str) -> str | None:
    color = entry.get("color")
    if color is None or color == "":
        return None
    if not isinstance(color, str) or not _COLOR.match(color):
        raise _bad("payload.bad_color", where=f"{where}.color", value=color, field=f"{where}.color")
    return color.upper()


def _colored(entries: list[dict[str, Any]], where: str) -> tuple[dict[str, str], list[DeclaredColored]]:
    names: dict[str, str] = {}
    declared = []
    for i, entry in enumerate(entries):
        at = f"{where}[{i}]"
        one = DeclaredColored(name=_name(entry, at), color=_color(entry, at))
        names[_id(entry, at, names)] = one.name
        declared.append(one)
    return names, declared


def _label_ref(item: dict[str, Any]) -> Any:
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
