"""Celery tasks: ``synthesize_chunk`` for each chunk (the assembly tasks are in
``worker/assembly.py``).

Tasks receive ids and re-read their rows; the job id and chunk index ride along only so that
Flower shows readable arguments. All share one retry and failure policy (``JobTask``).
"""

import functools
import logging
import os
import resource
import sys
import time

from celery import Task
from sqlalchemy.exc import OperationalError

from core.audio.formats import SAMPLE_RATE
from core.audio.stream import encode_chunk
from core.jobs.states import JobStatus
from core.speech.word_timing import shifted
from infra.queue import SYNTHESIZE_CHUNK, send_chunks, send_parts
from infra.settings import get_settings
from storage.blob_store import BlobStore, chunk_key
from storage.blobs import blob_store
from storage.db import transaction
from storage.job_end import JobEndEffects, JobEnds, ending_jobs, job_end_effects
from storage.jobs import (
    ChunkTiming,
    finish_chunk,
    record_chunk_audio,
    release_chunks,
    retry_chunk,
    start_chunk,
)
from storage.proof import record_chunk_proof
from worker.app import app, load_engine
from worker.audio import chunk_audio, levels_of
from worker.proof import check_finished_chunk, made_chunk

log = logging.getLogger(__name__)

# Worth another try: storage hiccups, a database briefly locked or unreachable
TRANSIENT_ERRORS = (OSError, OperationalError)


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def database_url() -> str:
    return get_settings().sqlalchemy_url


@functools.cache
def process_store() -> BlobStore:
    # One per process: a bucket's client (made lazily, again after a fork) is reused
    return blob_store(get_settings())


def end_effects() -> JobEndEffects:
    return job_end_effects(app, process_store())


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class JobTask(Task):
    """Transient errors retry with backoff; once retries are spent the job fails (through the
    one job-end path: its partial audio goes and its webhook is sent)."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = get_settings().task_max_retries

    def give_up(self, ends: JobEnds, exc: BaseException, args: tuple) -> None:
        raise NotImplementedError

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        with ending_jobs(database_url(), end_effects()) as ends:
            self.give_up(ends, exc, args)


class ChunkTask(JobTask):
    def on_retry(self, exc, task_id, args, kwargs, einfo):
        with transaction(database_url()) as session:
            retry_chunk(session, args[0], args[1], describe(exc))

    def give_up(self, ends: JobEnds, exc: BaseException, args: tuple) -> None:
        ends.fail_chunk(args[0], args[1], describe(exc))


@app.task(name=SYNTHESIZE_CHUNK, base=ChunkTask, bind=True)
def synthesize_chunk(self, chunk_id: int, job_id: str, index: int) -> str:
    settings = get_settings()
    with transaction(database_url()) as session:
        work = start_chunk(session, chunk_id, job_id, settings.worker_host, os.getpid())
    if work is None:
        return "skipped"
    engine = load_engine()
    # A proofed job's chunk is heard back, and made again when doubtful (worker/proof.py)
    result, proofreader, proof = made_chunk(engine, work, settings)
    encode_started = time.perf_counter()
    key = chunk_key(work.job_id, work.index)
    audio, start = chunk_audio(result.audio)
    # Word samples move with the trimmed start and stay within what is stored
    words = shifted(result.words, start, len(audio))
    stored_bytes = process_store().put(key, encode_chunk(audio))
    levels = levels_of(audio)
    timing = ChunkTiming(
        tokens=result.tokens,
        audio_key=key,
        audio_bytes=stored_bytes,
        audio_seconds=len(audio) / SAMPLE_RATE,
        peak=levels.peak,
        sum_squares=levels.sum_squares,
        normalize_ms=result.normalize_ms,
        phonemize_ms=result.phonemize_ms,
        inference_ms=result.inference_ms,
        encode_ms=(time.perf_counter() - encode_started) * 1000,
        worker_host=settings.worker_host,
        worker_pid=os.getpid(),
        provider=engine.provider,
        worker_rss_mb=peak_rss_mb(),
        words=[word.as_row() for word in words],
        words_estimated=result.words_estimated,
        proof=proof.as_row() if proof else None,
        proof_verdict=proof.verdict if proof else None,
    )
    with ending_jobs(database_url(), end_effects()) as ends:
        finished = finish_chunk(ends.session, chunk_id, work.job_id, timing)
        if work.proof and finished.first_time:  # after finish_chunk: the job row is locked
            record_chunk_proof(ends.session, work.job_id, chunk_id, timing.proof)
        # Cancelled, failed or deleted while this ran: what this chunk wrote goes too
        job_status = ends.discard_audio_if_ended(work.job_id)
        if job_status is not None and work.content_key and work.reuse_scope is not None:
            record_chunk_audio(ends.session, work.reuse_scope, work.content_key, timing)
        # This chunk's slot in its job's in-flight window passes to the job's next chunk
        next_chunks = release_chunks(ends.session, work.job_id, 1) if finished.first_time else []
    if job_status is None:  # deleted: no row refers to this chunk's audio
        process_store().delete_prefix(key)
    send_chunks(app, work.job_id, next_chunks, work.priority, work.queue)
    if job_status != JobStatus.RUNNING:
        return job_status or "deleted"
    # Sent after the commit, by the one chunk whose update completed its chapter
    send_parts(app, finished.parts, work.queue, settings)
    if proofreader is not None and proofreader.after_finish and finished.first_time:
        # A job's first chunk is heard once it is out: its audio is never held back
        check_finished_chunk(proofreader, result, database_url(), chunk_id, work.job_id)
    return "done"
