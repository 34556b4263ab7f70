"""Where every sample of an assembled job sits: the one place that knows the layout.

A job's file is its chunks in order, each followed by the silence its boundary calls for
(``pause_samples``). Assembly writes that layout, the live stream sends it, and chapter spans,
subtitles and word timings read positions from it, so all of them agree to the sample. Pure:
it takes sample counts and pauses as plain data. Both make a pause's silence with
``silence_blocks``, a block at a time.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from core.audio.formats import SAMPLE_RATE

# Silence inserted after a chunk, by the boundary that follows it (seconds). Within a chunk
# kokoro-onnx already pauses after each sentence.
PAUSE_SECONDS = {"clause": 0.12, "sentence": 0.3, "paragraph": 0.7, "chapter": 1.5, "end": 0.0}


def pause_seconds(pause_after: str, explicit: float | None = None) -> float:
    """The silence after a chunk, in seconds: an explicit length (a markup break) or its
    boundary's."""
    return PAUSE_SECONDS[pause_after] if explicit is None else explicit


def pause_samples(pause_after: str, explicit: float | None = None) -> int:
    """The silence after a chunk, in samples."""
    return round(pause_seconds(pause_after, explicit) * SAMPLE_RATE)


# Silence is made and written this much at a time, so that memory stays flat in a pause's
# length (one second: 96 kB of float32 samples)
SILENCE_BLOCK_SAMPLES = SAMPLE_RATE


def silence_blocks(samples: int) -> Iterator[np.ndarray]:
    """``samples`` of silence (float32) in blocks of at most SILENCE_BLOCK_SAMPLES: one
    read-only block of zeros, and slices of it."""
    zeros = np.zeros(min(max(samples, 0), SILENCE_BLOCK_SAMPLES), dtype=np.float32)
    zeros.flags.writeable = False
    for start in range(0, samples, SILENCE_BLOCK_SAMPLES):
        yield zeros[: min(SILENCE_BLOCK_SAMPLES, samples - start)]


def samples_of(seconds: float | None) -> int:
    """A chunk's sample count from its recorded duration (stored as samples / SAMPLE_RATE)."""
    return round((seconds or 0.0) * SAMPLE_RATE)


def chapter_titles(chapters: Sequence[str] | None, title: str | None) -> list[str]:
    """The title of every chapter: the job's chapters, else one chapter named after the job."""
    return list(chapters) if chapters else [title or "Chapter 1"]


def default_chapter_title(number: int) -> str:
    """The title of a chapter given without one (``number`` counts from 0)."""
    return f"Chapter {number + 1}"


@dataclass(frozen=True)
class Slot:
    """A chunk in the assembled file: ``start`` and ``length`` of its audio, then ``pause``
    samples of silence, all in samples."""

    chapter: int
    start: int
    length: int
    pause: int

    @property
    def end(self) -> int:
        return self.start + self.length


class Timeline:
    """Chunks laid end to end, each followed by its pause; ``position`` is the end so far."""

    def __init__(self, start: int = 0):
        self.position = start
        self.slots: list[Slot] = []

    def add(self, chapter: int, length: int, pause: int) -> Slot:
        slot = Slot(chapter, self.position, length, pause)
        self.slots.append(slot)
        self.position += length + pause
        return slot


def place(parts: Iterable[tuple[int, int, int]]) -> list[Slot]:
    """Slots of (chapter, audio samples, pause samples) of chunks in order."""
    timeline = Timeline()
    for chapter, length, pause in parts:
        timeline.add(chapter, length, pause)
    return timeline.slots


@dataclass(frozen=True)
class ChapterSpan:
    index: int
    title: str
    start: int  # samples
    end: int  # the chapter's last chunk ends it, before the pause that follows

    @property
    def start_seconds(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def end_seconds(self) -> float:
        return self.end / SAMPLE_RATE


def chapter_spans(slots: Iterable[Slot], titles: Sequence[str]) -> list[ChapterSpan]:
    """Where each chapter lies in the file, from the slots of its chunks (or of anything with
    a chapter, a start and an end, in order: the parts of storage/parts.py)."""
    spans: dict[int, list[int]] = {}
    for slot in slots:
        span = spans.setdefault(slot.chapter, [slot.start, slot.end])
        span[1] = slot.end
    return [
        ChapterSpan(number, titles[number], start, end)
        for number, (start, end) in sorted(spans.items())
    ]


# A part (a run of chunks encoded by one task) ends only after a pause this long: joining two
# lossy-encoded parts lengthens or shortens the silence between them by up to a few codec
# frames (priming, frame rounding), which a pause this long absorbs unheard
MIN_PART_BREAK_SECONDS = 0.2


def split_parts(chunks: Sequence[tuple[int, int]], max_samples: int) -> list[tuple[int, int]]:
    """Cut one chapter's chunks, given in order as (audio samples, pause samples), into runs of
    about ``max_samples`` at most: (first, last) positions in ``chunks``, inclusive, covering
    all of them. A run ends at the first pause of at least ``MIN_PART_BREAK_SECONDS`` once it
    is full, so it may run past ``max_samples`` until one comes."""
    runs: list[tuple[int, int]] = []
    first, length = 0, 0
    min_break = round(MIN_PART_BREAK_SECONDS * SAMPLE_RATE)
    for position, (samples, pause) in enumerate(chunks):
        length += samples + pause
        last = position == len(chunks) - 1
        if last or (length >= max_samples and pause >= min_break):
            runs.append((first, position))
            first, length = position + 1, 0
    return runs
