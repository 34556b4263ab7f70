"""Assembly tasks: ``assemble_part`` encodes a run of one chapter's chunks as soon as the
chapter is done; ``assemble_job`` joins a job's parts into its file, and into each chapter's
file, at the container level (``worker/container_join.py``).

No task's work grows with the book: a part is about ``KQ_ASSEMBLY_PART_SECONDS`` of audio,
and the join copies packets at thousands of times realtime. What trails the book's last chunk
is its chapter's parts (encoded in parallel on every worker) and the join.
"""

import time
from dataclasses import replace
from pathlib import Path

from core.audio.formats import SAMPLE_RATE, AudioFormat
from core.audio.loudness import (
    ACX_PEAK_MAX_DBFS,
    ChapterGain,
    Levels,
    Loudness,
    chapter_gain,
    db_to_gain,
    gain_to_db,
    room_tone,
)
from core.audio.stream import decode_chunk
from core.audio.timeline import ChapterSpan, chapter_spans, chapter_titles
from core.jobs.states import JobStatus
from infra.queue import ASSEMBLE_JOB, ASSEMBLE_PART, send_assembly, send_parts
from infra.settings import get_settings
from storage.blob_store import chapter_audio_key, job_audio_key, part_audio_key, parts_prefix
from storage.db import transaction
from storage.job_end import JobEnds, ending_jobs
from storage.job_queries import get_job
from storage.parts import (
    PartRef,
    PartWork,
    PlacedPart,
    finish_part,
    part_work,
    placed_parts,
    unfinished_parts,
)
from worker.app import app
from worker.audio import encode_run, levels_of
from worker.container_join import Piece, decoded_blocks, join
from worker.tags import BookTags, stored_cover, write_book_tags
from worker.tasks import JobTask, database_url, describe, end_effects, process_store

CEILING_TRIES = 3
CEILING_MARGIN = db_to_gain(0.5)


class AssembleTask(JobTask):
    def give_up(self, ends: JobEnds, exc: BaseException, args: tuple) -> None:
        ends.fail(args[0], f"assembly failed: {describe(exc)}")


def measured_levels(path: Path) -> Levels:
    """The levels of an encoded file as a player decodes it: what the listener gets."""
    levels = Levels()
    for block in decoded_blocks(path):
        levels += levels_of(block)
    return levels


def encode_part(target: Path, fmt: AudioFormat, work: PartWork, gain: ChapterGain) -> Levels:
    """Encode a part's chunks (one at a time from storage to the encoder: memory stays flat
    in the part) and measure what a player decodes. A lossy encoder can overshoot a limited
    peak by a decibel or two on sharp transients: where the decoded peak passes the ceiling's
    limit, the part is encoded again with the ceiling lowered by the overshoot."""
    store = process_store()
    for _ in range(CEILING_TRIES):
        chunks = ((decode_chunk(store.get(c.audio_key)), c.pause) for c in work.chunks)
        encode_run(target, fmt, chunks, gain)
        levels = measured_levels(target)
        if gain.ceiling is None or levels.peak <= db_to_gain(ACX_PEAK_MAX_DBFS):
            break
        overshoot = levels.peak / gain.ceiling
        gain = ChapterGain(gain.gain, gain.ceiling / overshoot / CEILING_MARGIN)
    return levels


@app.task(name=ASSEMBLE_PART, base=AssembleTask, bind=True)
def assemble_part(self, job_id: str, chapter: int, number: int) -> str:
    ref = PartRef(job_id, chapter, number)
    with transaction(database_url()) as session:
        work = part_work(session, ref)
    if work is None:
        return "skipped"
    started = time.perf_counter()
    fmt = AudioFormat(work.format)
    gain = chapter_gain(Loudness(work.loudness), work.chapter_levels)
    store = process_store()
    key = None
    levels = Levels()
    if work.audible:
        key = part_audio_key(job_id, chapter, number, fmt.extension)
        with store.writer(key) as tmp:
            levels = encode_part(tmp, fmt, work, gain)
    with ending_jobs(database_url(), end_effects()) as ends:
        completes = finish_part(
            ends.session,
            ref,
            audio_key=key,
            levels=levels,
            gain=gain.gain,
            encode_ms=(time.perf_counter() - started) * 1000,
        )
        status = ends.discard_audio_if_ended(job_id)
    if status != JobStatus.RUNNING:
        return status or "deleted"
    if completes:  # sent after the commit, by the one part whose finish completed the job
        send_assembly(app, job_id, work.queue, get_settings())
    return "done"


