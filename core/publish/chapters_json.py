"""A book's chapters as a Podcasting 2.0 JSON chapters file, what a podcast app shows and skips
between (``<podcast:chapters type="application/json+chapters">`` in a feed).

The file is ``{"version": "1.2.0", "chapters": [{"startTime": seconds, "title": ...}, ...]}``:
chapters in the order they start, times in seconds from the start of the audio (a number),
each with its title and, where known, the time it ends.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass

CHAPTERS_VERSION = "1.2.0"
CHAPTERS_MEDIA_TYPE = "application/json+chapters"
# Milliseconds: finer than any app seeks, and the file stays short for a book of many chapters
TIME_DECIMALS = 3


@dataclass(frozen=True)
class ChapterMark:
    """Where a chapter starts (and ends) in the book's audio, in seconds."""

    title: str
    start_seconds: float
    end_seconds: float | None = None


def chapters_document(marks: Iterable[ChapterMark]) -> dict:
    """The JSON chapters document of ``marks``, ordered by start time (ties keep their order)."""
    chapters = []
    for mark in sorted(marks, key=lambda m: m.start_seconds):
        chapter: dict = {"startTime": round(max(mark.start_seconds, 0.0), TIME_DECIMALS)}
        if mark.title:
            chapter["title"] = mark.title
        if mark.end_seconds is not None and mark.end_seconds > mark.start_seconds:
            chapter["endTime"] = round(mark.end_seconds, TIME_DECIMALS)
        chapters.append(chapter)
    return {"version": CHAPTERS_VERSION, "chapters": chapters}


def encode_chapters(marks: Iterable[ChapterMark]) -> bytes:
    """The chapters file's bytes (UTF-8 JSON)."""
    return json.dumps(chapters_document(marks), ensure_ascii=False).encode()
