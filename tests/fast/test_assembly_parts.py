"""Assembly by parts in the database (storage/parts.py, and finish_chunk's planning): the
chunk that completes a chapter, and only it, cuts the chapter into parts, however chunks are
ordered or redelivered; exactly one part's finish completes the job, never while a chunk is
unfinished, also when parts finish in threads; what a part's task reads (part_work), what a
join sends again (unfinished_parts) and where parts lie in the job's file (placed_parts).

The fast layer: the storage functions on a migrated SQLite file, as test_job_states.py does.
No broker, worker or model; chunk "audio" is only the figures a worker would record."""

import random
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, select

from core.audio.formats import SAMPLE_RATE
from core.audio.loudness import Levels
from core.audio.timeline import MIN_PART_BREAK_SECONDS, pause_samples
from core.jobs.states import JobStatus
from core.text.chunk_plan import PlannedChunk, plan_chunks
from storage.db import session_factory, transaction
from storage.job_end import ending_jobs
from storage.job_queries import placed_chunks
from storage.jobs import (
    ChunkRecorded,
    ChunkTiming,
    NewJob,
    create_job,
    delete_job,
    finish_chunk,
)
from storage.models import JobPart
from storage.parts import (
    PART_DONE,
    PART_PENDING,
    PartRef,
    finish_part,
    part_work,
    placed_parts,
    unfinished_parts,
)
from tests.fast import test_job_states as states
from tests.support.fast import made_chunk

# The job-state tests' migrated database (a copy per test) and job-end effects
migrated, settings, effects = states.migrated, states.settings, states.effects

SHORT = "The night was long and the road was empty. "
# Longer than a chunk: cut at its commas, so the long chapter has clause pauses too short to
# end a part at
LONG = (
    "The rain came down over the hills, over the fields and the sleeping farms, over the "
    "river that wound through the valley, and over the little town where nobody was awake "
    "to hear it. "
)
CHAPTERS = [SHORT * 3, "A short chapter.", (SHORT + LONG) * 5]
TITLES = ["Dusk", "Interlude", "Rain"]
LONG_CHAPTER = 2

PART_SAMPLES = 20 * SAMPLE_RATE  # parts of about 20 s: the long chapter gets several
MIN_BREAK = round(MIN_PART_BREAK_SECONDS * SAMPLE_RATE)


@pytest.fixture(scope="module")
def planned() -> list[PlannedChunk]:
    chunks = plan_chunks(
        CHAPTERS, lang="en-us", markup="none", check_voice=str, max_tokens=60,
        first_chunk_tokens=20,
    )  # fmt: skip
    # What the tests rely on: chapters of 1, a few and many chunks; short pauses in the long one
    sizes = [sum(c.chapter == n for c in chunks) for n in range(len(CHAPTERS))]
    assert sizes[1] == 1 and 1 < sizes[0] < sizes[2] and sizes[2] >= 20, sizes
    assert any(pause_of(c) < MIN_BREAK for c in chunks if c.chapter == LONG_CHAPTER)
    return chunks


def pause_of(chunk: PlannedChunk) -> int:
    return pause_samples(str(chunk.pause_after), chunk.pause_seconds)


@dataclass(frozen=True)
class Book:
    """A stored three-chapter job, every chunk started: its id and its planned chunks, with
    the chunk ids by index."""

    job_id: str
    chunks: list[PlannedChunk]
    ids: list[int]

    def chapter(self, number: int) -> list[PlannedChunk]:
        return [c for c in self.chunks if c.chapter == number]

    def last_of(self, number: int) -> PlannedChunk:
        return self.chapter(number)[-1]


def store_book(settings, planned, *, loudness: str = "acx", fmt: str = "mp3") -> Book:
    spec = NewJob(
        voice="jf_alpha",
        speed=1.0,
        lang="en-us",
        format=fmt,
        queue="kokoro",
        chapters=TITLES,
        loudness=loudness,
    )
    with transaction(settings.sqlalchemy_url) as session:
        job, released = create_job(session, spec, planned, release=len(planned))
    ids = [chunk_id for chunk_id, _ in released]
    assert len(ids) == len(planned)
    for chunk_id in ids:
        assert states.start(settings, chunk_id, job.id) is not None
    return Book(job.id, planned, ids)


