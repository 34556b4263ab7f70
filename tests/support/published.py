"""Succeeded jobs for the fast tests of feeds and deliveries, stored straight through the
storage functions: chapters, chunks with their durations, an audio file (and a cover) in
storage, and the end of the job through the one job-end path."""

import jsonschema
from sqlalchemy import select, update

from core.text.chunk_plan import plan_chunks
from storage.blob_store import BlobStore, job_audio_key
from storage.db import transaction
from storage.job_end import ending_jobs, job_end_effects
from storage.jobs import ChunkTiming, NewJob, create_job, finish_chunk, start_chunk
from storage.models import Chunk, Job
from tests.support.fast import made_chunk

CHAPTER_TEXTS = {
    "The Harbour": "Boats rocked against the quay while the gulls argued.",
    "The Market": "By noon the square was full of farmers and their carts.",
}
CHUNK_SECONDS = 1.5
# Not real audio: feeds and uploads pass the bytes through as they are
AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 40
# A JPEG's first bytes (how covers are told apart), then anything
COVER = b"\xff\xd8\xff\xe0" + b"cover" * 50


def succeeded_book(
    settings,
    store: BlobStore,
    celery,
    *,
    owner: str = "",
    title: str | None = "The Town",
    author: str | None = "A. Writer",
    chapters: bool = True,
    deliver: dict | None = None,
    cover: bytes | None = None,
    book_info: dict | None = None,
    audio: bytes = AUDIO,
    succeed: bool = True,
) -> str:
    """A job that has succeeded (or, with ``succeed=False``, failed) with ``audio`` as its
    file; its id. Tasks the end sends go to ``celery``."""
    texts = list(CHAPTER_TEXTS.values()) if chapters else [" ".join(CHAPTER_TEXTS.values())]
    planned = plan_chunks(
        texts, lang="en-us", markup="none", check_voice=str, max_tokens=60, first_chunk_tokens=60
    )
    spec = NewJob(
        voice="af_heart",
        speed=1.0,
        lang="en-us",
        format="wav",
        queue="kokoro",
        owner=owner,
        title=title,
        author=author,
        chapters=list(CHAPTER_TEXTS) if chapters else None,
        deliver=deliver,
    )
    url = settings.sqlalchemy_url
    with transaction(url) as session:
        job, _ = create_job(session, spec, planned, release=len(planned))
        chunk_ids = list(
            session.scalars(select(Chunk.id).where(Chunk.job_id == job.id).order_by(Chunk.index))
        )
    for chunk_id in chunk_ids:
        with transaction(url) as session:
            start_chunk(session, chunk_id, job.id, "host", 1)
            finish_chunk(session, chunk_id, job.id, _timing(chunk_id))
    key = job_audio_key(job.id, "wav")
    store.put(key, audio)
    cover_key = None
    if cover is not None:
        cover_key = f"covers/{job.id}.jpg"
        store.put(cover_key, cover)
    with transaction(url) as session:
        session.execute(
            update(Job).where(Job.id == job.id).values(cover_key=cover_key, book_info=book_info)
        )
    with ending_jobs(url, job_end_effects(celery, store)) as ends:
        if succeed:
            ends.succeed(
                job.id,
                audio_key=key,
                audio_bytes=len(audio),
                audio_seconds=CHUNK_SECONDS * len(chunk_ids),
            )
        else:
            ends.fail(job.id, "made to fail by the test")
    return job.id


def _timing(chunk_id: int) -> ChunkTiming:
    return made_chunk(f"chunks/test/{chunk_id}.flac", CHUNK_SECONDS)


# The Podcasting 2.0 JSON chapters format (podcastindex.org, "JSON Chapters Format"): the fields
# the spec requires or defines, as a JSON schema. Ordered start times are checked beside it
CHAPTERS_SCHEMA = {
    "type": "object",
    "required": ["version", "chapters"],
    "properties": {
        "version": {"type": "string", "minLength": 1},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["startTime"],
                "properties": {
                    "startTime": {"type": "number", "minimum": 0},
                    "endTime": {"type": "number", "minimum": 0},
                    "title": {"type": "string"},
                    "img": {"type": "string"},
                    "url": {"type": "string"},
                    "toc": {"type": "boolean"},
                    "location": {"type": "object"},
                },
                "additionalProperties": False,
            },
        },
    },
}


def assert_valid_chapters(document: dict) -> None:
    """``document`` is a JSON chapters file podcast apps read: the schema, start times in
    order, and each chapter ending after it starts."""
    jsonschema.validate(document, CHAPTERS_SCHEMA)
    starts = [chapter["startTime"] for chapter in document["chapters"]]
    assert starts == sorted(starts), starts
    for chapter in document["chapters"]:
        if "endTime" in chapter:
            assert chapter["endTime"] > chapter["startTime"], chapter
