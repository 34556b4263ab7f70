"""The body of ``POST /v1/jobs``: JSON, or a multipart form with a book file (SPEC §5)."""

from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import SettingsDep
from api.schemas import JobCreate
from core.books import BookError, Chapter, read_epub, split_markdown, split_txt

TEXT_READERS = {".txt": split_txt, ".md": split_markdown, ".markdown": split_markdown}
BOOK_TYPES = ".txt, .md or .epub"
FORM_FIELDS = {"voice", "speed", "lang", "format", "title", "priority"}


def _validated(data: dict | bytes) -> JobCreate:
    try:
        if isinstance(data, bytes):
            return JobCreate.model_validate_json(data)
        return JobCreate.model_validate(data)
    except ValidationError as error:
        # The same 422 (400 for malformed JSON) as any other validation error
        raise RequestValidationError(error.errors(include_url=False)) from error


def _chapters(name: Path, data: bytes, title: object) -> tuple[str, list[Chapter]]:
    """The title (the form's, else the book's, else the file name) and the chapters."""
    if name.suffix.lower() == ".epub":
        book = read_epub(data)
        return str(title or book.title or name.stem), book.chapters
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BookError("not UTF-8 text") from error
    if "\x00" in text:
        raise BookError("binary, not text")
    title = str(title or name.stem)
    return title, TEXT_READERS[name.suffix.lower()](text, title)


async def _from_form(request: Request, max_bytes: int) -> JobCreate:
    form = await request.form(max_files=1, max_fields=len(FORM_FIELDS), max_part_size=max_bytes)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"a multipart job needs a `file` ({BOOK_TYPES})"
        )
    unknown = set(form) - FORM_FIELDS - {"file"}
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown form fields: {', '.join(sorted(unknown))}",
        )
    name = Path(upload.filename or "")
    suffix = name.suffix.lower()
    if suffix != ".epub" and suffix not in TEXT_READERS:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"cannot read {name.name!r}: send a {BOOK_TYPES} file",
        )
    data = await upload.read()
    try:
        title, chapters = _chapters(name, data, form.get("title"))
    except BookError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name.name!r}: {error}"
        ) from error
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
