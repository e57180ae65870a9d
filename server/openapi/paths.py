"""The paths of the OpenAPI document: every route of server/routes.py, as the views answer."""

from __future__ import annotations

from typing import Any

from server.openapi.parts import (
    ACCESS_TOKEN,
    CSV_EXAMPLE,
    IMPORT_RESPONSES,
    JOB_ID,
    JOB_LINKS,
    LOCATION,
    MODES,
    NOT_FOUND_JOB,
    NOT_FOUND_WHEEL,
    RETRY_AFTER,
    SSE,
    STATUSES,
    STRUCTURED_EXAMPLE,
    UNAUTHORIZED,
    UUID,
    WHEEL_ID,
    WHEEL_LINKS,
    error,
    integer,
    json_body,
    obj,
    path_id,
    query,
    ref,
)

# How a file is read, and whether duplicates are skipped: query parameters of the raw-body
# forms and parts of the multipart form, alike for an import and a preview.
FILE_OPTIONS = [
    query("date_order", {"type": "string", "enum": ["day_first", "month_first"]},
          "Which part of 03/04 is the day (default: decided from the file, with a warning when assumed)"),
    query("sheet", {"type": "string", "minLength": 1, "maxLength": 255},
          "The workbook sheet to read (default: the first visible worksheet with data)"),
    query("skip_duplicates", {"type": "string", "enum": ["true", "false"]},
          "Append mode: leave out items the wheel already has (default true)"),
]
FILE_PARTS = {"date_order": {"type": "string", "enum": ["day_first", "month_first"]},
              "sheet": {"type": "string", "minLength": 1, "maxLength": 255},
              "skip_duplicates": {"type": "string", "enum": ["true", "false"]}}
PREVIEW_ID = path_id("preview_id", "preview")
# Refusals before the body is read (server/admission.py): the wheel, then these limits.
UPLOAD_LIMITS = ("Before the body is read: `too_many_uploads` (IMPORTER_MAX_UPLOADS_PER_USER bodies of the "
                 "user's are arriving at this process already), `storage_quota_exceeded` (the user's stored "
                 "uploads are at IMPORTER_MAX_STORED_BYTES_PER_USER, or this one would not fit)")
IMPORT_LIMITS = (UPLOAD_LIMITS + ", `too_many_active_jobs` (the user has IMPORTER_MAX_ACTIVE_JOBS "
                 "active jobs already, or as many imports are arriving)")
WHOLE_BODY_413 = ("Larger than IMPORTER_MAX_UPLOAD_BYTES: the whole body, every multipart part counted "
                  "(refused while streaming)")
