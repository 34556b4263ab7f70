"""What the OpenAPI schema says a route may answer besides its success: every error has the one
body ``ErrorOut`` (``{"detail": ...}``), and the file routes answer audio, byte ranges and text.

Routes take their ``responses=`` from here, so that the schema tells the truth and one table of
descriptions serves them all (the errors themselves are made in ``api/errors.py``);
``tests/integration/test_fuzz.py`` holds the API to it.
"""

import json
from typing import Any

from api.schemas import ErrorOut
from core.audio.formats import media_types

ERRORS = {
    400: "Malformed request: the body is not valid JSON or not a readable form, or a bad cursor",
    401: "No API key, or an unknown or revoked one (`Authorization: Bearer <key>`)",
    404: "No such job or batch (or it belongs to another key)",
    409: "The job is not in a state that allows this",
    413: "The request body or the text is over the size limit",
    415: "The body is neither JSON nor multipart/form-data, or the file is not .txt, .md, .epub, "
    ".pdf, .docx, .html (.htm) or .fb2",
    422: "Invalid input: `detail` lists what is wrong where, or says it in words",
    429: "This key has too many unfinished jobs; retry after `Retry-After` seconds",
    503: "The job queue (Redis) is unreachable; nothing was queued",
}

Responses = dict[int | str, dict[str, Any]]


def errors(*codes: int | tuple[int, str]) -> Responses:
    """``responses=`` entries with the shared error body: a code, or (code, description) where
    the table's description is too general for the route."""
    documented: Responses = {}
    for entry in codes:
        code, description = entry if isinstance(entry, tuple) else (entry, ERRORS[entry])
        documented[code] = {"model": ErrorOut, "description": description}
    return documented


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_AUDIO = {media_type: _BINARY for media_type in media_types("job")}
_TEXT = {"schema": {"type": "string"}}


def audio_file(what: str) -> dict[str, Any]:
    """``responses=`` and ``openapi_extra=`` of a route answering an audio file through
    ``api.downloads.audio_download``: ``Range`` served the same from a local directory or a
    bucket; with a bucket and presigned downloads, a redirect to it instead."""
    responses: Responses = {
        200: {"description": what, "content": _AUDIO},
        307: {
            "description": "Only with S3 storage and `KQ_S3_PRESIGNED_DOWNLOADS`: the file is at "
            "the presigned URL in `Location` (valid for `KQ_S3_PRESIGNED_EXPIRY_S`), which "
            "serves `Range` itself",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        },
        206: {
            "description": "The requested byte range; several ranges as multipart/byteranges",
            "content": {**_AUDIO, "multipart/byteranges": _BINARY},
        },
        # Starlette answers a malformed Range header in plain text, not with ErrorOut
        400: {"description": "Malformed `Range` header", "content": {"text/plain": _TEXT}},
        416: {
            "description": "The range starts beyond the end of the file (`Content-Range` gives "
            "its size)",
            "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
        },
        **errors((503, "Only with S3 storage: the bucket could not be read; retry later")),
    }
    extra = {
        "parameters": [
            {
                "name": "Range",
                "in": "header",
                "required": False,
                "description": "Only part of the file, e.g. `bytes=0-1023` (206)",
                "schema": {"type": "string", "pattern": r"^bytes=\d*-\d*(, *\d*-\d*)*$"},
            }
        ]
    }
    return {"responses": responses, "openapi_extra": extra}


def text_file(media_types: list[str], what: str) -> Responses:
    """``responses=`` entry of a route answering text in one of ``media_types``."""
    return {200: {"description": what, "content": dict.fromkeys(media_types, _TEXT)}}


# One Server-Sent Event of GET /v1/jobs/{id}/events; `data` is JSON text
SSE_EVENT = {
    "schema": {
        "type": "object",
        "properties": {
            "event": {"enum": ["chunk", "finished", "failed", "cancelled", "deleted"]},
            "id": {"type": "string", "pattern": r"^\d+$"},
            "data": {"type": "string", "contentMediaType": "application/json"},
            "retry": {"type": "integer"},
        },
    }
}


def live_stream(media_types: list[str], what: str) -> Responses:
    """``responses=`` entry of a route that streams while the job runs: audio, or events."""
    content = {
        media_type: SSE_EVENT if media_type == "text/event-stream" else _BINARY
        for media_type in media_types
    }
    return {200: {"description": what, "content": content}}


NOT_MODIFIED: Responses = {304: {"description": "The job's `ETag` matches `If-None-Match`"}}


def _error_response(code: int) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    return {"description": ERRORS[code], "content": {"application/json": {"schema": schema}}}


FASTAPI_422 = {"$ref": "#/components/schemas/HTTPValidationError"}


def complete_error_responses(schema: dict[str, Any]) -> None:
    """Document in a generated schema the errors its routes do not declare themselves: the 401
    of every operation that takes an API key (the auth dependency raises it), and 422 with the
    body this app answers (``api.main``'s ``_validation_error``) instead of FastAPI's default."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorOut" not in components:
        body = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorOut"] = body
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if operation.get("security"):
                responses.setdefault("401", _error_response(401))
            documented_422 = responses.get("422", {}).get("content", {}).get("application/json")
            if documented_422 and documented_422.get("schema") == FASTAPI_422:
                responses["422"] = _error_response(422)
    # FastAPI's validation error bodies, unused now
    for name in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{name}"' not in json.dumps(schema.get("paths", {})):
            components.pop(name, None)
