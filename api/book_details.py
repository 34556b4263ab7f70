"""A job's book details and cover at the API: what an uploaded book or form adds to a job's
fields, the cover written to storage before the job's row, and the details a job shows."""

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.errors import missing, payload_too_large, service_unavailable, unsupported_media_type
from api.schemas import JobCreate
from core.books.covers import MAX_COVER_BYTES, CoverError, CoverImage, checked_cover, data_url
from core.books.details import BOOK_FIELDS, book_info, narrator
from core.text.epub import Book
from storage.blob_store import BlobNotFound, BlobStore, StorageError
from storage.covers import copy_cover, put_cover
from storage.models import Job

log = logging.getLogger(__name__)
COVER_FIELD = "cover"


def _given(form, name: str) -> bool:
    value = form.get(name)
    if isinstance(value, UploadFile):  # a file input left empty still sends a part
        return bool(value.filename) or bool(value.size)
    return value is not None and str(value).strip() != ""


async def read_form_cover(form, fields: dict) -> None:
    """A `cover` file of a multipart form, checked and put in ``fields`` as the data: URL
    JobCreate takes (413 too large, 415 not a JPEG or PNG); an empty part is left out."""
    upload = fields.get(COVER_FIELD)
    if upload is not None and not _given(form, COVER_FIELD):
        del fields[COVER_FIELD]  # an empty part: none chosen
    if not isinstance(upload, UploadFile) or COVER_FIELD not in fields:
        return  # none, or a data: URL as text (JobCreate checks it)
    data = await upload.read(MAX_COVER_BYTES + 1)
    try:
        cover = checked_cover(data, f"the cover {upload.filename or ''!r}")
    except CoverError as error:
        if error.too_large:
            raise payload_too_large(str(error)) from error
        raise unsupported_media_type(str(error)) from error
    fields[COVER_FIELD] = await run_in_threadpool(data_url, cover)


def epub_details(book: Book, form) -> dict:
    """What an EPUB's package document gives of the details and the cover, for those the form
    does not give."""
    found = {name: getattr(book, name) for name in BOOK_FIELDS}
    if book.cover is not None:
        found[COVER_FIELD] = data_url(checked_cover(book.cover))
    return {
        name: value for name, value in found.items() if value is not None and not _given(form, name)
    }


def job_book_info(body: JobCreate) -> dict | None:
    """The details a job keeps in jobs.book_info."""
    return book_info(body.model_dump(include=set(BOOK_FIELDS)))


def store_job_cover(
    store: BlobStore | None, job_id: str, body: JobCreate, revision: Job | None
) -> str | None:
    """Write the new job's cover (the body's, else a copy of the revised job's) before its row
    is stored; its key, or None for none. 503 when storage cannot take it."""
    cover: CoverImage | None = body.cover_image()
    if store is None and (cover is not None or (revision is not None and revision.cover_key)):
        raise ValueError("a job with a cover is submitted with the store to keep it in")
    try:
        if store is not None and cover is not None:
            return put_cover(store, job_id, cover)
        if store is not None and revision is not None and revision.cover_key:
            return copy_cover(store, revision.cover_key, job_id)
    except StorageError as error:
        log.error("the cover of job %s could not be stored: %s", job_id, error)
        raise service_unavailable(
            "the cover could not be stored (storage is unavailable); nothing was stored: "
            "submit again later",
            retry_after_s=5,
        ) from error
    return None


def discard_cover(store: BlobStore | None, key: str | None) -> None:
    """The cover of a job that was not stored after all."""
    if store is not None and key:
        store.delete_prefix(key)


def book_fields(job: Job) -> dict:
    """The details JobOut shows: each of BOOK_FIELDS (null when not given), the narrator, and
    where the cover is."""
    info = job.book_info or {}
    return {
        **{name: info.get(name) for name in BOOK_FIELDS},
        "narrator": narrator(job.voice),
        "cover": f"/v1/jobs/{job.id}/cover" if job.cover_key else None,
    }


def read_cover(store: BlobStore, key: str, of: str) -> bytes:
    """The stored cover of ``of`` (a job, a book in a feed): a 404 when storage has lost it, a
    503 while storage cannot be read."""
    try:
        return store.get(key)
    except BlobNotFound as error:
        log.error("cover %s is missing from storage %s", key, store)
        raise missing(f"the cover of {of} is missing from storage") from error
    except StorageError as error:
        log.error("cover %s could not be read: %s", key, error)
        raise service_unavailable("storage is unavailable; try again later", 5) from error