NOT_FOUND_PREVIEW = error("No such preview, not yours, or expired")
FILE_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"},
                       "mapping": {"type": "string", "description": "JSON of a Mapping"}, **FILE_PARTS}}},
    "text/csv": {"schema": {"type": "string", "format": "binary"}, "example": CSV_EXAMPLE},
}}
PREVIEW_PATHS: dict[str, Any] = {
    "/api/wheels/{wheel_id}/previews": {"post": {
        "operationId": "createPreview", "summary": "Plan a file against the wheel without importing it",
        "parameters": [WHEEL_ID, query("file_name", {"type": "string", "maxLength": 255}, "The file's name"),
                       query("mapping", {"type": "string"}, "JSON of a Mapping"), *FILE_OPTIONS],
        "requestBody": FILE_BODY,
        "responses": {
            "201": json_body(ref("Preview"), "The preview",
                             {"Location": {"description": "The preview's URL", "schema": {"type": "string"}}}),
            "400": error("Malformed: bad mapping, date_order, sheet or body"), "401": UNAUTHORIZED,
            "404": NOT_FOUND_WHEEL, "413": error(WHOLE_BODY_413),
            "415": error("Neither a file type, multipart/form-data nor application/json"),
            "422": error("Cannot be an import"), "429": error(UPLOAD_LIMITS, RETRY_AFTER)}}},
    "/api/previews/{preview_id}": {
        "get": {"operationId": "getPreview", "summary": "A preview", "parameters": [PREVIEW_ID], "responses": {
            "200": json_body(ref("Preview"), "The preview"), "401": UNAUTHORIZED, "404": NOT_FOUND_PREVIEW}},
        "patch": {"operationId": "changePreview", "summary": "Plan the stored file again with new choices",
                  "parameters": [PREVIEW_ID],
                  "requestBody": {"required": True,
                                  "content": {"application/json": {"schema": ref("PreviewChanges")}}},
                  "responses": {"200": json_body(ref("Preview"), "The preview, recomputed"),
                                "400": error("A bad field"), "401": UNAUTHORIZED, "404": NOT_FOUND_PREVIEW,
                                "413": error("The body is larger than 64 KiB"),
                                "415": error("The body is not application/json"),
                                "422": error("The new choices cannot read the file")}}},
    "/api/previews/{preview_id}/imports": {"post": {
        "operationId": "importPreview", "summary": "Import the previewed file with the preview's choices",
        "parameters": [PREVIEW_ID,
                       {"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"}}],
        "requestBody": {"required": False, "content": {"application/json": {"schema": ref("PreviewImport")}}},
        "responses": {
            "200": json_body(ref("Job"), "The job an earlier request with this Idempotency-Key started", LOCATION),
            "202": json_body(ref("Job"), "The new job, pending", LOCATION, JOB_LINKS),
            "400": error("A bad field"), "401": UNAUTHORIZED, "404": NOT_FOUND_PREVIEW,
            "413": error("The body is larger than 64 KiB"), "415": error("The body is not application/json"),
            "429": error("The user has IMPORTER_MAX_ACTIVE_JOBS active jobs already", RETRY_AFTER)}}},
}

# Streams are admitted before they open, per server process (the connection is closed with the refusal).
STREAM_REFUSALS = {
    "429": error("The user holds IMPORTER_MAX_STREAMS_PER_USER streams on this server process already "
                 "(`too_many_streams`)", RETRY_AFTER),
    "503": error("This server process holds IMPORTER_MAX_STREAMS streams, or as many as its open-file limit "
                 "allows (`server_busy`); or the database is unreachable (`database_unavailable`)", RETRY_AFTER),
}

