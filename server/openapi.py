"""The OpenAPI 3.0 document of the API, served at /api/openapi.json; it describes what the views do."""

from __future__ import annotations

from typing import Any

from importer.model import WARNINGS, ImportMode, JobStatus

STATUSES = [s.value for s in JobStatus]
STEPS = ["queued", "parsing", "deleting", "rings", "groups", "labels", "pages", "items", "finishing", "done"]
MODES = [m.value for m in ImportMode]
WARNING_CODES = list(WARNINGS)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None,
          links: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    if links:
        response["links"] = links
    return response


def _links(parameter: str, operations: dict[str, str]) -> dict[str, Any]:
    """OpenAPI links: the id in a response body feeds `parameter` of these operations."""
    return {name: {"operationId": op, "parameters": {parameter: "$response.body#/id"}}
            for name, op in operations.items()}


JOB_LINKS = _links("job_id", {"GetJob": "getJob", "CancelJob": "cancelJob", "RetryJob": "retryJob",
                              "JobErrors": "getJobErrors"})
WHEEL_LINKS = _links("wheel_id", {"GetWheel": "getWheel", "GetItems": "getWheelItems",
                                  "SubmitImport": "submitImport"})


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return _json(_ref("Error"), description, headers)


def _int(minimum: int | None = 0, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", **extra}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
COUNTS = _obj({k: _int() for k in ("rings", "groups", "labels", "pages", "items")})
LOCATION = {"Location": {"description": "The job's URL", "schema": {"type": "string"}}}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}

CSV_EXAMPLE = "Aktivitet;Startdatum;Slutdatum;Område\nBudgetmöte;2026-02-03;2026-02-03;Ekonomi\n" \
              "Planeringsdag;2026-03-10;2026-03-11;Ledning\n"
STRUCTURED_EXAMPLE = {
    "importMode": "append", "fileName": "plan.json",
    "structure": {"rings": [{"id": "r1", "name": "Ekonomi", "type": "inner"}],
                  "activityGroups": [{"id": "g1", "name": "Möten", "color": "#3366CC"}], "labels": []},
    "pages": [{"year": 2026, "items": [{"name": "Budget", "startDate": "2026-02-01", "endDate": "2026-02-03",
                                        "ringId": "r1", "activityId": "g1"}]}],
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _obj({
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "message": {"type": "string"},
        "details": {"type": "object"}})}),
    "Job": _obj({
        "id": UUID, "wheel_id": UUID,
        "file_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "mode": {"type": "string", "enum": MODES},
        "status": {"type": "string", "enum": STATUSES},
        "progress": _int(0, maximum=100),
        "step": {"type": "string", "enum": STEPS},
        "current_step": {"type": "string", "maxLength": 200},
        "total_items": _int(), "processed_items": _int(), "rejected_rows": _int(),
        "eta_seconds": _nullable(_int()),
        "counts": _obj({k: _int() for k in ("rings", "groups", "labels", "pages", "items",
                                            "skipped_duplicates")}),
        "warnings": {"type": "array", "items": _ref("Warning")},
        "error": _nullable(_obj({"code": {"type": "string"}, "message": {"type": "string"}})),
        "attempts": _int(),
        "retry_of": _nullable(UUID),
        "created_at": TIME, "started_at": _nullable(TIME), "finished_at": _nullable(TIME),
        "seq": _int(1),
        "links": _obj({"self": {"type": "string"}, "events": {"type": "string"}, "errors": {"type": "string"}}),
    }),
    "Warning": {**_obj({"code": {"type": "string", "enum": WARNING_CODES},
                        "message": {"type": "string"}, "details": {"type": "object"}}),
                "description": "Something about the file worth knowing; nothing was rejected for it."},
    "JobList": _obj({"jobs": {"type": "array", "items": _ref("Job")}}),
    "NewWheel": {**_obj({"title": {"type": "string", "minLength": 1, "maxLength": 200},
                         "year": _int(1900, maximum=2100)}), "example": {"title": "Plan 2026", "year": 2026}},
    "Wheel": _obj({"id": UUID, "title": {"type": "string"}, "year": _int(1900, maximum=2100),
                   "counts": COUNTS, "created_at": TIME}),
    "WheelList": _obj({"wheels": {"type": "array", "items": _ref("Wheel")}}),
    "Item": _obj({
        "name": {"type": "string"}, "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"}, "ring": {"type": "string"},
        "group": {"type": "string"}, "label": _nullable({"type": "string"}),
        "description": _nullable({"type": "string"}), "page_year": _int(1900, maximum=2100)}),
    "ItemList": _obj({"items": {"type": "array", "items": _ref("Item")}}),
    "Mapping": {
        "type": "object", "additionalProperties": False,
        "description": "Which CSV header feeds which field, overriding detection.",
        "properties": {k: {"type": "string"} for k in
                       ("name", "start", "end", "ring", "group", "label", "description")}},
    "StructuredImport": {
        "type": "object", "required": ["structure", "pages"],
        "properties": {
            "importMode": {"type": "string", "enum": MODES},
            "fileName": {"type": "string", "minLength": 1, "maxLength": 255},
            "structure": _obj({
                "rings": {"type": "array", "items": _obj({
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "type": {"type": "string", "enum": ["inner", "outer"]},
                    "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}}, ["id", "name", "type"])},
                "activityGroups": {"type": "array", "items": _obj({
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}})},
                "labels": {"type": "array", "items": _obj({
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}})},
            }, ["rings", "activityGroups"]),
            "pages": {"type": "array", "items": _obj({
                "year": _int(1900, maximum=2100), "title": {"type": "string"},
                "items": {"type": "array", "items": _obj({
                    "name": {"type": "string"}, "startDate": {"type": "string", "format": "date"},
                    "endDate": {"type": "string", "format": "date"}, "ringId": {"type": "string"},
                    "activityId": {"type": "string"}, "labelId": {"type": "string"},
                    "description": {"type": "string"}},
                    ["name", "startDate", "endDate", "ringId", "activityId"])}},
                ["year", "items"])},
        },
    },
}


