"""Celery tasks: ``synthesize_chunk`` for each chunk, ``assemble_job`` once per job.

Tasks receive ids and re-read their rows; the job id and chunk index ride along only so that
Flower shows readable arguments.
"""

import functools
import logging
import os
import resource
import sys
import time

import numpy as np
from celery import Task
from sqlalchemy.exc import OperationalError

from core.audio_formats import SAMPLE_RATE, AudioFormat
from core.audio_stream import decode_chunk, encode_chunk
from core.queue import ASSEMBLE_JOB, SYNTHESIZE_CHUNK, send_assembly, send_chunks, send_webhook
from core.settings import get_settings
from core.states import JobStatus
from storage.blobs import (
    BlobStore,
    blob_store,
    chapter_audio_key,
    chunk_key,
    job_audio_key,
    job_prefix,
)
from storage.db import transaction
from storage.jobs import (
    AssemblyPart,
    ChunkTiming,
    callback_url,
    chunks_for_assembly,
    fail_chunk,
    fail_job,
    finish_chunk,
    finish_job,
    get_job,
    release_chunks,
    start_chunk,
)
from worker.app import app, load_engine, worker_host
from worker.audio import book_gain, fade_edges, write_assembled

log = logging.getLogger(__name__)

# Worth another try: storage hiccups, a database briefly locked or unreachable
TRANSIENT_ERRORS = (OSError, OperationalError)


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _db_url() -> str:
    return get_settings().sqlalchemy_url


@functools.cache
def _store() -> BlobStore:
    # One per process: a bucket's client (made lazily, again after a fork) is reused
    return blob_store(get_settings())


class ChunkTask(Task):
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = get_settings().task_max_retries

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        with transaction(_db_url()) as session:
            fail_chunk(session, args[0], f"{type(exc).__name__}: {exc}", final=False)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        chunk_id, job_id = args[0], args[1]
        with transaction(_db_url()) as session:
            failed = fail_chunk(session, chunk_id, f"{type(exc).__name__}: {exc}", final=True)
            webhook = failed and callback_url(session, job_id)
        if webhook:
            send_webhook(app, get_settings(), job_id, JobStatus.FAILED)
        # A failed job keeps no partial audio
        _store().delete_prefix(job_prefix(job_id))


@app.task(name=SYNTHESIZE_CHUNK, base=ChunkTask, bind=True)
def synthesize_chunk(self, chunk_id: int, job_id: str, index: int) -> str:
    with transaction(_db_url()) as session:
        work = start_chunk(session, chunk_id, worker_host(), os.getpid())
    if work is None:
        return "skipped"
    engine = load_engine()
    result = engine.synthesize(work.text, work.voice, work.speed, work.lang)
    encode_started = time.perf_counter()
    key = chunk_key(work.job_id, work.index)
    audio = fade_edges(result.audio)
    _store().put(key, encode_chunk(audio))
    timing = ChunkTiming(
        tokens=result.tokens,
        audio_key=key,
        audio_seconds=result.seconds,
        peak=float(np.abs(audio).max()) if len(audio) else 0.0,
        phonemize_ms=result.phonemize_ms,
        inference_ms=result.inference_ms,
        encode_ms=(time.perf_counter() - encode_started) * 1000,
        worker_host=worker_host(),
        worker_pid=os.getpid(),
        provider=engine.provider,
        worker_rss_mb=peak_rss_mb(),
    )
    with transaction(_db_url()) as session:
        finished = finish_chunk(session, chunk_id, timing)
        job = get_job(session, work.job_id)
        job_status = job.status if job is not None else None
        # This chunk's slot in its job's in-flight window passes to the job's next chunk
        next_chunks = release_chunks(session, work.job_id, 1) if finished.first_time else []
    send_chunks(app, get_settings(), work.job_id, next_chunks, work.priority)
    if job_status is None:
        # DELETE removed the job's files while this chunk ran; take back what it just wrote
        _store().delete_prefix(job_prefix(work.job_id))
        return "deleted"
    if job_status in (JobStatus.CANCELLED, JobStatus.FAILED):
        # Cancel (or another chunk's failure) removed the audio made so far; this chunk's too
        _store().delete_prefix(job_prefix(work.job_id))
        return job_status
    if finished.completes_job:
        # Sent after the commit, by the one chunk whose update completed the job
        send_assembly(app, get_settings(), work.job_id)
    return "done"


class AssembleTask(Task):
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 60
    max_retries = get_settings().task_max_retries

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        job_id = args[0]
        with transaction(_db_url()) as session:
            failed = fail_job(session, job_id, f"assembly failed: {type(exc).__name__}: {exc}")
            webhook = failed and callback_url(session, job_id)
        if webhook:
            send_webhook(app, get_settings(), job_id, JobStatus.FAILED)
        _store().delete_prefix(job_prefix(job_id))


@app.task(name=ASSEMBLE_JOB, base=AssembleTask, bind=True)
def assemble_job(self, job_id: str) -> str:
    with transaction(_db_url()) as session:
        job = get_job(session, job_id)
        if job is None or job.status != JobStatus.RUNNING:
            return "skipped"
        fmt = AudioFormat(job.format)
        parts = chunks_for_assembly(session, job_id)
        chaptered, title, author = bool(job.chapters), job.title, job.author
        titles = job.chapters or [title or "Chapter 1"]
    store = _store()
    gain = book_gain(part.peak for part in parts)

    def audio_of(mine: list[AssemblyPart], last_pause: str | None = None):
        """(audio, pause, chapter title) of each part; ``last_pause`` replaces the final one."""
        for number, part in enumerate(mine, start=1):
            pause = last_pause if last_pause and number == len(mine) else part.pause_after
            yield decode_chunk(store.get(part.audio_key)), pause, titles[part.chapter]

    key = job_audio_key(job_id, fmt.extension)
    with store.writer(key) as tmp:
        samples = write_assembled(tmp, fmt, audio_of(parts), gain, title, author)
    if chaptered:
        for chapter in sorted({p.chapter for p in parts}):
            # Each chapter on its own: the same audio, without the pause after its end
            mine = [p for p in parts if p.chapter == chapter]
            with store.writer(chapter_audio_key(job_id, chapter, fmt.extension)) as tmp:
                chapter_audio = audio_of(mine, last_pause="end")
                write_assembled(tmp, fmt, chapter_audio, gain, titles[chapter], author)
    with transaction(_db_url()) as session:
        status = finish_job(
            session,
            job_id,
            audio_key=key,
            audio_bytes=store.size(key),
            audio_seconds=samples / SAMPLE_RATE,
        )
        webhook = status == JobStatus.SUCCEEDED and callback_url(session, job_id)
    if webhook:
        send_webhook(app, get_settings(), job_id, JobStatus.SUCCEEDED)
    if status != JobStatus.SUCCEEDED:
        # Cancelled, failed or deleted while this ran. (Succeeded already means a second
        # assembly, sent again by the reconciler: it wrote the same bytes, which stay.)
        store.delete_prefix(job_prefix(job_id))
        return "skipped"
    return "done"
