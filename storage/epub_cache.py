"""Read-along EPUBs of finished jobs: built from the job's rows and files (core/publish/) and
kept in storage under the job's own prefix, so that asking again costs a download, and the EPUB
goes when the job goes.

An EPUB's audio must be MP3 or AAC in MP4 (the audio every EPUB 3 reading system plays). A job
made as mp3 or m4b lends its own file; any other job's audio is transcoded once, to AAC, by a
worker (worker/epub_audio.py), and kept beside the EPUBs. Building is then copying: the
documents are written a chapter at a time and the audio is copied in blocks, so neither the
book's text nor its audio is ever held whole.

The worker's progress is told through storage, which both the API and the workers reach: an
order file while a transcode is under way (until when it may run), an error file if it failed.
"""

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audio.formats import AudioFormat
from core.audio.timeline import chapter_titles, default_chapter_title
from core.publish.epub3 import (
    FOLDER,
    IMAGE_SIGNATURE_BYTES,
    BookInfo,
    MediaFile,
    book_documents,
    image_type,
)
from core.publish.epub_zip import StreamedFile, write_epub
from core.publish.read_along import ChunkText, ReadAlongChapter, chapter_read_along
from core.speech.word_timing import from_rows
from storage.blob_store import BlobNotFound, BlobStore, job_prefix
from storage.job_queries import slots_of
from storage.models import Chunk, Job

log = logging.getLogger(__name__)

# The worker task that transcodes a job's audio for its EPUB (sent by name: the API never
# imports the worker)
EPUB_AUDIO_TASK = "kq.epub_audio"
# Raised whenever the builders change what they write: EPUBs kept by an older build are then
# not served (they go with their job)
EPUB_LAYOUT_VERSION = 1

# Job formats whose file an EPUB carries as it is: (media type, its name in the EPUB)
OWN_AUDIO = {
    AudioFormat.MP3: (AudioFormat.MP3.media_type, "audio.mp3"),
    AudioFormat.M4B: (AudioFormat.M4B.media_type, "audio.m4a"),
}
# What other jobs' audio is transcoded to: AAC in MP4, the m4b encoder's (about 200 times
# faster than real time on one core, twice MP3's speed)
TRANSCODED_FORMAT = AudioFormat.M4B
TRANSCODED = OWN_AUDIO[TRANSCODED_FORMAT]
UNTITLED = "Untitled"


@dataclass(frozen=True)
class EpubAudio:
    """The file an EPUB carries as its audio: its key in storage, media type and name."""

    key: str
    media_type: str
    name: str


def epub_prefix(job_id: str) -> str:
    return f"{job_prefix(job_id)}/epub"


def epub_key(job: Job, words: bool) -> str:
    """Where the job's EPUB is kept: named by everything that shapes it besides the job's rows
    (which never change once it has succeeded), a cover set later included."""
    shape = json.dumps(
        [EPUB_LAYOUT_VERSION, words, job.title, job.author, job.lang, job.voice, job.cover_key]
    )
    digest = hashlib.sha256(shape.encode()).hexdigest()[:20]
    return f"{epub_prefix(job.id)}/{'words' if words else 'sentences'}-{digest}.epub"


def transcoded_audio_key(job_id: str) -> str:
    return f"{epub_prefix(job_id)}/audio.m4a"


def _order_key(job_id: str) -> str:
    return f"{epub_prefix(job_id)}/audio-order.json"


def _error_key(job_id: str) -> str:
    return f"{epub_prefix(job_id)}/audio-error.txt"


def needs_transcoding(job: Job) -> bool:
    return AudioFormat(job.format) not in OWN_AUDIO


def epub_audio(store: BlobStore, job: Job) -> EpubAudio | None:
    """The audio the job's EPUB carries; None while it has yet to be transcoded."""
    fmt = AudioFormat(job.format)
    if fmt in OWN_AUDIO:
        return EpubAudio(job.audio_key, *OWN_AUDIO[fmt])
    key = transcoded_audio_key(job.id)
    return EpubAudio(key, *TRANSCODED) if store.exists(key) else None


# --- The transcode's order, between the API and a worker -------------------------------------


def transcode_ordered(store: BlobStore, job_id: str) -> bool:
    """Whether a transcode of the job's audio was ordered and may still be under way."""
    try:
        order = json.loads(store.get(_order_key(job_id)))
    except (BlobNotFound, ValueError):
        return False
    return isinstance(order, dict) and float(order.get("until", 0)) > time.time()