def _path_id(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id",
            "schema": UUID}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


WHEEL_ID = _path_id("wheel_id", "wheel")
JOB_ID = _path_id("job_id", "job")
UNAUTHORIZED = _error("No token, or an invalid, expired or wrongly signed one")
NOT_FOUND_WHEEL = _error("No such wheel, or not yours")
NOT_FOUND_JOB = _error("No such job, or not yours")
SSE = {"description": "Server-Sent Events: `progress`, `completed`, `failed`, `cancelled`, each with the job "
                      "object as `data`",
       "content": {"text/event-stream": {"schema": {"type": "string"}}}}
ACCESS_TOKEN = _query("access_token", {"type": "string"},
                      "The bearer token, for EventSource clients that cannot send headers")
IMPORT_RESPONSES = {
    "401": UNAUTHORIZED, "404": NOT_FOUND_JOB,
    "409": _error("Only a failed or cancelled job can be retried"),
}

PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {
        "200": _json(_obj({"status": {"type": "string"}}), "The process runs")}}},
    "/readyz": {"get": {"summary": "Readiness: the database answers and the LISTEN connection is up",
                        "security": [], "responses": {
        "200": _json(_obj({"status": {"type": "string"}, "checks": {"type": "object"}}), "Ready"),
        "503": _error("Not ready; details.checks says what failed")}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": {
        "200": {"description": "Prometheus text format",
                "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    "/api/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {
        "200": _json({"type": "object"}, "The OpenAPI document")}}},
    "/api/wheels": {
        "get": {"summary": "The user's wheels, newest first", "responses": {
            "200": _json(_ref("WheelList"), "The wheels"), "401": UNAUTHORIZED}},
        "post": {"operationId": "createWheel", "summary": "Create a wheel",
                 "requestBody": {"required": True,
                                 "content": {"application/json": {"schema": _ref("NewWheel")}}},
                 "responses": {
                     "201": _json(_ref("Wheel"), "The new wheel",
                                  {"Location": {"description": "The wheel's URL", "schema": {"type": "string"}}},
                                  WHEEL_LINKS),
                     "400": _error("Bad JSON, a title outside 1..200 characters or a year outside 1900..2100"),
                     "401": UNAUTHORIZED, "413": _error("The body is larger than 64 KiB"),
                     "415": _error("The body is not application/json")}},
    },
    "/api/wheels/{wheel_id}": {"get": {
        "operationId": "getWheel", "summary": "A wheel with counts", "parameters": [WHEEL_ID], "responses": {
        "200": _json(_ref("Wheel"), "The wheel"), "401": UNAUTHORIZED, "404": NOT_FOUND_WHEEL}}},
    "/api/wheels/{wheel_id}/items": {"get": {
        "operationId": "getWheelItems", "summary": "A wheel's items, by start date and name",
        "parameters": [WHEEL_ID, _query("year", _int(1900, maximum=2100), "Only the page of this year")],
        "responses": {"200": _json(_ref("ItemList"), "The items"), "400": _error("year is not a year"),
                      "401": UNAUTHORIZED, "404": NOT_FOUND_WHEEL}}},
    "/api/wheels/{wheel_id}/imports": {"post": {
        "operationId": "submitImport", "summary": "Start an import; answers before any row is loaded",
        "parameters": [
            WHEEL_ID,
            _query("mode", {"type": "string", "enum": MODES}, "text/csv form: append (default) or replace"),
            _query("file_name", {"type": "string", "maxLength": 255}, "text/csv form: the file's name"),
            _query("notify", {"type": "string", "enum": ["true", "false"]},
                   "text/csv and JSON forms: send a completion e-mail (default true)"),
            {"name": "Idempotency-Key", "in": "header", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 255},
             "description": "A repeated request with the same key returns the first job with 200"},
        ],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"},
                               "mode": {"type": "string", "enum": MODES},
                               "mapping": {"type": "string", "description": "JSON of a Mapping"},
                               "notify": {"type": "string", "enum": ["true", "false"]}}}},
            "text/csv": {"schema": {"type": "string", "format": "binary"}, "example": CSV_EXAMPLE},
            "application/json": {"schema": _ref("StructuredImport"), "example": STRUCTURED_EXAMPLE},
        }},
        "responses": {
            "200": _json(_ref("Job"), "The job an earlier request with this Idempotency-Key started", LOCATION),
            "202": _json(_ref("Job"), "The new job, pending", LOCATION, JOB_LINKS),
            "400": _error("Malformed: bad JSON, mode, mapping, notify or Idempotency-Key, no `file` part"),
            "401": UNAUTHORIZED, "404": NOT_FOUND_WHEEL,
            "413": _error("Larger than IMPORTER_MAX_UPLOAD_BYTES (refused while streaming)"),
            "415": _error("Neither text/csv, multipart/form-data nor application/json"),
            "422": _error("Cannot be an import: not text, no header, no usable column, no data rows"),
            "429": _error("The user has IMPORTER_MAX_ACTIVE_JOBS active jobs already", RETRY_AFTER),
        }}},
    "/api/imports": {"get": {
        "summary": "The user's jobs, newest first (keyset paging)",
        "parameters": [
            _query("status", {"type": "string", "enum": STATUSES}, "Only jobs in this status"),
            _query("wheel_id", UUID, "Only jobs of this wheel"),
            _query("limit", _int(1, maximum=100, default=20), "Page size (default 20)"),
            _query("before", {"type": "string"},
                   "The next page: the id of the last job of the previous page, or an ISO 8601 timestamp with "
                   "a time zone (jobs created before it)"),
        ],
        "responses": {"200": _json(_ref("JobList"), "The jobs"), "400": _error("A bad parameter"),
                      "401": UNAUTHORIZED}}},
    "/api/imports/{job_id}": {"get": {
        "operationId": "getJob", "summary": "A job", "parameters": [JOB_ID], "responses": {
        "200": _json(_ref("Job"), "The job"), "401": UNAUTHORIZED, "404": NOT_FOUND_JOB}}},
    "/api/imports/{job_id}/cancel": {"post": {
        "operationId": "cancelJob",
        "summary": "Cancel: a pending job ends cancelled at once, a running one becomes cancelling",
        "parameters": [JOB_ID], "responses": {
            "202": _json(_ref("Job"), "The job, cancelled or cancelling"), "401": UNAUTHORIZED,
            "404": NOT_FOUND_JOB, "409": _error("The job has already ended")}}},
    "/api/imports/{job_id}/retry": {"post": {
        "operationId": "retryJob", "summary": "Retry a failed or cancelled job from its stored file (no re-upload)",
        "parameters": [JOB_ID], "responses": {
            "202": _json(_ref("Job"), "The new job, with retry_of", LOCATION, JOB_LINKS), **IMPORT_RESPONSES,
            "429": _error("The user has IMPORTER_MAX_ACTIVE_JOBS active jobs already", RETRY_AFTER)}}},
    "/api/imports/{job_id}/errors.csv": {"get": {
        "operationId": "getJobErrors",
        "summary": "The rejected rows (UTF-8 with BOM; formula-like cells start with an apostrophe)",
        "parameters": [JOB_ID], "responses": {
            "200": {"description": "Columns row, column, reason, values",
                    "content": {"text/csv": {"schema": {"type": "string"}}}},
            "401": UNAUTHORIZED, "404": NOT_FOUND_JOB}}},
    "/api/imports/{job_id}/events": {"get": {
        "summary": "One job's progress stream; ends after the terminal event",
        "parameters": [JOB_ID, ACCESS_TOKEN,
                       {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": SSE, "401": UNAUTHORIZED, "404": NOT_FOUND_JOB}}},
    "/api/events": {"get": {
        "summary": "One stream for all of the user's jobs (event ids `<job id>:<seq>`)",
        "parameters": [ACCESS_TOKEN,
                       {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": SSE, "401": UNAUTHORIZED}}},
    "/": {"get": {"summary": "The web page", "security": [], "responses": {
        "200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
}


UNAVAILABLE = _error("The database is unreachable or busy; retry after Retry-After seconds", RETRY_AFTER)


def _with_unavailable(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation that touches the database may answer 503."""
    return {path: {method: ({**op, "responses": {**op["responses"], "503": UNAVAILABLE}}
                            if path.startswith("/api/") and path != "/api/openapi.json" else op)
                   for method, op in ops.items()}
            for path, ops in paths.items()}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Wheel importer", "version": "1",
                 "description": "Large, asynchronous spreadsheet imports into year wheels. Every error is "
                                "`{\"error\": {\"code\", \"message\", \"details\"}}`."},
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
        "paths": _with_unavailable(PATHS),
    }
