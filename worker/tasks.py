"""Celery tasks: ``synthesize_chunk`` for each chunk, ``assemble_job`` once per job.

Tasks receive ids and re-read their rows; the job id and chunk index ride along only so that
Flower shows readable arguments. Both share one retry and failure policy (``JobTask``).
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
from core.queue import ASSEMBLE_JOB, SYNTHESIZE_CHUNK, send_assembly, send_chunks
from core.settings import get_settings
from core.speech import job_lexicon, overrides_from_json
from core.states import JobStatus
from core.timeline import chapter_titles
from core.word_timing import shifted
from storage.blob_store import BlobStore, chapter_audio_key, chunk_key, job_audio_key
from storage.blobs import blob_store
from storage.db import transaction
from storage.job_end import JobEndEffects, JobEnds, ending_jobs, job_end_effects
from storage.job_queries import AssemblyPart, chunks_for_assembly, get_job
from storage.jobs import ChunkTiming, finish_chunk, release_chunks, retry_chunk, start_chunk
from worker.app import app, load_engine
from worker.audio import book_gain, fade_edges, speech_bounds, write_assembled

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
def process_store() -> BlobStore:
    # One per process: a bucket's client (made lazily, again after a fork) is reused
    return blob_store(get_settings())


def _effects() -> JobEndEffects:
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
        with ending_jobs(_db_url(), _effects()) as ends:
            self.give_up(ends, exc, args)


class ChunkTask(JobTask):
    def on_retry(self, exc, task_id, args, kwargs, einfo):
        with transaction(_db_url()) as session:
            retry_chunk(session, args[0], args[1], describe(exc))

    def give_up(self, ends: JobEnds, exc: BaseException, args: tuple) -> None:
        ends.fail_chunk(args[0], args[1], describe(exc))


class AssembleTask(JobTask):
    def give_up(self, ends: JobEnds, exc: BaseException, args: tuple) -> None:
        ends.fail(args[0], f"assembly failed: {describe(exc)}")


@app.task(name=SYNTHESIZE_CHUNK, base=ChunkTask, bind=True)
def synthesize_chunk(self, chunk_id: int, job_id: str, index: int) -> str:
    settings = get_settings()
    with transaction(_db_url()) as session:
        work = start_chunk(session, chunk_id, job_id, settings.worker_host, os.getpid())
    if work is None:
        return "skipped"
    engine = load_engine()
    result = engine.synthesize(
        work.text,
        work.voice,
        work.speed,
        work.lang,
        lexicon=job_lexicon(settings.lexicon_path, work.pronunciations),
        overrides=overrides_from_json(work.overrides),
    )
    encode_started = time.perf_counter()
    key = chunk_key(work.job_id, work.index)
    start, end = speech_bounds(result.audio)
    audio = fade_edges(result.audio[start:end])
    # Word samples move with the trimmed start and stay within what is stored
    words = shifted(result.words, start, len(audio))
    process_store().put(key, encode_chunk(audio))
    timing = ChunkTiming(
        tokens=result.tokens,
        audio_key=key,
        audio_seconds=len(audio) / SAMPLE_RATE,
        peak=float(np.abs(audio).max()) if len(audio) else 0.0,
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
    )
    with ending_jobs(_db_url(), _effects()) as ends:
        finished = finish_chunk(ends.session, chunk_id, work.job_id, timing)
        # Cancelled, failed or deleted while this ran: what this chunk wrote goes too
        job_status = ends.discard_audio_if_ended(work.job_id)
        # This chunk's slot in its job's in-flight window passes to the job's next chunk
        next_chunks = release_chunks(ends.session, work.job_id, 1) if finished.first_time else []
    send_chunks(app, work.job_id, next_chunks, work.priority, work.queue)
    if job_status != JobStatus.RUNNING:
        return job_status or "deleted"
    if finished.completes_job:
        # Sent after the commit, by the one chunk whose update completed the job
        send_assembly(app, work.job_id, work.queue)
    return "done"


@app.task(name=ASSEMBLE_JOB, base=AssembleTask, bind=True)
def assemble_job(self, job_id: str) -> str:
    with transaction(_db_url()) as session:
        job = get_job(session, job_id)
        if job is None or job.status != JobStatus.RUNNING:
            return "skipped"
        fmt = AudioFormat(job.format)
        parts = chunks_for_assembly(session, job_id)
        chaptered, title, author = bool(job.chapters), job.title, job.author
        titles = chapter_titles(job.chapters, title)
    store = process_store()
    gain = book_gain(part.peak for part in parts)

    def audio_of(mine: list[AssemblyPart], last_pause: int | None = None):
        """(audio, chapter, pause) of each part; ``last_pause`` replaces the final one."""
        for number, part in enumerate(mine, start=1):
            pause = last_pause if last_pause is not None and number == len(mine) else part.pause
            yield decode_chunk(store.get(part.audio_key)), part.chapter, pause

    key = job_audio_key(job_id, fmt.extension)
    with store.writer(key) as tmp:
        samples = write_assembled(tmp, fmt, audio_of(parts), titles, gain, title, author)
    if chaptered:
        for chapter in sorted({p.chapter for p in parts}):
            # Each chapter on its own: the same audio, without the pause after its end
            mine = [p for p in parts if p.chapter == chapter]
            with store.writer(chapter_audio_key(job_id, chapter, fmt.extension)) as tmp:
                chapter_audio = audio_of(mine, last_pause=0)
                write_assembled(tmp, fmt, chapter_audio, titles, gain, titles[chapter], author)
    with ending_jobs(_db_url(), _effects()) as ends:
        status = ends.succeed(
            job_id, audio_key=key, audio_bytes=store.size(key), audio_seconds=samples / SAMPLE_RATE
        )
    return "done" if status == JobStatus.SUCCEEDED else "skipped"