def record_order(store: BlobStore, job_id: str, limit_s: float) -> None:
    """A transcode was ordered, which may run for ``limit_s`` seconds (its task's time limit):
    no other is ordered until then."""
    store.put(_order_key(job_id), json.dumps({"until": time.time() + limit_s}).encode())


def record_failure(store: BlobStore, job_id: str, error: str) -> None:
    store.put(_error_key(job_id), error.encode())
    store.delete_prefix(_order_key(job_id))


def end_order(store: BlobStore, job_id: str) -> None:
    store.delete_prefix(_order_key(job_id))


def take_failure(store: BlobStore, job_id: str) -> str | None:
    """Why the last transcode failed, if it did; taken, so that asking again orders another."""
    try:
        error = store.get(_error_key(job_id)).decode(errors="replace")
    except BlobNotFound:
        return None
    store.delete_prefix(_error_key(job_id))
    return error


# --- Building ----------------------------------------------------------------------------------


def _chapters(session: Session, job: Job, words: bool) -> Iterator[ReadAlongChapter]:
    """The job's chapters as read-along text, one at a time: a chapter's chunks are read when
    it is built, and only their text and words."""
    rows = session.execute(
        select(
            Chunk.index, Chunk.chapter, Chunk.audio_seconds, Chunk.pause_after, Chunk.pause_seconds
        )
        .where(Chunk.job_id == job.id)
        .order_by(Chunk.index)
    ).all()
    placed = list(zip(rows, slots_of(rows), strict=True))
    titles = chapter_titles(job.chapters, job.title)
    for number, run in groupby(placed, key=lambda pair: pair[0].chapter):
        run = list(run)
        texts = session.execute(
            select(Chunk.index, Chunk.text, Chunk.words)
            .where(Chunk.job_id == job.id, Chunk.index.between(run[0][0].index, run[-1][0].index))
            .order_by(Chunk.index)
        ).all()
        chunks = (
            ChunkText(row.index, text.text, slot, from_rows(text.words), row.pause_after)
            for (row, slot), text in zip(run, texts, strict=True)
        )
        title = (titles[number] if number < len(titles) else "").strip()
        yield chapter_read_along(
            number, title or default_chapter_title(number), chunks, lang=job.lang, words=words
        )


def _cover(store: BlobStore, job: Job) -> tuple[MediaFile, StreamedFile] | None:
    """The job's cover image, if it has one that every reading system shows (JPEG, PNG, GIF)."""
    if not job.cover_key:
        return None
    try:
        head = b"".join(store.read(job.cover_key, 0, IMAGE_SIGNATURE_BYTES))
        size = store.size(job.cover_key)
    except BlobNotFound:
        log.warning("job %s: its cover %s is missing from storage", job.id, job.cover_key)
        return None
    kind = image_type(head)
    if kind is None:
        log.warning("job %s: its cover is not JPEG, PNG or GIF; the EPUB has none", job.id)
        return None
    media_type, extension = kind
    name = f"cover.{extension}"
    key = job.cover_key
    return MediaFile(name, media_type), StreamedFile(
        f"{FOLDER}/{name}", size, lambda: store.read(key)
    )


def build_epub(session: Session, store: BlobStore, job: Job, words: bool, audio: EpubAudio) -> str:
    """Build the job's EPUB into storage (``epub_key``) and return its key. Raises BlobNotFound
    when the audio is missing from storage, StorageError when storage fails."""
    key = epub_key(job, words)
    book = BookInfo(
        job_id=job.id,
        title=(job.title or "").strip() or UNTITLED,
        author=job.author,
        language=job.lang,
        narrator=job.voice,
        modified=job.finished_at or datetime.now(UTC),
    )
    media = [
        StreamedFile(f"{FOLDER}/{audio.name}", store.size(audio.key), lambda: store.read(audio.key))
    ]
    cover = _cover(store, job)
    if cover is not None:
        media.append(cover[1])
    documents = book_documents(
        book,
        _chapters(session, job, words),
        MediaFile(audio.name, audio.media_type),
        cover[0] if cover else None,
    )
    with store.writer(key, suffix=".epub") as tmp, tmp.open("wb") as out:
        write_epub(out, documents, media, book.modified)
    log.info("job %s: EPUB %s built", job.id, key)
    return key
