"""The OpenAPI document says what the service answers: one error model, the error statuses and headers of every operation.

FastAPI documents a 422 with its own `HTTPValidationError` (`{detail: [{loc, msg, type}]}`) and nothing else
that can go wrong. The service answers every error as `api.schemas.ErrorBody` (`api.app.install_error_handlers`,
`api.limits`), so `install_openapi` rewrites the generated document once, for every route of every router
(routes added later in new files included), rather than each route declaring it:

- every operation documents 400, 404, 405, 409, 413, 422 and 500 with `ErrorBody`; an operation whose route
  authenticates the caller (`api.limits.requires_caller`) also 401 (with `WWW-Authenticate`) and 403, and
  declares the bearer scheme; the public ones (`/healthz`, `/metrics`, the feeds) declare neither;
- a 405 carries `Allow` (the methods the path has, `api.app.allowed_methods`);
- a route's own declaration of an error status (a description, an example) is kept, its body schema replaced;
- `HTTPValidationError` and `ValidationError` leave the document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.limits import requires_caller
from api.schemas import ErrorBody

ERROR_SCHEMA = "ErrorBody"
BEARER_SCHEME = "bearer"
# Status -> what it means here. 401 and 403 only where the route authenticates.
ERROR_STATUSES: dict[int, str] = {
    400: "Bad request: the request could not be read at all.",
    401: "No bearer token, or one that is unknown or revoked.",
    403: "The token's role or community does not reach this.",
    404: "No such community, month, version or id (in this community).",
    405: "The path does not have this method; `Allow` lists the ones it has.",
    409: "The current state does not allow it: a hard rule (`rules`), a published version, or a roster write that "
    "kept losing the race to other writes (`current_version`).",
    413: "The request body is larger than the limit (`ROTA_MAX_BODY_BYTES`; the scenario upload has its own).",
    422: "The request does not say something the service can use: every problem, each with its path.",
    500: "An unexpected error; the service logged the details.",
}
AUTH_STATUSES = (401, 403)
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _error_response(status: int, declared: dict[str, Any] | None) -> dict[str, Any]:
    response = dict(declared or {})
    description = response.get("description")
    if not description or description in ("Validation Error", "Successful Response"):
        response["description"] = ERROR_STATUSES[status]
    response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
    headers = dict(response.get("headers") or {})
    if status == 401:
        headers["WWW-Authenticate"] = {"description": "`Bearer`", "required": True, "schema": {"type": "string"}}
    if status == 405:
        headers["Allow"] = {"description": "the methods this path has", "required": True, "schema": {"type": "string"}}
    if headers:
        response["headers"] = headers
    return response


def _uses(document: Any, reference: str) -> bool:
    if isinstance(document, dict):
        return document.get("$ref") == reference or any(_uses(value, reference) for value in document.values())
    if isinstance(document, list):
        return any(_uses(value, reference) for value in document)
    return False


def document_errors(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """`document` (FastAPI's generated OpenAPI) with the service's error answers on every operation (see the module)."""
    authenticated: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.router.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema and requires_caller(route.dependant):
            authenticated.update((route.path_format, method.lower()) for method in route.methods or ())
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in schemas[ERROR_SCHEMA].pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    any_authenticated = False
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            needs_caller = (path, method) in authenticated
            any_authenticated |= needs_caller
            for status in ERROR_STATUSES:
                if status in AUTH_STATUSES and not needs_caller:
                    continue
                responses[str(status)] = _error_response(status, responses.get(str(status)))
            operation["responses"] = dict(sorted(responses.items()))
            if needs_caller:
                operation["security"] = [{BEARER_SCHEME: []}]
    if any_authenticated:
        components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
            "type": "http", "scheme": "bearer", "description": "a token from `rota token create` (or the office's tokens page)",
        }
    for name in FASTAPI_VALIDATION_SCHEMAS:
        if not _uses(document, f"#/components/schemas/{name}"):
            schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json` and `/docs`) FastAPI's document with the service's errors.

    FastAPI builds its document again when routes are added; each new one is rewritten once.
    """
    generated = app.openapi  # FastAPI's own, cached per route table
    rewritten: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generated()
        if not rewritten or rewritten[0] is not document:
            document_errors(app, document)
            rewritten[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
