"""A job's chunks from its chapters: markup read, text cut within the token budget of what is
actually said, voices and pauses attached.

The budget holds for the spoken form: "1,250,000" is short written and long spoken, so text is
cut by what each character costs once spoken (``spoken_layout``). Chunks never cross a voice
change (each records its voice); a markup break sets the silence after the chunk before it
(each gap's and the job's silence capped: KQ_MAX_PAUSE_GAP_S, KQ_MAX_PAUSE_TOTAL_S); a markup
paragraph or sentence boundary ends a chunk there. No chunk is cut inside what the normalizer
rewrites, not even at its punctuation (``spoken_layout``). The written text stays what
subtitles, chapters and the API show: the chunks are, in order, consecutive slices of each
segment's text. Only English is normalized (core/normalize); other languages' text is said as
written, and weighed by its own language's rules (core/text/sentences.py).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from core.jobs.limits import MAX_PAUSE_GAP_S, MAX_PAUSE_TOTAL_S
from core.speech.languages import is_english, is_spaced
from core.speech.lexicon import check_phonemes
from core.text.chunking import HELD_SPACE, Pause, chunk_text
from core.text.markup import Boundary, Break, MarkupError, Override, Speech, parse_markup
from core.text.markup_segments import Segment
from core.text.normalize import spoken_rewrites
from core.text.sentences import char_weights, estimate_tokens, normalize_text

if TYPE_CHECKING:
    from core.cast.book import VoiceSpan


class ChapterMarkupError(ValueError):
    """Markup that cannot be read, at ``position`` of chapter ``chapter``'s text (after
    whitespace normalization: hard-wrapped lines joined)."""

    def __init__(self, error: MarkupError, chapter: int):
        super().__init__(f"{error.message} at character {error.position} of chapter {chapter}")
        self.message = error.message
        self.position = error.position
        self.chapter = chapter


class _PauseBudget:
    """The silence markup adds: each gap (the pauses and breaks in a row, added up) and the
    whole job's are capped (KQ_MAX_PAUSE_GAP_S, KQ_MAX_PAUSE_TOTAL_S), so that a few bytes of
    markup ("[pause:10s]" a hundred thousand times) cannot ask for days of silence."""

    _SLACK = 1e-9  # sums of decimal seconds in binary floats: 6 x 10 s may be 60.000000001

    def __init__(self, gap_limit: float, total_limit: float):
        self.gap_limit = gap_limit
        self.total_limit = total_limit
        self.total = 0.0

    def add(self, pause: Break, gap: float, chapter: int) -> None:
        """Count ``pause``, after which its gap holds ``gap`` seconds; ChapterMarkupError, at
        the pause, past either limit."""
        self.total += pause.seconds
        position = 0 if pause.position is None else pause.position
        if gap > self.gap_limit + self._SLACK:
            message = (
                f"the pauses in a row here add up to {gap:g} s of silence, more than the "
                f"{self.gap_limit:g} s one gap may hold (KQ_MAX_PAUSE_GAP_S); make them "
                f"shorter, or put words between them"
            )
            raise ChapterMarkupError(MarkupError(message, position), chapter)
        if self.total > self.total_limit + self._SLACK:
            message = (
                f"the pauses of this job add up to more than the {self.total_limit:g} s of "
                f"silence a job may hold (KQ_MAX_PAUSE_TOTAL_S); make them fewer or shorter, "
                f"or split the text into several jobs"
            )
            raise ChapterMarkupError(MarkupError(message, position), chapter)


@dataclass(frozen=True)
class PlannedChunk:
    index: int
    chapter: int
    text: str  # written
    tokens: int  # estimated tokens of the spoken form
    pause_after: Pause
    pause_seconds: float | None = None  # a markup break's silence instead of the boundary's
    voice: str | None = None  # a markup voice (or the cast's); None: the job's
    overrides: tuple[Override, ...] = ()
    speaker: str | None = None  # the character whose words these are (a job with a cast)


# What may lie between two rewritten spans that are held as one: nothing, or a mark or two
# written without spaces (a dash, a slash)
_JOINED = re.compile(r"[^\w\s]{0,3}")


@dataclass(frozen=True)
class SpokenLayout:
    """A text as it is laid out into chunks: ``text`` is the written text with the spaces in
    and beside each rewritten span held (HELD_SPACE), position for position; ``weights`` each
    character's cost, ``held`` the rewritten spans (start, end), touching ones merged, that no
    cut may fall inside."""

    text: str
    weights: list[int]
    held: list[tuple[int, int]]


def spoken_layout(text: str, lang: str) -> SpokenLayout:
    """The layout of ``text``: a rewritten span's spoken estimate spread over its written
    characters (at least 1 each), its spaces held and the span itself held, so that no cut falls
    inside it, not even at its own punctuation ("1914–1918" is said "nineteen fourteen to
    nineteen eighteen": cut at its dash, the "to" would be lost). Text that is not English is
    not rewritten: its own characters' costs."""
    weights = list(char_weights(text, lang))
    if not is_english(lang):
        return SpokenLayout(text, weights, [])
    layout = list(text)
    held: list[tuple[int, int]] = []
    for rewrite in spoken_rewrites(text, lang):
        length = rewrite.end - rewrite.start
        share, rest = divmod(max(estimate_tokens(rewrite.spoken), length), length)
        weights[rewrite.start : rewrite.end] = [share] * length
        weights[rewrite.start] += rest
        # An abbreviation whose period the normalizer did not keep ends no sentence ("Nos. 3",
        # "Dr. Watson"): no cut right after it either, which would part it from its number
        end = rewrite.end
        if (
            text[end - 1] == "."
            and not rewrite.spoken.endswith(".")
            and end < len(text)
            and text[end] in " \t"
        ):
            end += 1
        # Spans that touch, or that only a mark parts, are said as one: "$5–$10" is "$5", "–"
        # said "to", and "$10"; "1920s–1930s" and "5:30–6:45" are ranges read in two rewrites
        if held and _JOINED.fullmatch(text, held[-1][1], rewrite.start):
            held[-1] = (held[-1][0], max(held[-1][1], end))
        else:
            held.append((rewrite.start, end))
        # The words on either side stay with it too: the rules read them ("in 1805", "1921
        # soldiers", "Dr. Watson"), and the worker normalizes each chunk on its own
        start, end = rewrite.start, rewrite.end
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        while end < len(text) and text[end] in " \t":
            end += 1
        for position in range(start, end):
            if text[position] in " \t":
                layout[position] = HELD_SPACE
    return SpokenLayout("".join(layout), weights, held)


_SPACE = re.compile(r"\s")


def _first_word_end(text: str, spaced: bool) -> int | None:
    """Where the first word of ``text`` ends (a held span is part of its word); of text
    written without spaces, its first character: no words to keep. None: no word at all."""
    start = len(text) - len(text.lstrip())
    if start == len(text):
        return None
    if not spaced:
        return start + 1
    space = _SPACE.search(text, start)
    return len(text) if space is None else space.start()


def _cut(
    text: str, lang: str, budget: int, first_budget: int | None
) -> list[tuple[int, int, int, Pause]]:
    """(start, end, spoken tokens, pause after) of the chunks of ``text``; the last one's
    pause is END (the caller knows what follows the text)."""
    spoken = spoken_layout(text, lang)
    layout = spoken.text
    first_word = _first_word_end(layout, is_spaced(lang))
    if first_budget is not None and first_word is not None:
        # The first chunk's small budget is for a quick start, not a limit of the model: it
        # must not cut inside the first word (or held span), which the full budget keeps whole
        first_budget = min(budget, max(first_budget, sum(spoken.weights[:first_word])))
    pieces = []
    position = 0
    for chunk in chunk_text(
        layout,
        max_tokens=budget,
        first_chunk_tokens=first_budget,
        weights=spoken.weights,
        lang=lang,
        held=spoken.held,
        first_at_boundary=True,
    ):
        start = layout.index(chunk.text, position)
        position = start + len(chunk.text)
        pieces.append((start, position, chunk.tokens, chunk.pause_after))
    return pieces


# A segment that ends on one of these, closing quotes and brackets after it, ends a sentence
_TERMINATORS = tuple(".!?…。！？．")
_CLOSERS = "\"'”’»)]」』）】"


def _segment_end(text: str) -> Pause:
    """The pause after a segment's last chunk (a voice change or a break follows): a sentence's
    if the text ends one, else a clause's; a markup boundary after it may raise it."""
    # String methods, not a regex: a run of terminators and closers costs one pass
    ends_sentence = text.rstrip().rstrip(_CLOSERS).endswith(_TERMINATORS)
    return Pause.SENTENCE if ends_sentence else Pause.CLAUSE


def _stronger(pause: Pause, other: Pause) -> Pause:
    order = [Pause.CLAUSE, Pause.SENTENCE, Pause.PARAGRAPH, Pause.CHAPTER, Pause.END]
    return max(pause, other, key=order.index)


def spoken_text(segments: "Sequence[Segment]") -> str:
    """What a chapter's segments say, one after the other: the text a cast reads."""
    return "".join(s.written for s in segments if isinstance(s, Speech))


class _SpeakerPieces:
    """A chapter's Speech segments, in order, cut where the speaker changes (VoiceSpans over
    ``spoken_text``); without a cast, each whole with no speaker."""

    def __init__(self, spans: "list[VoiceSpan] | None"):
        self.spans = spans
        self.next = 0  # the first span not wholly before the segment being cut
        self.at = 0  # where the segment being cut starts in spoken_text

    def of(self, segment: Speech) -> "list[tuple[Speech, str | None, str | None]]":
        start, end = self.at, self.at + len(segment.written)
        self.at = end
        if self.spans is None:
            return [(segment, None, None)]
        while self.next < len(self.spans) and self.spans[self.next].end <= start:
            self.next += 1
        pieces = []
        k = self.next
        while k < len(self.spans) and self.spans[k].start < end:
            span = self.spans[k]
            lo, hi = max(span.start, start), min(span.end, end)
            if hi > lo:
                pieces.append((segment.cut(lo - start, hi - start), span.speaker, span.voice))
            k += 1
        return pieces or [(segment, None, None)]


def plan_chunks(
    chapters: Sequence[str],
    *,
    lang: str,
    markup: str,
    check_voice: Callable[[str], str],
    max_tokens: int,
    first_chunk_tokens: int | None = None,
    max_pause_gap_s: float = MAX_PAUSE_GAP_S,
    max_pause_total_s: float = MAX_PAUSE_TOTAL_S,
    speakers: "Callable[[list[str]], list[list[VoiceSpan]]] | None" = None,
) -> list[PlannedChunk]:
    """Every chunk of a job, indices running on across chapters. Raises ChapterMarkupError for
    markup that cannot be read, and for pauses that add up to more silence than one gap or the
    job may hold (``max_pause_gap_s``, ``max_pause_total_s``: the API passes its settings').
    ``speakers`` (a job with a cast) cuts each chapter's spoken text, as read here, where the
    speaker changes: no chunk crosses a cut, and each has its piece's speaker and voice (a
    markup voice wins)."""
    pauses = _PauseBudget(max_pause_gap_s, max_pause_total_s)
    chapter_segments = []
    for number, raw in enumerate(chapters):
        try:
            chapter_segments.append(
                parse_markup(
                    normalize_text(raw),
                    markup,
                    check_voice=check_voice,
                    check_phonemes=check_phonemes,
                )
            )
        except MarkupError as error:
            raise ChapterMarkupError(error, number) from error
    cast = None
    if speakers is not None:
        cast = speakers([spoken_text(segments) for segments in chapter_segments])
    chunks: list[PlannedChunk] = []
    for number, segments in enumerate(chapter_segments):
        in_chapter: list[PlannedChunk] = []
        pieces = _SpeakerPieces(cast[number] if cast is not None else None)
        for segment in segments:
            if isinstance(segment, Speech):
                for part, speaker, voice in pieces.of(segment):
                    first = first_chunk_tokens if not chunks and not in_chapter else None
                    for start, end, tokens, pause in _cut(part.written, lang, max_tokens, first):
                        piece = part.cut(start, end)
                        in_chapter.append(
                            PlannedChunk(
                                index=len(chunks) + len(in_chapter),
                                chapter=number,
                                text=piece.written,
                                tokens=tokens,
                                pause_after=_segment_end(piece.written)
                                if pause == Pause.END
                                else pause,
                                voice=piece.voice or voice,
                                overrides=piece.overrides,
                                speaker=speaker,
                            )
                        )
            elif not in_chapter:
                # Markup before any text: a silent chunk holds a leading break
                if isinstance(segment, Break):
                    pauses.add(segment, segment.seconds, number)
                    in_chapter.append(
                        PlannedChunk(len(chunks), number, "", 0, Pause.SENTENCE, segment.seconds)
                    )
            elif isinstance(segment, Break):
                last = in_chapter[-1]
                gap = (last.pause_seconds or 0.0) + segment.seconds
                pauses.add(segment, gap, number)
                in_chapter[-1] = replace(last, pause_seconds=gap)
            elif isinstance(segment, Boundary):
                kind = Pause.PARAGRAPH if segment.kind == "paragraph" else Pause.SENTENCE
                in_chapter[-1] = replace(
                    in_chapter[-1], pause_after=_stronger(in_chapter[-1].pause_after, kind)
                )
        if in_chapter and chunks:
            chunks[-1] = replace(chunks[-1], pause_after=Pause.CHAPTER)
        chunks.extend(in_chapter)
    if chunks:
        chunks[-1] = replace(chunks[-1], pause_after=Pause.END)
    return chunks