def synthesized(index: int) -> Levels:
    """Made-up but realistic figures of a chunk's audio: 3 to 8 s, some RMS, some peak."""
    rng = random.Random(index)
    samples = rng.randint(3 * SAMPLE_RATE, 8 * SAMPLE_RATE)
    rms = rng.uniform(0.05, 0.2)
    return Levels(samples, samples * rms * rms, rng.uniform(0.3, 0.95))


def timing(index: int, *, silent: bool = False) -> ChunkTiming:
    levels = Levels() if silent else synthesized(index)
    return made_chunk(
        f"chunks/{index}.flac",
        levels.samples / SAMPLE_RATE,
        peak=levels.peak,
        sum_squares=levels.sum_squares,
    )


def finish(
    settings, book: Book, index: int, *, part_samples: int = PART_SAMPLES, silent: bool = False
) -> ChunkRecorded:
    with transaction(settings.sqlalchemy_url) as session:
        return finish_chunk(
            session,
            book.ids[index],
            book.job_id,
            timing(index, silent=silent),
            part_samples=part_samples,
        )


def finish_chunks(
    settings, book: Book, order, twice=frozenset(), *, part_samples: int = PART_SAMPLES
) -> list[tuple[int, ChunkRecorded]]:
    """Finish the chunks of ``order`` (indexes), those in ``twice`` a second time as a
    redelivered task would; every (index, ChunkRecorded) in call order."""
    recorded = []
    for index in order:
        recorded.append((index, finish(settings, book, index, part_samples=part_samples)))
        if index in twice:
            recorded.append((index, finish(settings, book, index, part_samples=part_samples)))
    return recorded


def finish_all_chunks(settings, book: Book, **kwargs) -> None:
    finish_chunks(settings, book, range(len(book.chunks)), **kwargs)


def parts_of(settings, job_id: str) -> list[JobPart]:
    with session_factory(settings.sqlalchemy_url)() as session:
        return list(
            session.scalars(
                select(JobPart)
                .where(JobPart.job_id == job_id)
                .order_by(JobPart.chapter, JobPart.number)
            )
        )


def plan_of(part: JobPart) -> tuple[int, int, int, int]:
    return part.chapter, part.number, part.first_index, part.last_index


def refs_of(parts: list[JobPart]) -> list[PartRef]:
    return [PartRef(p.job_id, p.chapter, p.number) for p in parts]


def encoded(ref: PartRef) -> Levels:
    """Made-up figures of a part's encoded file, different for every part."""
    return Levels(1000 * (ref.chapter + 1) + ref.number, 0.5 + ref.number, 0.25 + ref.chapter / 10)


def finish_a_part(settings, ref: PartRef) -> bool:
    with transaction(settings.sqlalchemy_url) as session:
        return finish_part(
            session,
            ref,
            audio_key=f"parts/{ref.chapter}-{ref.number}.mp3",
            levels=encoded(ref),
            gain=1.5 + ref.chapter,
            encode_ms=12.0,
        )


def work_of(settings, ref: PartRef):
    with transaction(settings.sqlalchemy_url) as session:
        return part_work(session, ref)


def assert_parts_cover_their_chapters(book: Book, parts: list[JobPart], part_samples: int):
    """Each chapter's parts are numbered from 0 and cover its chunks once, in order; a part
    other than its chapter's last is full (``part_samples``, pauses included), ends at a pause
    long enough to join at, and runs on no further than the first such pause once full."""
    by_index = {c.index: c for c in book.chunks}
    for number in range(len(CHAPTERS)):
        mine = [p for p in parts if p.chapter == number]
        assert [p.number for p in mine] == list(range(len(mine)))
        covered = [i for p in mine for i in range(p.first_index, p.last_index + 1)]
        assert covered == [c.index for c in book.chapter(number)]
        for part in mine[:-1]:
            length = 0
            for index in range(part.first_index, part.last_index + 1):
                chunk = by_index[index]
                length += synthesized(index).samples + pause_of(chunk)
                could_end = length >= part_samples and pause_of(chunk) >= MIN_BREAK
                assert could_end == (index == part.last_index), (part.number, index)


# Planning: the chunk that completes a chapter


