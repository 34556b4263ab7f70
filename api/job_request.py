"""The body of ``POST /v1/jobs``: JSON, or a multipart form with a book file."""

import json
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.auth import Principal
from api.book_details import epub_details, read_form_cover
from api.book_readers import BOOK_READERS, UNPACKED_BOOKS
from api.deps import ApiKeyDep, ReadersDep, SettingsDep
from api.errors import payload_too_large, unprocessable, unsupported_media_type
from api.reader_processes import ReaderProcesses
from api.schemas import MAX_BATCH_JOBS, BatchCreate, JobCreate
from core.text.books import BookError, Chapter, split_markdown, split_txt
from core.text.epub import BookTooLong, TextBudget
from infra.settings import Settings

TEXT_READERS = {".txt": split_txt, ".md": split_markdown, ".markdown": split_markdown}
BOOK_TYPES = ".txt, .md, .epub, .pdf, .docx, .html or .fb2"
# A form's fields are the JSON body's, but the text: that is the book file's
FORM_FIELDS = frozenset(JobCreate.model_fields) - {"text", "chapters"}
JSON_FORM_FIELDS = {"pronunciations", "deliver"}  # a form field is a string: these carry JSON
# A form's cast is a saved cast's name, or the cast itself as JSON (an object)
CAST_FIELD = "cast"


def _validated(data: dict | bytes) -> JobCreate:
    # Called in a reading process: validating a body of megabytes (every text scanned for
    # something speakable) must not hold up the event loop
    try:
        if isinstance(data, bytes):
            return JobCreate.model_validate_json(data)
        return JobCreate.model_validate(data)
    except ValidationError as error:
        # The same 422 (400 for malformed JSON) as any other validation error
        # Without the input, which the answer leaves out: a body of megabytes crosses back from
        # the reading process otherwise
        raise RequestValidationError(
            error.errors(include_url=False, include_input=False)
        ) from error


