"""The schemas of the OpenAPI document (components.schemas)."""

from __future__ import annotations

from typing import Any

from importer.read.columns import FIELDS
from server.openapi.parts import (
    COUNTS,
    MODES,
    STATUSES,
    STEPS,
    TIME,
    UUID,
    WARNING_CODES,
    integer,
    nullable,
    obj,
    ref,
)

SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": obj({
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "message": {"type": "string"},
        "details": {"type": "object"}})}),
    "Job": obj({
        "id": UUID, "wheel_id": UUID,
        "file_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "mode": {"type": "string", "enum": MODES},
        "status": {"type": "string", "enum": STATUSES},
        "progress": integer(0, maximum=100),
        "step": {"type": "string", "enum": STEPS},
        "current_step": {"type": "string", "maxLength": 200},
        "total_items": integer(), "processed_items": integer(), "rejected_rows": integer(),
        "eta_seconds": nullable(integer()),
        "counts": obj({k: integer() for k in ("rings", "groups", "labels", "pages", "items",
                                            "skipped_duplicates")}),
        "warnings": {"type": "array", "items": ref("Warning")},
        "error": nullable(obj({"code": {"type": "string"}, "message": {"type": "string"}})),
        "attempts": integer(),
        "retry_of": nullable(UUID),
        "created_at": TIME, "started_at": nullable(TIME), "finished_at": nullable(TIME),
        "seq": integer(1),
        "links": obj({"self": {"type": "string"}, "events": {"type": "string"}, "errors": {"type": "string"}}),
    }),
    "Warning": {**obj({"code": {"type": "string", "enum": WARNING_CODES},
                        "message": {"type": "string"}, "details": {"type": "object"}}),
                "description": "Something about the file worth knowing; nothing was rejected for it."},
    "JobList": obj({"jobs": {"type": "array", "items": ref("Job")}}),
    "NewWheel": {**obj({"title": {"type": "string", "minLength": 1, "maxLength": 200},
                         "year": integer(1900, maximum=2100)}), "example": {"title": "Plan 2026", "year": 2026}},
    "Wheel": obj({"id": UUID, "title": {"type": "string"}, "year": integer(1900, maximum=2100),
                   "counts": COUNTS, "created_at": TIME}),
    "WheelList": obj({"wheels": {"type": "array", "items": ref("Wheel")}}),
    "Item": obj({
        "name": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"}, "ring": {"type": "string"},
        "group": {"type": "string"}, "label": nullable({"type": "string"}),
        "description": nullable({"type": "string"}), "page_year": integer(1900, maximum=2100)}),
    "ItemList": obj({"items": {"type": "array", "items": ref("Item")},
                     "next": nullable({"type": "string", "description": "Cursor of the next page "
                                       "(pass it as `after`); null on the last page"})}),
    "Mapping": {
        "type": "object", "additionalProperties": False,
        "description": "Which header feeds which field, overriding detection (null: no column); "
                       "`ignore` lists headers kept out of the description; `Header#2` names a repeat.",
        "properties": {**{k: nullable({"type": "string"}) for k in FIELDS},
                       "ignore": {"type": "array", "items": {"type": "string"}}}},
    "StructuredImport": {
        "type": "object", "required": ["structure", "pages"],
        "properties": {
            "importMode": {"type": "string", "enum": MODES},
            "fileName": {"type": "string", "minLength": 1, "maxLength": 255},
            "structure": obj({
                "rings": {"type": "array", "items": obj({
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "type": {"type": "string", "enum": ["inner", "outer"]},
                    "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}}, ["id", "name", "type"])},
                "activityGroups": {"type": "array", "items": obj({
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}})},
                "labels": {"type": "array", "items": obj({
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}})},
            }, ["rings", "activityGroups"]),
            "pages": {"type": "array", "items": obj({
                "year": integer(1900, maximum=2100), "title": {"type": "string"},
                "items": {"type": "array", "items": obj({
                    "name": {"type": "string"}, "startDate": {"type": "string", "format": "date"},
                    "endDate": {"type": "string", "format": "date"}, "ringId": {"type": "string"},
                    "activityId": {"type": "string"}, "labelId": {"type": "string"},
                    "description": {"type": "string"}},
                    ["name", "startDate", "endDate", "ringId", "activityId"])}},
                ["year", "items"])},
        },
    },
    "Preview": obj({
        "id": UUID, "wheel_id": UUID, "file_name": {"type": "string"}, "size_bytes": integer(),
        "format": obj({"kind": {"type": "string", "enum": ["csv", "xlsx", "xls", "ods", "json"]},
                       "encoding": nullable({"type": "string"}), "delimiter": nullable({"type": "string"}),
                       "sheet": nullable({"type": "string"}), "sheets": {"type": "array", "items": {"type": "string"}},
                       "header_row": nullable(integer(1))}),
        "columns": {"type": "array", "items": obj({
            "index": integer(), "header": {"type": "string"},
            "field": nullable({"type": "string", "enum": list(FIELDS)}),
            "samples": {"type": "array", "items": {"type": "string"}}})},
        "mapping": ref("Mapping"),
        "date_order": nullable({"type": "string", "enum": ["day_first", "month_first"]}),
        "date_order_source": nullable({"type": "string", "enum": ["data", "layout", "default", "request"]}),
        "counts": obj({"rows": integer(), "items": integer(), "rejected": integer(),
                       "skipped_duplicates": integer(), "split_items": integer(),
                       **{k: obj({"new": integer(), "existing": integer()})
                          for k in ("rings", "groups", "labels", "pages")}}),
        "items": {"type": "array", "items": obj({
            "row": integer(1), "name": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
            "end_date": {"type": "string", "format": "date"}, "ring": {"type": "string"},
            "group": {"type": "string"}, "label": nullable({"type": "string"}),
            "description": nullable({"type": "string"}), "page_year": integer(1900, maximum=2100)})},
        "rejected": {"type": "array", "items": obj({
            "row": integer(1), "column": nullable({"type": "string"}), "reason": {"type": "string"},
            "values": {"type": "array", "items": {"type": "string"}}})},
        "warnings": {"type": "array", "items": ref("Warning")},
        "sampled": {"type": "boolean"}, "expires_at": TIME,
        "links": obj({"self": {"type": "string"}, "imports": {"type": "string"}}),
    }),
    "PreviewChanges": {
        "type": "object", "additionalProperties": False,
        "description": "New choices; a field left out keeps its value, null clears it.",
        "properties": {"mapping": nullable(ref("Mapping")),
                       "date_order": nullable({"type": "string", "enum": ["day_first", "month_first"]}),
                       "sheet": nullable({"type": "string", "minLength": 1, "maxLength": 255})}},
    "PreviewImport": {
        "type": "object", "additionalProperties": False,
        "properties": {"mode": {"type": "string", "enum": MODES}, "notify": {"type": "boolean"},
                       "skip_duplicates": {"type": "boolean"}}},
}
