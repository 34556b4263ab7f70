"""Chunking: a job's text cut into chunks that each fit Kokoro's token budget.

Kokoro-82M accepts at most MODEL_TOKEN_LIMIT phoneme tokens per inference (core.text.sentences), so
a job's text is cut into chunks that each fit a token budget. The product promises that no text is
dropped or reordered: the chunk texts are, in order, consecutive slices of the (normalized)
input, and the gaps between them hold only whitespace. Chunks end where a listener expects a
pause: a paragraph end, else the last sentence end that fits, else a clause boundary, else a word
boundary; only a single "word" longer than the budget is sliced mid-word. Japanese, written
without spaces, has no word boundaries: a clause too long for the budget is cut between
characters, into equal parts. Spans the caller holds (core/text/chunk_plan.py: what the normalizer
rewrites, "1914–1918" said "nineteen fourteen to nineteen eighteen") are never cut inside, not
even at their own punctuation, unless a single span alone is longer than the budget.

The cost of a slice is a difference of prefix sums of core.text.sentences's per-character weights,
which keeps chunking linear-time even on pathological input (no spaces, no punctuation, megabytes of
text).
"""

import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import accumulate

from core.speech.languages import DEFAULT_LANGUAGE, is_spaced
from core.text.sentences import MAX_CHAR_WEIGHT, char_weights, clause_ends, sentence_ends

# Stands in for a space that must not end a word (core/text/chunk_plan.py holds the spaces in and
# beside a rewritten span with it): not whitespace, so no cut falls there
HELD_SPACE = "\u2060"  # word joiner

# The quick start's first chunk is a whole sentence when that sentence costs at most this many
# times the first chunk's budget: cutting a short sentence saves a fraction of a second of
# waiting and costs its prosody (a clause read as if it were a sentence)
SHORT_FIRST_SENTENCE_FACTOR = 2

_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*+\n\s*+")  # a blank line, whitespace around it
# What a chunk starts and ends on: neither whitespace nor a held space
_NON_WS = re.compile(rf"[^\s{HELD_SPACE}]")


class Pause(StrEnum):
    """The boundary that follows a chunk, so that assembly can insert a fitting silence."""

    CLAUSE = "clause"  # cut inside a sentence (a long one, or the short first chunk)
    SENTENCE = "sentence"
    PARAGRAPH = "paragraph"
    CHAPTER = "chapter"
    END = "end"  # last chunk of the whole text


