"""A book cast as a whole, and read by its cast: ``cast_book`` finds the characters of all its
chapters together (a character keeps one name across them) with each quote's place in its
chapter; ``voice_spans`` cuts each chapter's text as the planner reads it where the speaker
changes, each piece with its speaker and the voice the job's cast gives them.

The quotes are found in the chapters as they were sent (what ``POST /v1/text/cast`` answers,
offsets included, and what a correction names); the planner reads the same text with its
whitespace normalized and its markup taken out, so each quote is found again there, in order,
by its own normalized text, a short way ahead of the last one. A quote that markup changed
is not found and is read by the narrator (a voice tag still reads it as tagged).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.cast.analysis import CastAnalysis, Character, analyse_cast, joined_spans

# Between two chapters cast as one text: a paragraph break, so no quote runs from one to the next
CHAPTER_BREAK = "\n\n"
# The speaker of a quote nobody is known to say, while spans are joined: not the narration
_UNKNOWN = "\x00unknown"
# How far past where it should be a quote is looked for in the planner's text: its own length
# and this (whitespace normalized away, markup taken out before it)
SEARCH_SLACK = 200


@dataclass(frozen=True)
class BookQuote:
    """A quote of a book: ``chapter``'s text as sent, ``[start:end]``."""

    chapter: int
    start: int
    end: int
    text: str
    speaker: str | None
    confidence: float
    attributed: bool


@dataclass(frozen=True)
class BookCast:
    characters: list[Character]  # most lines first
    quotes: list[BookQuote]  # in the order of the book


@dataclass(frozen=True)
class CastVoices:
    """Who reads whom: a voice per character by name, else by the character's gender, else
    ``unknown``'s; None leaves a quote to the narrator (the job's voice)."""

    characters: Mapping[str, str]
    female: str | None = None
    male: str | None = None
    unknown: str | None = None

    def voice_of(self, speaker: str | None, genders: Mapping[str, str]) -> str | None:
        if speaker is None:
            return None
        voice = self.characters.get(speaker)
        if voice is None:
            voice = {"female": self.female, "male": self.male}.get(genders.get(speaker, ""))
        return voice or self.unknown


@dataclass(frozen=True)
class VoiceSpan:
    """``text[start:end]`` of a chapter as the planner reads it, said by ``speaker`` (None: the
    narration) in ``voice`` (None: the narrator's)."""

    start: int
    end: int
    speaker: str | None
    voice: str | None


def without_elements(text: str) -> str:
    """SSML with each element's tag (``<break time="1s"/>``) blanked out, character for
    character: its attributes' quote marks are no dialogue, and offsets stay those of the
    text as sent."""
    parts = []
    at = 0
    while True:
        opening = text.find("<", at)
        closing = text.find(">", opening) if opening >= 0 else -1
        if closing < 0:
            parts.append(text[at:])
            return "".join(parts)
        parts.append(text[at:opening])
        parts.append(" " * (closing + 1 - opening))
        at = closing + 1


def cast_book(texts: list[str], markup: str = "none") -> BookCast:
    """The characters of the chapters ``texts`` and every quote with its chapter and its
    offsets in that chapter's text."""
    if markup == "ssml":
        texts = [without_elements(text) for text in texts]
    starts = []
    at = 0
    for text in texts:
        starts.append(at)
        at += len(text) + len(CHAPTER_BREAK)
    whole = CHAPTER_BREAK.join(texts)
    analysis: CastAnalysis = analyse_cast(whole)
    quotes = []
    for quote in analysis.quotes:
        chapter = bisect_right(starts, quote.start) - 1
        offset = starts[chapter]
        end = min(quote.end, offset + len(texts[chapter]))  # never past its chapter
        quotes.append(
            BookQuote(
                chapter=chapter,
                start=quote.start - offset,
                end=end - offset,
                text=whole[quote.start : end],
                speaker=quote.speaker,
                confidence=quote.confidence,
                attributed=quote.attributed,
            )
        )
    return BookCast(analysis.characters, quotes)


def voice_spans(
    book: BookCast,
    read: list[str],
    voices: CastVoices,
    corrections: Mapping[tuple[int, int], str],
    normalize: Callable[[str], str],
) -> list[list[VoiceSpan]]:
    """Each chapter's text as the planner reads it (``read``) cut where the speaker changes,
    in order and covering it; ``corrections`` give a quote (chapter, start as sent) another
    speaker; ``normalize`` is what the planner did to the text."""
    genders = {c.name: c.gender for c in book.characters}
    # A quote nobody is known to say is read apart from the narration when ``unknown`` is cast
    unknown = _UNKNOWN if voices.unknown else None
    by_chapter: list[list[tuple[int, int, str | None]]] = [[] for _ in read]
    cursor = [0] * len(read)
    for quote in book.quotes:
        if quote.chapter >= len(read):
            continue
        text = read[quote.chapter]
        wanted = normalize(quote.text)
        at = cursor[quote.chapter]
        found = text.find(wanted, at, at + len(wanted) + len(quote.text) + SEARCH_SLACK)
        if not wanted or found < 0:
            continue
        speaker = corrections.get((quote.chapter, quote.start), quote.speaker) or unknown
        by_chapter[quote.chapter].append((found, found + len(wanted), speaker))
        cursor[quote.chapter] = found + len(wanted)
    return [
        [
            VoiceSpan(start, end, None, voices.unknown)
            if speaker == _UNKNOWN
            else VoiceSpan(start, end, speaker, voices.voice_of(speaker, genders))
            for start, end, speaker in joined_spans(text, quotes)
        ]
        for text, quotes in zip(read, by_chapter, strict=True)
    ]
