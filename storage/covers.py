"""Covers in storage: a job's cover image lies at ``covers/<job id>.<jpg|png>``, outside the
job's own prefix (a failed or cancelled job keeps its cover: only its audio goes), and goes
when the job is deleted (storage.jobs.delete_job lists it with the audio no job holds). A
revision gets a copy of its job's cover, so that each job's cover is its own to delete."""

from core.books.covers import IMAGE_MEDIA_TYPES, CoverImage, image_extension
from storage.blob_store import BlobNotFound, BlobStore

COVERS_PREFIX = "covers"


def cover_key(job_id: str, extension: str) -> str:
    return f"{COVERS_PREFIX}/{job_id}.{extension}"


def cover_media_type(key: str) -> str:
    """The media type of the cover stored at ``key``, by the extension it was stored with."""
    return IMAGE_MEDIA_TYPES.get(image_extension(key) or "", "application/octet-stream")


def put_cover(store: BlobStore, job_id: str, cover: CoverImage) -> str:
    """Store the job's cover; its key."""
    key = cover_key(job_id, cover.extension)
    store.put(key, cover.data)
    return key


def copy_cover(store: BlobStore, key: str, job_id: str) -> str | None:
    """A copy of the cover at ``key`` as ``job_id``'s; None when it is gone (its job deleted
    meanwhile)."""
    try:
        data = store.get(key)
    except BlobNotFound:
        return None
    new_key = cover_key(job_id, image_extension(key) or "")
    store.put(new_key, data)
    return new_key