@pytest.mark.parametrize("seed", range(4))
def test_the_first_finish_of_each_chapters_last_chunk_plans_its_parts_and_nothing_else_does(
    settings, planned, seed
):
    book = store_book(settings, planned)
    rng = random.Random(seed)
    order = rng.sample(range(len(planned)), len(planned))
    # Redelivered: a few at random, every chapter's last to finish, and the job's last
    last_to_finish = {book.chunks[index].chapter: index for index in order}
    twice = set(rng.sample(order, 5)) | set(last_to_finish.values())
    recorded = finish_chunks(settings, book, order, twice)

    planning = [(index, r) for index, r in recorded if r.parts]
    assert sorted(index for index, _ in planning) == sorted(last_to_finish.values())
    assert all(r.first_time for _, r in planning)
    assert not any(r.parts for _, r in recorded if not r.first_time)
    for index, r in planning:
        assert {ref.chapter for ref in r.parts} == {book.chunks[index].chapter}
        assert {ref.job_id for ref in r.parts} == {book.job_id}
    assert [r.completes_job for _, r in recorded].count(True) == 1

    parts = parts_of(settings, book.job_id)
    returned = [ref for _, r in planning for ref in r.parts]
    assert sorted(returned, key=lambda ref: (ref.chapter, ref.number)) == refs_of(parts)
    assert {p.status for p in parts} == {PART_PENDING}
    assert_parts_cover_their_chapters(book, parts, PART_SAMPLES)
    assert sum(p.chapter == LONG_CHAPTER for p in parts) > 2  # cut into several
    assert sum(p.chapter == 1 for p in parts) == 1


def test_with_parts_longer_than_any_chapter_each_chapter_is_one_part(settings, planned):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book, part_samples=10 * 3600 * SAMPLE_RATE)
    parts = parts_of(settings, book.job_id)
    assert [plan_of(p) for p in parts] == [
        (n, 0, book.chapter(n)[0].index, book.last_of(n).index) for n in range(len(CHAPTERS))
    ]


def test_a_chapter_completed_after_its_job_ended_is_not_planned(settings, planned, effects):
    book = store_book(settings, planned)
    held = book.last_of(1).index  # the one-chunk chapter
    finish_chunks(settings, book, [c.index for c in planned if c.index != held])
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        assert ends.fail(book.job_id, "chunk 7 failed: boom")
    late = finish(settings, book, held)  # it was running: it finishes, to be discarded
    assert late.first_time and late.parts == [] and not late.completes_job
    assert 1 not in {p.chapter for p in parts_of(settings, book.job_id)}


# Completion: the part whose finish leaves everything done


@pytest.mark.parametrize("seed", range(4))
def test_exactly_one_part_finish_completes_the_job_and_it_is_the_last_first_time_one(
    settings, planned, seed
):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book)
    refs = refs_of(parts_of(settings, book.job_id))
    rng = random.Random(seed)
    order = rng.sample(refs, len(refs))
    twice = set(rng.sample(refs, 3)) | {order[0], order[-1]}
    results = []
    for ref in order:
        results.append((ref, finish_a_part(settings, ref)))
        if ref in twice:
            results.append((ref, finish_a_part(settings, ref)))
    completing = [position for position, (_, done) in enumerate(results) if done]
    assert len(completing) == 1
    # The last part's first finish; its redelivery comes after it and completes nothing
    assert results[completing[0]] == (order[-1], True)
    assert results[completing[0] + 1] == (order[-1], False)
    assert {p.status for p in parts_of(settings, book.job_id)} == {PART_DONE}


