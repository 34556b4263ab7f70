"""A running job, live: its progress as Server-Sent Events, and its audio as it is made.

Both read the database every ``KQ_LIVE_POLL_S`` (the workers write every finished chunk there),
so any API process can serve any job, and a reconnecting client loses nothing: events carry the
chunk's place in the job's finishing order as their id (``Last-Event-ID`` resumes after it),
and the audio stream plays chunks strictly in order, waiting for the next rather than skipping.
"""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from api.schemas import Progress
from core.audio.formats import StreamFormat
from core.audio.stream import StreamEncoder, decode_chunk
from core.audio.timeline import silence_blocks
from core.jobs.states import JobStatus
from core.speech.word_timing import words_json
from infra.settings import Settings
from storage.blob_store import BlobStore
from storage.db import session_factory
from storage.job_queries import (
    ChunkEvent,
    StreamPart,
    chars_done_through,
    chunk_events_after,
    get_job,
    playable_chunks_from,
)

log = logging.getLogger(__name__)

RECONNECT_MS = 2000
FINAL_EVENTS = {
    JobStatus.SUCCEEDED: "finished",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class JobState:
    status: str | None  # None: deleted
    chunks_total: int = 0
    chars_total: int = 0
    audio_seconds: float | None = None
    error: str | None = None


def _state(session, job_id: str) -> JobState:
    job = get_job(session, job_id)
    if job is None:
        return JobState(None)
    return JobState(job.status, job.chunks_total, job.chars_total, job.audio_seconds, job.error)


def sse(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def job_events(settings: Settings, job_id: str, after_seq: int) -> AsyncIterator[str]:
    """``chunk`` events (id = the chunk's place in the finishing order) from ``after_seq`` on,
    then one ``finished``, ``failed`` or ``cancelled`` event, and the end of the stream.
    Comments keep the connection alive through proxies while nothing happens."""
    sessions = session_factory(settings.sqlalchemy_url, readonly=True)

    def read(after: int) -> tuple[list[ChunkEvent], JobState]:
        with sessions() as session:
            # Events first: a job seen finished has all its chunk events already stored
            return chunk_events_after(session, job_id, after), _state(session, job_id)

    def chars_before(seq: int) -> int:
        with sessions() as session:
            return chars_done_through(session, job_id, seq)

    chars_done = await run_in_threadpool(chars_before, after_seq) if after_seq else 0
    yield f"retry: {RECONNECT_MS}\n\n"
    quiet_since = time.monotonic()
    while True:
        events, state = await run_in_threadpool(read, after_seq)
        for event in events:
            chars_done += event.chars
            after_seq = event.seq
            yield sse(
                "chunk",
                {
                    "chunk": event.index,
                    **Progress.of(
                        event.seq, state.chunks_total, chars_done, state.chars_total
                    ).model_dump(),
                    "audio_seconds": event.audio_seconds,
                    # Seconds from the chunk's own start: where the chunk lies in the final
                    # file is known only once every chunk before it is done
                    "words": words_json(event.words or ()),
                },
                event.seq,
            )
            quiet_since = time.monotonic()
        if state.status is None:
            yield sse("deleted", {"id": job_id})
            return
        if JobStatus(state.status).finished:
            yield sse(
                FINAL_EVENTS[JobStatus(state.status)],
                {
                    "id": job_id,
                    "status": state.status,
                    "audio_seconds": state.audio_seconds,
                    "error": state.error,
                },
            )
            return
        if time.monotonic() - quiet_since > settings.sse_keepalive_s:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(settings.live_poll_s)


def encoded_parts(
    encoder: StreamEncoder,
    parts: Iterable[StreamPart],
    audio_of: Callable[[StreamPart], np.ndarray],
) -> Iterator[bytes]:
    """The stream's bytes for ``parts`` in order: each chunk's audio, then its pause's
    silence a block at a time (``silence_blocks``), so that memory stays flat in the length of
    a pause."""
    for part in parts:
        yield encoder.encode(audio_of(part))
        for block in silence_blocks(part.pause):
            yield encoder.encode(block)


async def job_audio(
    settings: Settings, store: BlobStore, job_id: str, fmt: StreamFormat
) -> AsyncIterator[bytes]:
    """The job's audio in ``fmt`` as its chunks finish, in order, with the pauses of the final
    file. The level is the chunks' own: the book's one gain is known only once all are done."""
    sessions = session_factory(settings.sqlalchemy_url, readonly=True)
    encoder = StreamEncoder(fmt)
    next_index = 0

    def read(start: int):
        with sessions() as session:
            return playable_chunks_from(session, job_id, start), _state(session, job_id)

    def audio_of(part: StreamPart) -> np.ndarray:
        return decode_chunk(store.get(part.audio_key))

    while True:
        parts, state = await run_in_threadpool(read, next_index)
        if parts:
            async for data in iterate_in_threadpool(encoded_parts(encoder, parts, audio_of)):
                if data:
                    yield data
            next_index = parts[-1].index + 1
            continue  # there may be more already
        ended_early = state.status in (None, JobStatus.FAILED, JobStatus.CANCELLED)
        if ended_early:
            # The stream stops, playable, where the audio does; the job's status says why
            log.info("audio stream of job %s ends early: %s", job_id, state.status or "deleted")
        if ended_early or next_index >= state.chunks_total:
            yield await run_in_threadpool(encoder.finish)
            return
        await asyncio.sleep(settings.live_poll_s)
