"""A job's chunks from its chapters: markup read, text cut within the token budget of what is
actually said, voices and pauses attached.

The budget holds for the spoken form: "1,250,000" is short written and long spoken, so text is
cut by what each character costs once spoken (``spoken_layout``). Chunks never cross a voice
change (each records its voice); a markup break sets the silence after the chunk before it; a
markup paragraph or sentence boundary ends a chunk there. The written text stays what
subtitles, chapters and the API show: the chunks are, in order, consecutive slices of each
segment's text. Only English is normalized (core/normalize); other languages' text is said as
written, and weighed by its own language's rules (core/text.py).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from core.chunking import Pause, chunk_text
from core.languages import is_english, is_spaced
from core.lexicon import check_phonemes
from core.markup import Boundary, Break, MarkupError, Override, Speech, parse_markup
from core.normalize import spoken_rewrites
from core.text import char_weights, estimate_tokens, normalize_text


class ChapterMarkupError(ValueError):
    """Markup that cannot be read, at ``position`` of chapter ``chapter``'s text (after
    whitespace normalization: hard-wrapped lines joined)."""

    def __init__(self, error: MarkupError, chapter: int):
        super().__init__(f"{error.message} at character {error.position} of chapter {chapter}")
        self.message = error.message
        self.position = error.position
        self.chapter = chapter


@dataclass(frozen=True)
class PlannedChunk:
    index: int
    chapter: int
    text: str  # written
    tokens: int  # estimated tokens of the spoken form
    pause_after: Pause
    pause_seconds: float | None = None  # a markup break's silence instead of the boundary's
    voice: str | None = None  # a markup voice; None: the job's
    overrides: tuple[Override, ...] = ()


# Stands in for a space inside or beside a rewritten span while the text is laid out: "5 km"
# is said as one thing ("five kilometers"), and a cut between its words would leave "km" to be
# read alone
_HELD_SPACE = "\u2060"  # word joiner: not whitespace, so never a word end


def spoken_layout(text: str, lang: str) -> tuple[str, list[int]]:
    """The text as it is laid out into chunks, and each character's cost: a rewritten span's
    spoken estimate spread over its written characters (at least 1 each), its spaces held so
    that no cut falls inside it. Same length as ``text``, position for position. Text that is
    not English is not rewritten: its own characters' costs."""
    if not is_english(lang):
        return text, list(char_weights(text, lang))
    weights = [estimate_tokens(char) for char in text]
    layout = list(text)
    for rewrite in spoken_rewrites(text, lang):
        length = rewrite.end - rewrite.start
        share, rest = divmod(max(estimate_tokens(rewrite.spoken), length), length)
        weights[rewrite.start : rewrite.end] = [share] * length
        weights[rewrite.start] += rest
        # The words on either side stay with it too: the rules read them ("in 1805", "1921
        # soldiers", "Dr. Watson"), and the worker normalizes each chunk on its own
        start, end = rewrite.start, rewrite.end
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        while end < len(text) and text[end] in " \t":
            end += 1
        for position in range(start, end):
            if text[position] in " \t":
                layout[position] = _HELD_SPACE
    return "".join(layout), weights


_FIRST_WORD = re.compile(r"\s*\S+")
_FIRST_CHARACTER = re.compile(r"\s*\S")  # of text written without spaces: no words to keep


def _cut(
    text: str, lang: str, budget: int, first_budget: int | None
) -> list[tuple[int, int, int, Pause]]:
    """(start, end, spoken tokens, pause after) of the chunks of ``text``; the last one's
    pause is END (the caller knows what follows the text)."""
    layout, weights = spoken_layout(text, lang)
    first_word = (_FIRST_WORD if is_spaced(lang) else _FIRST_CHARACTER).match(layout)
    if first_budget is not None and first_word:
        # The first chunk's small budget is for a quick start, not a limit of the model: it
        # must not cut inside the first word (or held span), which the full budget keeps whole
        first_budget = min(budget, max(first_budget, sum(weights[: first_word.end()])))
    pieces = []
    position = 0
    for chunk in chunk_text(
        layout, max_tokens=budget, first_chunk_tokens=first_budget, weights=weights, lang=lang
    ):
        start = layout.index(chunk.text, position)
        position = start + len(chunk.text)
        pieces.append((start, position, chunk.tokens, chunk.pause_after))
    return pieces


_SENTENCE_END = re.compile(r"[.!?…。！？．][\"'”’»)\]」』）】]*\s*$")


def _segment_end(text: str) -> Pause:
    """The pause after a segment's last chunk (a voice change or a break follows): a sentence's
    if the text ends one, else a clause's; a markup boundary after it may raise it."""
    return Pause.SENTENCE if _SENTENCE_END.search(text) else Pause.CLAUSE


def _stronger(pause: Pause, other: Pause) -> Pause:
    order = [Pause.CLAUSE, Pause.SENTENCE, Pause.PARAGRAPH, Pause.CHAPTER, Pause.END]
    return max(pause, other, key=order.index)


def plan_chunks(
    chapters: Sequence[str],
    *,
    lang: str,
    markup: str,
    check_voice: Callable[[str], str],
    max_tokens: int,
    first_chunk_tokens: int | None = None,
) -> list[PlannedChunk]:
    """Every chunk of a job, indices running on across chapters. Raises ChapterMarkupError for
    markup that cannot be read."""
    chunks: list[PlannedChunk] = []
    for number, raw in enumerate(chapters):
        in_chapter: list[PlannedChunk] = []
        try:
            segments = parse_markup(
                normalize_text(raw), markup, check_voice=check_voice, check_phonemes=check_phonemes
            )
        except MarkupError as error:
            raise ChapterMarkupError(error, number) from error
        for segment in segments:
            if isinstance(segment, Speech):
                first = first_chunk_tokens if not chunks and not in_chapter else None
                for start, end, tokens, pause in _cut(segment.written, lang, max_tokens, first):
                    piece = segment.cut(start, end)
                    in_chapter.append(
                        PlannedChunk(
                            index=len(chunks) + len(in_chapter),
                            chapter=number,
                            text=piece.written,
                            tokens=tokens,
                            pause_after=_segment_end(piece.written)
                            if pause == Pause.END
                            else pause,
                            voice=piece.voice,
                            overrides=piece.overrides,
                        )
                    )
            elif not in_chapter:
                # Markup before any text: a silent chunk holds a leading break
                if isinstance(segment, Break):
                    in_chapter.append(
                        PlannedChunk(len(chunks), number, "", 0, Pause.SENTENCE, segment.seconds)
                    )
            elif isinstance(segment, Break):
                last = in_chapter[-1]
                in_chapter[-1] = replace(
                    last, pause_seconds=(last.pause_seconds or 0.0) + segment.seconds
                )
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