@pytest.mark.parametrize("held_chapter", range(len(CHAPTERS)))
def test_no_part_completes_the_job_while_a_chunk_is_unfinished(settings, planned, held_chapter):
    """Every part of the chapters already complete is finished (twice) before the job's last
    chunk: none completes the job. The last chunk then plans its chapter, whose last part
    completes it."""
    book = store_book(settings, planned)
    mine = book.chapter(held_chapter)
    held = mine[len(mine) // 2].index
    order = random.Random(held).sample(range(len(planned)), len(planned))
    recorded = finish_chunks(settings, book, [index for index in order if index != held])
    assert not any(r.completes_job for _, r in recorded)
    early = parts_of(settings, book.job_id)
    assert {p.chapter for p in early} == set(range(len(CHAPTERS))) - {held_chapter}
    for ref in refs_of(early):
        assert not finish_a_part(settings, ref)
        assert not finish_a_part(settings, ref)
    assert states.job_row(settings, book.job_id).status == JobStatus.RUNNING

    last = finish(settings, book, held)
    assert last.first_time and last.completes_job
    late = [p for p in parts_of(settings, book.job_id) if p.chapter == held_chapter]
    assert last.parts == refs_of(late) and late
    results = [finish_a_part(settings, ref) for ref in reversed(last.parts)]
    assert results == [False] * (len(late) - 1) + [True]


def test_parts_finishing_in_threads_complete_the_job_once(settings, planned):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book, part_samples=4 * SAMPLE_RATE)  # many small parts
    refs = refs_of(parts_of(settings, book.job_id))
    assert len(refs) >= 12
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def worker(share: list[PartRef]):
        barrier.wait()
        for ref in share:
            results.append(finish_a_part(settings, ref))
            results.append(finish_a_part(settings, ref))  # redelivered at once

    threads = [threading.Thread(target=worker, args=(refs[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 2 * len(refs)
    assert results.count(True) == 1
    assert {p.status for p in parts_of(settings, book.job_id)} == {PART_DONE}


@pytest.mark.parametrize("end", ["cancel", "fail"])
def test_a_job_that_ended_gives_no_part_work_and_no_part_completes_it(
    settings, planned, effects, end
):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book)
    refs = refs_of(parts_of(settings, book.job_id))
    assert work_of(settings, refs[0]) is not None
    with ending_jobs(settings.sqlalchemy_url, effects) as ends:
        if end == "cancel":
            assert ends.cancel(book.job_id, "")[1]
        else:
            assert ends.fail(book.job_id, "chunk 3 failed: boom")
    assert [work_of(settings, ref) for ref in refs] == [None] * len(refs)
    assert [finish_a_part(settings, ref) for ref in refs] == [False] * len(refs)


def test_a_deleted_job_takes_its_parts_with_it(settings, planned):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book)
    refs = refs_of(parts_of(settings, book.job_id))
    assert refs
    with transaction(settings.sqlalchemy_url) as session:
        assert delete_job(session, book.job_id, "") is not None
    assert parts_of(settings, book.job_id) == []
    assert [work_of(settings, ref) for ref in refs] == [None] * len(refs)
    assert [finish_a_part(settings, ref) for ref in refs] == [False] * len(refs)


# What a part's task reads


def test_a_done_or_unknown_part_gives_no_work(settings, planned):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book)
    first, second = refs_of(parts_of(settings, book.job_id))[:2]
    finish_a_part(settings, first)
    assert work_of(settings, first) is None
    assert work_of(settings, second) is not None
    assert work_of(settings, PartRef(book.job_id, 0, 99)) is None
    assert work_of(settings, PartRef("0" * 32, 0, 0)) is None


def test_part_work_gives_its_chapters_levels_and_its_own_chunks_with_their_pauses(
    settings, planned
):
    book = store_book(settings, planned, loudness="acx", fmt="mp3")
    finish_all_chunks(settings, book)
    parts = parts_of(settings, book.job_id)
    for part in parts:
        work = work_of(settings, PartRef(book.job_id, part.chapter, part.number))
        assert (work.format, work.loudness, work.queue, work.audible) == (
            "mp3",
            "acx",
            "kokoro",
            True,
        )
        # The chapter's file: its chunks and the pauses between them, none after its last
        chapter = book.chapter(part.chapter)
        figures = [synthesized(c.index) for c in chapter]
        samples = sum(f.samples for f in figures) + sum(pause_of(c) for c in chapter[:-1])
        assert work.chapter_levels.samples == samples
        assert work.chapter_levels.sum_squares == pytest.approx(sum(f.sum_squares for f in figures))
        assert work.chapter_levels.peak == max(f.peak for f in figures)
        # Its own chunks in order, each with the pause after it but the last
        own = [c for c in chapter if part.first_index <= c.index <= part.last_index]
        assert [c.audio_key for c in work.chunks] == [f"chunks/{c.index}.flac" for c in own]
        assert [c.pause for c in work.chunks] == [pause_of(c) for c in own[:-1]] + [0]
    # Parts that end inside a chapter end at a pause of their own chunk: not given to the part
    inner = [p for p in parts if p.last_index != book.last_of(p.chapter).index]
    assert inner and all(pause_of(book.chunks[p.last_index]) >= MIN_BREAK for p in inner)


def test_a_part_of_silent_chunks_is_not_audible(settings, planned):
    book = store_book(settings, planned)
    silent = book.last_of(1).index  # the one-chunk chapter
    for chunk in planned:
        finish(settings, book, chunk.index, silent=chunk.index == silent)
    work = work_of(settings, PartRef(book.job_id, 1, 0))
    assert not work.audible
    assert work.chapter_levels == Levels(0, 0.0, 0.0)
    assert work_of(settings, PartRef(book.job_id, 0, 0)).audible


# What a join sends again


def test_unfinished_parts_plans_a_chapter_whose_planning_was_lost(settings, planned):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book)
    before = [plan_of(p) for p in parts_of(settings, book.job_id)]
    with transaction(settings.sqlalchemy_url) as session:
        session.execute(
            delete(JobPart).where(JobPart.job_id == book.job_id, JobPart.chapter == LONG_CHAPTER)
        )
    assert LONG_CHAPTER not in {p.chapter for p in parts_of(settings, book.job_id)}
    with transaction(settings.sqlalchemy_url) as session:
        refs = unfinished_parts(session, book.job_id, PART_SAMPLES)
    after = parts_of(settings, book.job_id)
    assert [plan_of(p) for p in after] == before
    assert refs == refs_of(after)
    with transaction(settings.sqlalchemy_url) as session:  # once planned, not again
        assert unfinished_parts(session, book.job_id, PART_SAMPLES) == refs
    assert len(parts_of(settings, book.job_id)) == len(before)