@dataclass(frozen=True)
class TextChunk:
    index: int  # 0-based, in order over the whole job
    chapter: int  # 0-based chapter index
    text: str  # a slice of the normalized chapter text, without surrounding whitespace
    tokens: int  # estimate_tokens(text)
    pause_after: Pause


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-empty paragraph, trimmed of surrounding whitespace."""
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield from _trimmed(text, start, match.start())
        start = match.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    first = _NON_WS.search(text, start, end)
    if first is None:
        return
    while text[end - 1].isspace() or text[end - 1] == HELD_SPACE:
        end -= 1
    yield first.start(), end


def _last_within(ends: Sequence[int], start: int, limit: int) -> int | None:
    """The last boundary in (start, limit], if any."""
    i = bisect_right(ends, limit) - 1
    return ends[i] if i >= 0 and ends[i] > start else None


def _first_after(ends: Sequence[int], start: int, default: int) -> int:
    """The first boundary after start, else default."""
    i = bisect_right(ends, start)
    return min(ends[i], default) if i < len(ends) else default


def _outside(ends: list[int], held: Sequence[tuple[int, int]]) -> list[int]:
    """The boundaries not strictly inside a held span; both lists are in order (one merge)."""
    if not held:
        return ends
    kept = []
    i = 0
    for end in ends:
        while i < len(held) and held[i][1] <= end:
            i += 1
        if i == len(held) or not held[i][0] < end:
            kept.append(end)
    return kept


def _held_start(held: Sequence[tuple[int, int]], position: int) -> int | None:
    """The start of the held span that ``position`` lies strictly inside, if any."""
    i = bisect_right(held, (position, position)) - 1
    # held[i] starts at or before position; a span starting exactly there does not hold it
    return held[i][0] if i >= 0 and held[i][0] < position < held[i][1] else None


def _last_word_end(text: str, start: int, limit: int) -> int | None:
    """The last end of a word in (start, limit]. The scan is at most one chunk long."""
    for i in range(limit, start, -1):
        if text[i].isspace() and not text[i - 1].isspace():
            return i
    return None


def _hard_cut(text: str, start: int, limit: int) -> int:
    """Slice a word too long for the budget, not between a letter and its combining marks."""
    cut = max(limit, start + 1)
    while cut > start + 1 and _is_mark(text[cut]):
        cut -= 1
    # Nothing but marks within reach: slice among them rather than crawl a character at a time
    return max(limit, start + 1) if _is_mark(text[cut]) else cut


def _is_mark(char: str) -> bool:
    return unicodedata.category(char)[0] == "M"


@dataclass(frozen=True)
class _Layout:
    """A text with its prefix token sums and boundary positions, for O(log n) cut decisions."""

    text: str
    prefix: array  # prefix[i] == estimate_tokens(text[:i])
    sentence_ends: list[int]
    clause_ends: list[int]
    spaced: bool  # words are written apart (not Japanese)
    held: Sequence[tuple[int, int]]  # spans no cut may fall inside, in order, apart

    @classmethod
    def of(
        cls,
        text: str,
        lang: str,
        weights: Sequence[int] | None = None,
        held: Sequence[tuple[int, int]] = (),
    ) -> "_Layout":
        costs = char_weights(text, lang) if weights is None else weights
        prefix = array("q", accumulate(costs, initial=0))
        # A held space holds a word to its neighbour, not a sentence or clause to the next:
        # "in 1918. Nos. 3–5" ends a sentence after "1918."
        written = text.replace(HELD_SPACE, " ")
        return cls(
            text,
            prefix,
            _outside(sentence_ends(written, lang), held),
            _outside(clause_ends(written, lang), held),
            is_spaced(lang),
            held,
        )

    def pause_at(self, end: int) -> Pause:
        """The pause after a chunk ending at ``end`` inside a paragraph."""
        index = bisect_right(self.sentence_ends, end) - 1
        at_sentence_end = index >= 0 and self.sentence_ends[index] == end
        return Pause.SENTENCE if at_sentence_end else Pause.CLAUSE

    def cost(self, start: int, end: int) -> int:
        return self.prefix[end] - self.prefix[start]

    def reach(self, start: int, budget: int) -> int:
        """The furthest end such that text[start:end] costs at most budget."""
        return bisect_right(self.prefix, self.prefix[start] + budget) - 1

    def cut(self, start: int, stop: int, budget: int) -> int:
        """End of the chunk starting at start: the best boundary within budget, before stop."""
        limit = self.reach(start, budget)
        if limit >= stop:
            return stop
        for ends in (self.sentence_ends, self.clause_ends):
            end = _last_within(ends, start, limit)
            if end is not None:
                return end
        if not self.spaced:
            share = self.reach(start, self._word_share(start, stop, budget))
            end = _hard_cut(self.text, start, share)
            while end > start + 1 and self.text[end - 1].isspace():  # a space of joined lines
                end -= 1
            return end
        end = _last_word_end(
            self.text, start, self.reach(start, self._word_share(start, stop, budget))
        )
        if end is None:
            end = _last_word_end(self.text, start, limit)
        if end is None:
            end = self._last_held_space(start, limit)
        return end if end is not None else self._hard_cut(start, limit)

    def first_cut(self, start: int, stop: int, first_budget: int, budget: int) -> int:
        """End of the quick start's first chunk: the sentences that fit ``first_budget``; else
        the first sentence whole when it is short (SHORT_FIRST_SENTENCE_FACTOR); else the
        clauses that fit; else the first sentence or clause end within ``budget``; only a
        first clause longer than ``budget`` is cut between words."""
        limit = self.reach(start, first_budget)
        if limit >= stop:
            return stop
        end = _last_within(self.sentence_ends, start, limit)
        if end is not None:
            return end
        sentence = _first_after(self.sentence_ends, start, stop)
        short = min(budget, SHORT_FIRST_SENTENCE_FACTOR * first_budget)
        if self.cost(start, sentence) <= short:
            return sentence
        end = _last_within(self.clause_ends, start, limit)
        if end is not None:
            return end
        boundary = _first_after(self.clause_ends, start, sentence)
        if self.cost(start, boundary) <= budget:
            return boundary
        return self.cut(start, stop, first_budget)

    def _last_held_space(self, start: int, limit: int) -> int | None:
        """The last held space in (start, limit] outside every held span: a word end that
        parts a rewritten span from the word beside it, which the rules read ("in 1805"),
        but keeps the span whole. Only for a run of held words longer than the budget; the
        scan is at most one chunk long."""
        text = self.text
        for i in range(limit, start, -1):
            if (
                text[i] == HELD_SPACE
                and text[i - 1] != HELD_SPACE
                and _held_start(self.held, i) is None
            ):
                return i
        return None

    def _hard_cut(self, start: int, limit: int) -> int:
        """Slice a word too long for the budget, before a held span it would cut into (one
        that starts the chunk and is longer than the budget alone is sliced)."""
        end = _hard_cut(self.text, start, limit)
        held_start = _held_start(self.held, end)
        if held_start is not None and held_start > start:
            end = held_start
        while end > start + 1 and self.text[end - 1] == HELD_SPACE:  # a chunk ends on a word
            end -= 1
        return end

    def _word_share(self, start: int, stop: int, budget: int) -> int:
        """Budget for one of the equal parts a clause too long for budget is cut into by words.

        Cutting greedily would leave a dangling word or two as a chunk of its own, which Kokoro
        reads with odd prosody.
        """
        segment_end = min(
            _first_after(self.sentence_ends, start, stop),
            _first_after(self.clause_ends, start, stop),
        )
        cost = self.cost(start, segment_end)
        parts = -(-cost // budget)  # ceiling division
        return -(-cost // parts)


def _check_budget(name: str, value: int) -> None:
    # Every single character must fit a chunk, or a chunk could not honour its budget
    if value < MAX_CHAR_WEIGHT:
        raise ValueError(f"{name} must be at least {MAX_CHAR_WEIGHT}, got {value}")


def _chunk_spans(
    layout: _Layout, max_tokens: int, first_budget: int, first_at_boundary: bool
) -> list[tuple[int, int, Pause]]:
    """(start, end, pause) of every chunk in order; chunks never cross a paragraph boundary."""
    spans: list[tuple[int, int, Pause]] = []
    for start, stop in _paragraph_spans(layout.text):
        while True:
            if spans:
                end = layout.cut(start, stop, max_tokens)
            elif first_at_boundary:
                end = layout.first_cut(start, stop, first_budget, max_tokens)
            else:
                end = layout.cut(start, stop, first_budget)
            if end == stop:
                spans.append((start, end, Pause.PARAGRAPH))
                break
            spans.append((start, end, layout.pause_at(end)))
            following = _NON_WS.search(layout.text, end, stop)
            assert following is not None  # a paragraph ends on a non-space character
            start = following.start()
    return spans


def chunk_text(
    text: str,
    *,
    max_tokens: int,
    first_chunk_tokens: int | None = None,
    chapter: int = 0,
    start_index: int = 0,
    weights: Sequence[int] | None = None,
    lang: str = DEFAULT_LANGUAGE,
    held: Sequence[tuple[int, int]] = (),
    first_at_boundary: bool = False,
) -> list[TextChunk]:
    """Cut (normalized) text into chunks of at most max_tokens estimated tokens.

    Sentences of a paragraph are packed greedily; a sentence too long for the budget is split at
    clauses, then words, then mid-word. The first chunk is held to first_chunk_tokens, when given,
    so that the first audio comes back quickly; with ``first_at_boundary`` it ends at a sentence
    or clause end instead, when one lies within max_tokens (``_Layout.first_cut``). ``weights``
    gives each character's cost instead of ``estimate_tokens``'s (core/text/chunk_plan.py weighs
    what is spoken); ``lang`` says where sentences and clauses end and what a character costs;
    ``held`` lists (start, end) spans, in order and apart, that no cut may fall inside.
    """
    _check_budget("max_tokens", max_tokens)
    first_budget = max_tokens
    if first_chunk_tokens is not None:
        _check_budget("first_chunk_tokens", first_chunk_tokens)
        first_budget = min(first_chunk_tokens, max_tokens)
    layout = _Layout.of(text, lang, weights, held)
    chunks = [
        TextChunk(
            index=start_index + i,
            chapter=chapter,
            text=text[start:end],
            tokens=layout.cost(start, end),
            pause_after=pause,
        )
        for i, (start, end, pause) in enumerate(
            _chunk_spans(layout, max_tokens, first_budget, first_at_boundary)
        )
    ]
    if chunks:
        chunks[-1] = replace(chunks[-1], pause_after=Pause.END)
    return chunks


def chunk_chapters(
    chapters: list[str],
    *,
    max_tokens: int,
    first_chunk_tokens: int | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> list[TextChunk]:
    """Chunk each chapter in turn, with indices running on across chapters.

    The last chunk of a chapter pauses for a chapter break, the last of the job ends it; the
    first_chunk_tokens budget applies only to the job's very first chunk.
    """
    chunks: list[TextChunk] = []
    for number, chapter_text in enumerate(chapters):
        part = chunk_text(
            chapter_text,
            max_tokens=max_tokens,
            first_chunk_tokens=None if chunks else first_chunk_tokens,
            chapter=number,
            start_index=len(chunks),
            lang=lang,
        )
        if part and chunks:
            chunks[-1] = replace(chunks[-1], pause_after=Pause.CHAPTER)
        chunks.extend(part)
    return chunks