def _book(
    name: Path,
    data: bytes,
    form: dict,
    job: TextBudget,
    batch: TextBudget | None,
    settings: Settings,
) -> dict:
    """Title, author and chapters of an uploaded book: the form's title and author when given,
    else the book's own, else the file name for the title; and a book file's language (an
    EPUB's dc:language, a PDF's or a page's lang..., when a supported one) when the form gives
    no `lang`."""
    language, details = None, {}
    suffix = name.suffix.lower()
    preface = str(form.get("title") or name.stem)  # the title of text before a first chapter
    if suffix in BOOK_READERS:
        budgets = [job] if batch is None or suffix not in UNPACKED_BOOKS else [job, batch]
        book = BOOK_READERS[suffix](data, budgets, preface, settings)
        title, author, chapters, language = book.title, book.author, book.chapters, book.language
        if suffix == ".epub":
            details = epub_details(book, form)  # its cover, series...: those the form lacks
    else:
        title, author = None, None
        chapters = _text_chapters(name, data, preface)
    fields = {
        "title": str(form.get("title") or title or name.stem),
        "author": form.get("author") or author,
        "chapters": [{"title": c.title, "text": c.text} for c in chapters],
        **details,
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
    """What the EPUB, PDF and DOCX files of one batch may unpack to together: one job's worth,
    so that a batch of small uploads cannot make the API read and hold a hundred books' text.
    (A text, HTML or FB2 file is no longer than the body that brought it, as JSON is: it
    counts only for its own job.)"""
    return TextBudget(
        principal.max_text_chars,
        "the limit for the EPUB, PDF and DOCX files of one batch together (KQ_MAX_TEXT_CHARS, "
        "or the API key's own): send them in smaller batches",
    )


async def _form_jobs(
    request: Request,
    readers: ReaderProcesses,
    settings: Settings,
    principal: Principal,
    max_files: int,
) -> list[JobCreate]:
    """One job per uploaded `file`, each with the form's other fields."""
    form = await request.form(
        max_files=max_files + 1,  # the books, and a cover
        max_fields=len(FORM_FIELDS),
        max_part_size=settings.max_request_bytes,
    )
    uploads = form.getlist("file")
    if len(uploads) > max_files:
        raise unprocessable(f"send at most {max_files} `file` part(s) here")
    if not uploads or not all(isinstance(u, UploadFile) for u in uploads):
        raise unprocessable(f"a multipart job needs a `file` ({BOOK_TYPES})")
    unknown = set(form) - FORM_FIELDS - {"file"}
    if unknown:
        raise unprocessable(f"unknown form fields: {', '.join(sorted(unknown))}")
    fields = {k: v for k, v in form.items() if k in FORM_FIELDS}
    await read_form_cover(form, fields)
    json_fields = set(JSON_FORM_FIELDS)
    if str(fields.get(CAST_FIELD, "")).lstrip().startswith("{"):
        json_fields.add(CAST_FIELD)
    for name in json_fields & set(fields):
        try:
            fields[name] = json.loads(str(fields[name]))
        except json.JSONDecodeError as error:
            raise unprocessable(
                f"form field {name} must be JSON: {error.msg} at character {error.pos}",
            ) from error
    # Each book is read within one job's limit, and a batch's EPUB, PDF and DOCX files within
    # one shared budget: a batch holds every book until all are checked
    batch = _batch_budget(principal) if max_files > 1 else None
    jobs = []
    for upload in uploads:
        job, batch = await _uploaded_job(
            readers, upload, fields, _job_budget(principal), batch, settings
        )
        jobs.append(job)
    return jobs


async def _uploaded_job(
    readers: ReaderProcesses,
    upload: UploadFile,
    fields: dict,
    job: TextBudget,
    batch: TextBudget | None,
    settings: Settings,
) -> tuple[JobCreate, TextBudget | None]:
    """The job of one uploaded book, and what the batch's budget has left after it."""
    name = Path(upload.filename or "")
    suffix = name.suffix.lower()
    if suffix not in BOOK_READERS and suffix not in TEXT_READERS:
        raise unsupported_media_type(f"cannot read {name.name!r}: send a {BOOK_TYPES} file")
    data = await upload.read()
    # Reading a book costs CPU time that grows with it: a reading process does it, so that the
    # API answers other requests meanwhile (it sends back the batch's budget, spent)
    return await readers.read(_book_job, name, data, fields, job, batch, settings)


def _book_job(
    name: Path,
    data: bytes,
    fields: dict,
    job: TextBudget,
    batch: TextBudget | None,
    settings: Settings,
) -> tuple[JobCreate, TextBudget | None]:
    try:
        book = _book(name, data, fields, job, batch, settings)
    except BookTooLong as error:
        raise payload_too_large(f"{name.name!r}: {error}") from error
    except BookError as error:
        raise unprocessable(f"{name.name!r}: {error}") from error
    if not book["chapters"]:
        raise unprocessable(f"{name.name!r} has nothing speakable")
    return _validated({**fields, **book}), batch


async def read_job_request(
    request: Request, settings: SettingsDep, principal: ApiKeyDep, readers: ReadersDep
) -> JobCreate:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await readers.read(_validated, await request.body())
    if content_type == "multipart/form-data":
        return (await _form_jobs(request, readers, settings, principal, max_files=1))[0]
    raise unsupported_media_type(
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
    request: Request, settings: SettingsDep, principal: ApiKeyDep, readers: ReadersDep
) -> list[JobCreate]:
    """``{"jobs": [...]}`` as JSON, or many `file` parts sharing the form's other fields."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await readers.read(_validated_batch, await request.body())
    if content_type == "multipart/form-data":
        return await _form_jobs(request, readers, settings, principal, max_files=MAX_BATCH_JOBS)
    raise unsupported_media_type(
        'send JSON {"jobs": [...]} or book files (multipart/form-data, several `file` parts)',
    )


def _validated_batch(data: bytes) -> list[JobCreate]:
    # In a reading process, as _validated
    try:
        return BatchCreate.model_validate_json(data).jobs
    except ValidationError as error:
        raise RequestValidationError(
            error.errors(include_url=False, include_input=False)
        ) from error


BatchRequestDep = Annotated[list[JobCreate], Depends(read_batch_request)]