def test_unfinished_parts_lists_pending_parts_only_and_plans_no_unfinished_chapter(
    settings, planned
):
    book = store_book(settings, planned)
    held = book.last_of(LONG_CHAPTER).index
    finish_chunks(settings, book, [c.index for c in planned if c.index != held])
    parts = parts_of(settings, book.job_id)
    chapter0 = [r for r in refs_of(parts) if r.chapter == 0]
    for ref in chapter0[:1]:
        assert not finish_a_part(settings, ref)
    with transaction(settings.sqlalchemy_url) as session:
        refs = unfinished_parts(session, book.job_id, PART_SAMPLES)
    assert refs == [r for r in refs_of(parts) if r not in chapter0[:1]]
    assert LONG_CHAPTER not in {r.chapter for r in refs}
    assert LONG_CHAPTER not in {p.chapter for p in parts_of(settings, book.job_id)}
    for ref in refs:
        finish_a_part(settings, ref)
    with transaction(settings.sqlalchemy_url) as session:
        assert unfinished_parts(session, book.job_id, PART_SAMPLES) == []


# Where parts lie in the job's file


def test_placed_parts_lie_where_placed_chunks_put_their_chunks(settings, planned):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book)
    parts = parts_of(settings, book.job_id)
    for ref in refs_of(parts):
        finish_a_part(settings, ref)
    with session_factory(settings.sqlalchemy_url)() as session:
        placed = placed_parts(session, book.job_id)
        slots = [chunk.slot for chunk in placed_chunks(session, book.job_id)]
    assert len(placed) == len(parts)
    for part, where in zip(parts, placed, strict=True):
        ref = PartRef(book.job_id, part.chapter, part.number)
        assert where.chapter == part.chapter
        assert (where.start, where.end) == (
            slots[part.first_index].start,
            slots[part.last_index].end,
        )
        assert where.audio_key == f"parts/{part.chapter}-{part.number}.mp3"
        assert where.levels == encoded(ref) and where.gain == 1.5 + part.chapter
    # Each part starts where the one before it ended, plus that one's last chunk's pause
    for before, after, part in zip(placed, placed[1:], parts, strict=False):
        assert after.start == before.end + pause_of(book.chunks[part.last_index])
    assert placed[0].start == 0
    assert placed[-1].end == slots[-1].end
    assert placed[-1].end == sum(synthesized(c.index).samples for c in planned) + sum(
        pause_of(c) for c in planned[:-1]
    )


def test_parts_are_placed_before_they_are_encoded(settings, planned):
    book = store_book(settings, planned)
    finish_all_chunks(settings, book)
    with session_factory(settings.sqlalchemy_url)() as session:
        placed = placed_parts(session, book.job_id)
        count = session.scalar(
            select(func.count()).select_from(JobPart).where(JobPart.job_id == book.job_id)
        )
    assert len(placed) == count
    assert all(p.audio_key is None and p.levels == Levels() for p in placed)
