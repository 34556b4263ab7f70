"""The body of ``POST /v1/jobs``: JSON, or a multipart form with a book file."""

import json
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import Principal
from api.deps import ApiKeyDep, SettingsDep
from api.schemas import MAX_BATCH_JOBS, BatchCreate, JobCreate
from core.books import BookError, Chapter, split_markdown, split_txt
from core.epub import BookTooLong, TextBudget, read_epub
from core.settings import Settings

TEXT_READERS = {".txt": split_txt, ".md": split_markdown, ".markdown": split_markdown}
BOOK_TYPES = ".txt, .md or .epub"
# A form's fields are the JSON body's, but the text: that is the book file's
FORM_FIELDS = frozenset(JobCreate.model_fields) - {"text", "chapters"}
JSON_FORM_FIELDS = {"pronunciations"}  # a form field can only be a string: these carry JSON


def _validated(data: dict | bytes) -> JobCreate:
    # Called in a worker thread: validating a body of megabytes (every text scanned for
    # something speakable) must not hold up the event loop
    try:
        if isinstance(data, bytes):
            return JobCreate.model_validate_json(data)
        return JobCreate.model_validate(data)
    except ValidationError as error:
        # The same 422 (400 for malformed JSON) as any other validation error
        raise RequestValidationError(error.errors(include_url=False)) from error


def _book(name: Path, data: bytes, form, job: TextBudget, batch: TextBudget | None) -> dict:
    """Title, author and chapters of an uploaded book: the form's title and author when given,
    else the book's own, else the file name for the title; and an EPUB's language (its
    dc:language, when a supported one) when the form gives no `lang`."""
    language = None
    if name.suffix.lower() == ".epub":
        book = read_epub(data, *([job] if batch is None else [job, batch]))
        title, author, chapters, language = book.title, book.author, book.chapters, book.language
    else:
        title, author = None, None
        chapters = _text_chapters(name, data, str(form.get("title") or name.stem))
    fields = {
        "title": str(form.get("title") or title or name.stem),
        "author": form.get("author") or author,
        "chapters": [{"title": c.title, "text": c.text} for c in chapters],
    }
    if language and not form.get("lang"):
        fields["lang"] = language
    return fields


def _text_chapters(name: Path, data: bytes, title: str) -> list[Chapter]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BookError("not UTF-8 text") from error
    if "\x00" in text:
        raise BookError("binary, not text")
    return TEXT_READERS[name.suffix.lower()](text, title)


def _job_budget(principal: Principal) -> TextBudget:
    return TextBudget(
        principal.max_text_chars,
        "one job's limit (KQ_MAX_TEXT_CHARS, or the API key's own): "
        "split the book into several jobs",
    )


def _batch_budget(principal: Principal) -> TextBudget:
    """What the EPUBs of one batch may unpack to together: one job's worth, so that a batch of
    small uploads cannot make the API read and hold a hundred books' text. (A text file is no
    longer than the body that brought it, as JSON is: it counts only for its own job.)"""
    return TextBudget(
        principal.max_text_chars,
        "the limit for the EPUBs of one batch together (KQ_MAX_TEXT_CHARS, or the API key's "
        "own): send them in smaller batches",
    )


async def _form_jobs(
    request: Request, settings: Settings, principal: Principal, max_files: int
) -> list[JobCreate]:
    """One job per uploaded `file`, each with the form's other fields."""
    form = await request.form(
        max_files=max_files, max_fields=len(FORM_FIELDS), max_part_size=settings.max_request_bytes
    )
    uploads = form.getlist("file")
    if not uploads or not all(isinstance(u, UploadFile) for u in uploads):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"a multipart job needs a `file` ({BOOK_TYPES})"
        )
    unknown = set(form) - FORM_FIELDS - {"file"}
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown form fields: {', '.join(sorted(unknown))}",
        )
    fields = {k: v for k, v in form.items() if k in FORM_FIELDS}
    for name in JSON_FORM_FIELDS & set(fields):
        try:
            fields[name] = json.loads(str(fields[name]))
        except json.JSONDecodeError as error:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"form field {name} must be JSON: {error.msg} at character {error.pos}",
            ) from error
    # Each EPUB is read within one job's limit, and a batch's EPUBs within one shared budget:
    # a batch holds every book until all are checked
    batch = _batch_budget(principal) if max_files > 1 else None
    return [
        await _uploaded_job(upload, form, fields, _job_budget(principal), batch)
        for upload in uploads
    ]


async def _uploaded_job(
    upload: UploadFile, form, fields: dict, job: TextBudget, batch: TextBudget | None
) -> JobCreate:
    name = Path(upload.filename or "")
    suffix = name.suffix.lower()
    if suffix != ".epub" and suffix not in TEXT_READERS:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"cannot read {name.name!r}: send a {BOOK_TYPES} file",
        )
    data = await upload.read()
    # Reading a book costs CPU time that grows with it: a worker thread does it, so that the
    # event loop answers other requests meanwhile
    return await run_in_threadpool(_book_job, name, data, form, fields, job, batch)


def _book_job(
    name: Path, data: bytes, form, fields: dict, job: TextBudget, batch: TextBudget | None
) -> JobCreate:
    try:
        book = _book(name, data, form, job, batch)
    except BookTooLong as error:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"{name.name!r}: {error}") from error
    except BookError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name.name!r}: {error}"
        ) from error
    if not book["chapters"]:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name.name!r} has nothing speakable"
        )
    return _validated({**fields, **book})


async def read_job_request(
    request: Request, settings: SettingsDep, principal: ApiKeyDep
) -> JobCreate:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await run_in_threadpool(_validated, await request.body())
    if content_type == "multipart/form-data":
        return (await _form_jobs(request, settings, principal, max_files=1))[0]
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        "send JSON (application/json) or a book file (multipart/form-data with `file`)",
    )


JobRequestDep = Annotated[JobCreate, Depends(read_job_request)]


def openapi_body(model: str, files: str) -> dict:
    """The request body of a route that reads JSON or multipart itself, for the OpenAPI docs."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "description": files,
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            **{field: {"type": "string"} for field in sorted(FORM_FIELDS)},
                        },
                    }
                },
            },
        }
    }


OPENAPI_JOB_BODY = openapi_body("JobCreate", f"one book file ({BOOK_TYPES})")
OPENAPI_BATCH_BODY = openapi_body("BatchCreate", f"one or more `file` parts ({BOOK_TYPES})")


async def read_batch_request(
    request: Request, settings: SettingsDep, principal: ApiKeyDep
) -> list[JobCreate]:
    """``{"jobs": [...]}`` as JSON, or many `file` parts sharing the form's other fields."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await run_in_threadpool(_validated_batch, await request.body())
    if content_type == "multipart/form-data":
        return await _form_jobs(request, settings, principal, max_files=MAX_BATCH_JOBS)
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        'send JSON {"jobs": [...]} or book files (multipart/form-data, several `file` parts)',
    )


def _validated_batch(data: bytes) -> list[JobCreate]:
    # In a worker thread, as _validated
    try:
        return BatchCreate.model_validate_json(data).jobs
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from error


BatchRequestDep = Annotated[list[JobCreate], Depends(read_batch_request)]