PATHS: dict[str, Any] = {
    "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {
        "200": json_body(obj({"status": {"type": "string"}}), "The process runs")}}},
    "/readyz": {"get": {"summary": "Readiness: the database answers and the LISTEN connection is up",
                        "security": [], "responses": {
        "200": json_body(obj({"status": {"type": "string"}, "checks": {"type": "object"}}), "Ready"),
        "503": error("Not ready; details.checks says what failed")}}},
    "/metrics": {"get": {
        "summary": "Prometheus metrics",
        "description": "Open when IMPORTER_METRICS_TOKEN is unset; else only for `Authorization: Bearer <it>`.",
        "security": [{}, {"metricsToken": []}], "responses": {
            "200": {"description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
            "401": error("IMPORTER_METRICS_TOKEN is set and the request does not carry it as a bearer "
                         "token (code `missing_token` or `invalid_token`)",
                         {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}})}}},
    "/api/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {
        "200": json_body({"type": "object"}, "The OpenAPI document")}}},
    "/api/wheels": {
        "get": {"summary": "The user's wheels, newest first", "responses": {
            "200": json_body(ref("WheelList"), "The wheels"), "401": UNAUTHORIZED}},
        "post": {"operationId": "createWheel", "summary": "Create a wheel",
                 "requestBody": {"required": True,
                                 "content": {"application/json": {"schema": ref("NewWheel")}}},
                 "responses": {
                     "201": json_body(ref("Wheel"), "The new wheel",
                                  {"Location": {"description": "The wheel's URL", "schema": {"type": "string"}}},
                                  WHEEL_LINKS),
                     "400": error("Bad JSON (also nested too deep), a title outside 1..200 characters or "
                                  "holding NUL or a lone surrogate, or a year outside 1900..2100"),
                     "401": UNAUTHORIZED, "413": error("The body is larger than 64 KiB"),
                     "415": error("The body is not application/json")}},
    },
    "/api/wheels/{wheel_id}": {"get": {
        "operationId": "getWheel", "summary": "A wheel with counts", "parameters": [WHEEL_ID], "responses": {
        "200": json_body(ref("Wheel"), "The wheel"), "401": UNAUTHORIZED, "404": NOT_FOUND_WHEEL}}},
    "/api/wheels/{wheel_id}/items": {"get": {
        "operationId": "getWheelItems", "summary": "A wheel's items, a page at a time, in start-date order",
        "description": "At most `limit` items, in (start date, id) order. While `next` is not null, "
                       "asking again with `after` set to it gives the following page; the pages are "
                       "disjoint and together hold every item. A cursor is opaque: a position in that "
                       "order, not an offset, so items added meanwhile never shift the pages after it.",
        "parameters": [
            WHEEL_ID, query("year", integer(1900, maximum=2100), "Only the page of this year"),
            query("limit", integer(1, maximum=10000, default=1000), "Items per page (default 1000)"),
            query("after", {"type": "string", "maxLength": 128},
                  "The `next` of the page before: the page after it (absent: the first page)")],
        "responses": {"200": json_body(ref("ItemList"), "One page of items"),
                      "400": error("year is not a year (bad_request), limit is not 1..10000 (bad_limit), "
                                   "or after is not a cursor of this list (bad_cursor)"),
                      "401": UNAUTHORIZED, "404": NOT_FOUND_WHEEL}}},
    "/api/wheels/{wheel_id}/imports": {"post": {
        "operationId": "submitImport", "summary": "Start an import; answers before any row is loaded",
        "parameters": [
            WHEEL_ID,
            query("mode", {"type": "string", "enum": MODES}, "text/csv form: append (default) or replace"),
            query("file_name", {"type": "string", "maxLength": 255}, "text/csv form: the file's name"),
            query("notify", {"type": "string", "enum": ["true", "false"]},
                   "text/csv and JSON forms: send a completion e-mail (default true)"),
            *FILE_OPTIONS,
            {"name": "Idempotency-Key", "in": "header", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
             "description": "A repeated request with the same key returns the first job with 200; printable "
                            "ASCII only (anything else is 400 `bad_idempotency_key`)"},
        ],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"},
                               "mode": {"type": "string", "enum": MODES},
                               "mapping": {"type": "string", "description": "JSON of a Mapping"},
                               "notify": {"type": "string", "enum": ["true", "false"]},
                               **FILE_PARTS}}},
            "text/csv": {"schema": {"type": "string", "format": "binary"}, "example": CSV_EXAMPLE},
            "application/json": {"schema": ref("StructuredImport"), "example": STRUCTURED_EXAMPLE},
        }},
        "responses": {
            "200": json_body(ref("Job"), "The job an earlier request with this Idempotency-Key started", LOCATION),
            "202": json_body(ref("Job"), "The new job, pending", LOCATION, JOB_LINKS),
            "400": error("Malformed: bad JSON (also nested too deep), mode, mapping, notify or Idempotency-Key, "
                         "no `file` part; a file name, sheet, mapping or structure name holding NUL or a lone "
                         "surrogate (such text in a structured item rejects that item instead)"),
            "401": UNAUTHORIZED, "404": NOT_FOUND_WHEEL,
            "413": error(WHOLE_BODY_413),
            "415": error("Neither text/csv, multipart/form-data nor application/json"),
            "422": error("Cannot be an import: not text, no header, no usable column, no data rows"),
            "429": error(IMPORT_LIMITS, RETRY_AFTER),
        }}},
    "/api/imports": {"get": {
        "summary": "The user's jobs, newest first (keyset paging)",
        "description": "With `all=true`, every user's jobs: only for an operator, a token with "
                       "`role: service_role` (anyone else gets 403 `forbidden`).",
        "parameters": [
            query("all", {"type": "boolean", "default": False},
                  "Every user's jobs (operators only; 403 `forbidden` for any other token)"),
            query("status", {"type": "string", "enum": STATUSES}, "Only jobs in this status"),
            query("wheel_id", UUID, "Only jobs of this wheel"),
            query("limit", integer(1, maximum=100, default=20), "Page size (default 20)"),
            query("before", {"type": "string"},
                   "The next page: the id of the last job of the previous page, or an ISO 8601 timestamp with "
                   "a time zone (jobs created before it)"),
        ],
        "responses": {"200": json_body(ref("JobList"), "The jobs"), "400": error("A bad parameter"),
                      "401": UNAUTHORIZED,
                      "403": error("`all=true` from a token that does not mark an operator")}}},
    "/api/imports/{job_id}": {"get": {
        "operationId": "getJob", "summary": "A job",
        "description": "An operator (a token with `role: service_role`) reads every user's job.",
        "parameters": [JOB_ID], "responses": {
        "200": json_body(ref("Job"), "The job"), "401": UNAUTHORIZED, "404": NOT_FOUND_JOB}}},
    "/api/imports/{job_id}/cancel": {"post": {
        "operationId": "cancelJob",
        "summary": "Cancel: a pending job ends cancelled at once, a running one becomes cancelling",
        "description": "An operator (a token with `role: service_role`) cancels every user's job.",
        "parameters": [JOB_ID], "responses": {
            "202": json_body(ref("Job"), "The job, cancelled or cancelling"), "401": UNAUTHORIZED,
            "404": NOT_FOUND_JOB, "409": error("The job has already ended")}}},
    "/api/imports/{job_id}/retry": {"post": {
        "operationId": "retryJob", "summary": "Retry a failed or cancelled job from its stored file (no re-upload)",
        "description": "An operator (a token with `role: service_role`) retries every user's job: the new job "
                       "is the owner's, counted against the owner's active-job limit.",
        "parameters": [JOB_ID], "responses": {
            "202": json_body(ref("Job"), "The new job, with retry_of", LOCATION, JOB_LINKS), **IMPORT_RESPONSES,
            "429": error("The user has IMPORTER_MAX_ACTIVE_JOBS active jobs already", RETRY_AFTER)}}},
    "/api/imports/{job_id}/errors.csv": {"get": {
        "operationId": "getJobErrors",
        "summary": "The rejected rows (UTF-8 with BOM; formula-like cells start with an apostrophe)",
        "description": "`;`-separated (what Swedish Excel opens): Rad, the file's own columns, Orsak. "
                       "A cell holding `;`, a quote or a line break is quoted. Streamed (chunked) from "
                       "the database a batch at a time: its size never shows in the server's memory.",
        "parameters": [JOB_ID], "responses": {
            "200": {"description": "Rad (the row number), the file's own columns, Orsak (the reason)",
                    "content": {"text/csv": {"schema": {"type": "string"}}}},
            "401": UNAUTHORIZED, "404": NOT_FOUND_JOB}}},
    "/api/imports/{job_id}/events": {"get": {
        "summary": "One job's progress stream; ends after the terminal event",
        "description": "An operator (a token with `role: service_role`) follows every user's job.",
        "parameters": [JOB_ID, ACCESS_TOKEN,
                       {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": SSE, "401": UNAUTHORIZED, "404": NOT_FOUND_JOB, **STREAM_REFUSALS}}},
    "/api/events": {"get": {
        "summary": "One stream for all of the user's jobs (event ids `<job id>:<seq>`)",
        "parameters": [ACCESS_TOKEN,
                       {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": SSE, "401": UNAUTHORIZED, **STREAM_REFUSALS}}},
    "/": {"get": {"summary": "The web page", "security": [], "responses": {
        "200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    **PREVIEW_PATHS,
}
