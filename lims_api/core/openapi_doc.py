"""The error answers every operation can give, added to the OpenAPI document from what each route depends on.

- 401 when the route reads a bearer token (a token sent but unknown, expired or revoked; or none where a
  role is required), 403 when it requires a role (``require_*`` dependencies);
- 404 when the path has parameters (an unknown or out-of-scope id);
- 400 for a JSON body that cannot be decoded, 413 for every operation with a request body (the body
  limit applies to every route), 415 for ingest;
- 422 as either FastAPI's validation list or our ``{"detail": "..."}`` with the reason in words;
- 503 for every operation (database unavailable: retry shortly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

ERROR_SCHEMA = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"],
                "title": "Error"}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
DESCRIPTIONS = {
    "400": "the body is not valid UTF-8 JSON",
    "401": "authentication required, or the bearer token is unknown, expired or revoked",
    "403": "the caller's role may not do this",
    "404": "not found (or outside the caller's scope)",
    "413": "request body over the limit (max_request_bytes; ingest and heartbeats: max_body_bytes)",
    "415": "wrong Content-Type",
    "422": "invalid input: FastAPI's validation list, or the reason in words",
    "503": "database unavailable or too many password checks at once; retry shortly",
}


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _dependencies(sub)


def _statuses(route: APIRoute, operation: dict[str, Any]) -> list[str]:
    names = {getattr(call, "__name__", "") for call in _dependencies(route.dependant)}
    statuses = ["503"]
    if "current_principal" in names:
        statuses.append("401")
    if any(name.startswith("require_") and name != "require_ndjson" for name in names):
        statuses += ["401", "403"]
    if "{" in route.path_format:
        statuses.append("404")
    if "requestBody" in operation or "read_bounded_body" in names:
        statuses.append("413")
    if "requestBody" in operation and "read_bounded_body" not in names:
        statuses.append("400")
    if "require_ndjson" in names:
        statuses.append("415")
    return statuses


def _document(operation: dict[str, Any], statuses: list[str]) -> None:
    responses = operation.setdefault("responses", {})
    for status in statuses:
        entry = responses.setdefault(status, {"description": DESCRIPTIONS[status]})
        entry.setdefault("content", {"application/json": {"schema": ERROR_REF}})
    validation = responses.get("422")
    if validation is not None:
        validation["content"] = {"application/json": {"schema": {"anyOf": [VALIDATION_REF, ERROR_REF]}}}
    elif operation.get("parameters") or "requestBody" in operation:
        responses["422"] = {"description": DESCRIPTIONS["422"],
                            "content": {"application/json": {"schema": {"anyOf": [VALIDATION_REF, ERROR_REF]}}}}


def install_error_docs(app: FastAPI) -> None:
    """Make ``app.openapi()`` list the error answers of every operation (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(title=app.title, version=app.version, routes=app.routes,
                               description=app.description)
        paths = document.get("paths", {})
        for route in app.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods:
                operation = paths.get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    _document(operation, _statuses(route, operation))
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        schemas.setdefault("HTTPValidationError", {"type": "object", "title": "HTTPValidationError",
                                                   "properties": {"detail": {"type": "array"}}})
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