def chapter_levels(
    parts: list[PlacedPart], spans: list[ChapterSpan], room_tone_samples: int
) -> list[dict]:
    """Each chapter's measured level over its own file (the silence between parts and its
    ``room_tone_samples`` too)."""
    report = []
    for span in spans:
        mine = [p for p in parts if p.chapter == span.index]
        levels = Levels()
        for part in mine:
            levels += Levels(0, part.levels.sum_squares, part.levels.peak)
        levels = levels.with_silence(span.end - span.start + room_tone_samples)
        report.append(
            {
                "chapter": span.index,
                "title": span.title,
                "gain_db": round(gain_to_db(mine[0].gain), 2),
                "rms_dbfs": round(levels.rms_dbfs, 2),
                "peak_dbfs": round(levels.peak_dbfs, 2),
            }
        )
    return report


@app.task(name=ASSEMBLE_JOB, base=AssembleTask, bind=True)
def assemble_job(self, job_id: str) -> str:
    settings = get_settings()
    with transaction(database_url()) as session:
        job = get_job(session, job_id)
        if job is None or job.status != JobStatus.RUNNING:
            return "skipped"
        queue = job.queue
        missing = unfinished_parts(session, job_id, get_settings().assembly_part_samples)
        if not missing:
            fmt = AudioFormat(job.format)
            parts = placed_parts(session, job_id)
            chaptered, title, author = bool(job.chapters), job.title, job.author
            book = BookTags.of(title, author, job.voice, job.book_info)
            cover_key = job.cover_key
            # Kept where a revision may join them again (storage/parts.py)
            keep_parts = job.reuse_scope is not None
            head, tail = room_tone(Loudness(job.loudness))
            titles = chapter_titles(job.chapters, title)
    if missing:
        # Sent again by the reconciler while parts were lost: they go first, then this again
        send_parts(app, missing, queue, settings)
        return "waiting for parts"
    store = process_store()
    spans = chapter_spans(parts, titles)  # a part is laid out like a chunk: a run of them
    tags = {name: value for name, value in (("title", title), ("artist", author)) if value}
    if chaptered:
        for span in spans:
            # Each chapter on its own: its parts, from its first sample to its last, inside
            # its room tone (ACX)
            at = head - span.start
            pieces = [Piece(p.audio_key, p.start + at) for p in parts if p.chapter == span.index]
            length = span.end + at + tail if head or tail else None
            with store.writer(chapter_audio_key(job_id, span.index, fmt.extension)) as tmp:
                chapter_tags = {**tags, "title": span.title}
                join(tmp, fmt, pieces, store.local_copy, tags=chapter_tags, length=length)
    key = job_audio_key(job_id, fmt.extension)
    book = replace(book, cover=stored_cover(store, cover_key))
    with store.writer(key) as tmp:
        pieces = [Piece(p.audio_key, p.start) for p in parts]
        join(tmp, fmt, pieces, store.local_copy, tags=tags, chapters=spans)
        write_book_tags(tmp, fmt, book)  # before a bucket gets it: tags in place, on disk
    samples = spans[-1].end if spans else 0
    with ending_jobs(database_url(), end_effects()) as ends:
        status = ends.succeed(
            job_id,
            audio_key=key,
            audio_bytes=store.size(key),
            audio_seconds=samples / SAMPLE_RATE,
            chapter_levels=chapter_levels(parts, spans, head + tail),
        )
    if status == JobStatus.SUCCEEDED:
        if not keep_parts:
            store.delete_prefix(parts_prefix(job_id))  # joined: the parts have served
        return "done"
    return "skipped"
