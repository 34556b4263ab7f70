"""The body of ``POST /v1/jobs``: JSON, or a multipart form with a book file (SPEC §5)."""

from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import SettingsDep
from api.schemas import JobCreate
from core.books import split_markdown, split_txt

BOOK_READERS = {".txt": split_txt, ".md": split_markdown, ".markdown": split_markdown}
FORM_FIELDS = {"voice", "speed", "lang", "format", "title", "priority"}


def _validated(data: dict | bytes) -> JobCreate:
    try:
        if isinstance(data, bytes):
            return JobCreate.model_validate_json(data)
        return JobCreate.model_validate(data)
    except ValidationError as error:
        # The same 422 (400 for malformed JSON) as any other validation error
        raise RequestValidationError(error.errors(include_url=False)) from error


async def _from_form(request: Request, max_bytes: int) -> JobCreate:
    form = await request.form(max_files=1, max_fields=len(FORM_FIELDS), max_part_size=max_bytes)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "a multipart job needs a `file` (.txt or .md)"
        )
    unknown = set(form) - FORM_FIELDS - {"file"}
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown form fields: {', '.join(sorted(unknown))}",
        )
    name = Path(upload.filename or "")
    reader = BOOK_READERS.get(name.suffix.lower())
    if reader is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"cannot read {name.name!r}: send a .txt or .md file (UTF-8)",
        )
    data = await upload.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name.name!r} is not UTF-8 text"
        ) from error
    if "\x00" in text:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name.name!r} is binary, not text"
        )
    title = str(form.get("title") or name.stem)
    chapters = reader(text, title)
    if not chapters:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name.name!r} has nothing speakable"
        )
    fields = {k: v for k, v in form.items() if k in FORM_FIELDS}
    return _validated(
        {
            **fields,
            "title": title,
            "chapters": [{"title": c.title, "text": c.text} for c in chapters],
        }
    )


async def read_job_request(request: Request, settings: SettingsDep) -> JobCreate:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return _validated(await request.body())
    if content_type == "multipart/form-data":
        return await _from_form(request, settings.max_request_bytes)
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        "send JSON (application/json) or a book file (multipart/form-data with `file`)",
    )


JobRequestDep = Annotated[JobCreate, Depends(read_job_request)]

OPENAPI_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/JobCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **{field: {"type": "string"} for field in sorted(FORM_FIELDS)},
                    },
                }
            },
        },
    }
}
