"""The building blocks of the OpenAPI document: schema and response helpers, shared values."""

from __future__ import annotations

from typing import Any

from importer.model import WARNINGS, ImportMode, JobStatus

STATUSES = [s.value for s in JobStatus]
STEPS = ["queued", "parsing", "deleting", "rings", "groups", "labels", "pages", "items", "finishing", "done"]
MODES = [m.value for m in ImportMode]
WARNING_CODES = list(WARNINGS)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None,
          links: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    if links:
        response["links"] = links
    return response


def links(parameter: str, operations: dict[str, str]) -> dict[str, Any]:
    """OpenAPI links: the id in a response body feeds `parameter` of these operations."""
    return {name: {"operationId": op, "parameters": {parameter: "$response.body#/id"}}
            for name, op in operations.items()}


JOB_LINKS = links("job_id", {"GetJob": "getJob", "CancelJob": "cancelJob", "RetryJob": "retryJob",
                              "JobErrors": "getJobErrors"})
WHEEL_LINKS = links("wheel_id", {"GetWheel": "getWheel", "GetItems": "getWheelItems",
                                  "SubmitImport": "submitImport"})


def error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return json_body(ref("Error"), description, headers)


def integer(minimum: int | None = 0, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", **extra}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
COUNTS = obj({k: integer() for k in ("rings", "groups", "labels", "pages", "items")})
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


def path_id(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id",
            "schema": UUID}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


WHEEL_ID = path_id("wheel_id", "wheel")
JOB_ID = path_id("job_id", "job")
UNAUTHORIZED = error("No token, or an invalid, expired or wrongly signed one")
NOT_FOUND_WHEEL = error("No such wheel, or not yours")
NOT_FOUND_JOB = error("No such job, or not yours")
SSE = {"description": "Server-Sent Events: `progress`, `completed`, `failed`, `cancelled`, each with the job "
                      "object as `data`",
       "content": {"text/event-stream": {"schema": {"type": "string"}}}}
ACCESS_TOKEN = query("access_token", {"type": "string"},
                      "The bearer token, for EventSource clients that cannot send headers")
IMPORT_RESPONSES = {
    "401": UNAUTHORIZED, "404": NOT_FOUND_JOB,
    "409": error("Only a failed or cancelled job can be retried, once (job_not_retryable, job_already_retried)"),
}
