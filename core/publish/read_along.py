"""A chapter of a finished job as read-along text: paragraphs of sentences (and their words),
each with an XML id, and the clip of the book's audio in which it is said. Pure.

What is timed comes from the job's own word timings (core/speech/word_timing.py), placed in the
file as ``GET /v1/jobs/{id}/timings`` places them, so that the two always agree. A chunk's
sentences are those subtitles find (``split_sentences``), its written words matched in order
to its timed words as subtitles match them; a chunk whose words do not follow its text (an
older chunk without timings) shares its audio among its sentences by their estimated tokens,
and its words get no times of their own.

Clips are gap-free: a unit (a sentence, or with words a word) is heard from its first word's
start to where the next unit of its chapter starts being said, the chapter's last to its last
word's end. A reading system plays a clip and jumps to the next one's begin; with no gap between
them it never jumps, so the pauses between sentences stay in the narration and the highlight
moves on the moment the next sentence starts. Clips are whole milliseconds; a unit whose clip
would be empty (a word said in under half a millisecond) gets no id, its text staying as it is.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.audio.formats import SAMPLE_RATE
from core.audio.timeline import Slot
from core.speech.languages import is_spaced
from core.speech.word_timing import PlacedWord, TimedWord, placed_words, shown_word
from core.text.sentences import estimate_tokens, split_sentences

# The boundaries after a chunk that end its paragraph (core/text/chunking.py's Pause values);
# a chunk cut at a sentence or clause end runs on in the same paragraph
PARAGRAPH_ENDS = frozenset({"paragraph", "chapter", "end"})

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkText:
    """What read-along needs of a chunk: its written text, where its audio lies in the book's
    file, its words (samples in the chunk's audio) and the boundary that follows it."""

    index: int
    text: str
    slot: Slot
    words: Sequence[TimedWord]
    pause_after: str


@dataclass(frozen=True)
class Clip:
    """A stretch of the book's audio, in whole milliseconds: [begin_ms, end_ms)."""

    begin_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.begin_ms


@dataclass
class Token:
    """A written word of a sentence: the whitespace before it, the marks around it (quotes,
    commas) and the word as shown; where it is said, the samples of the file it spans."""

    space_before: str
    lead: str
    word: str
    trail: str
    span: tuple[int, int] | None = None
    id: str | None = None
    clip: Clip | None = None


@dataclass
class Sentence:
    """A sentence of a chunk (a fragment of one, where a chunk cut a long sentence)."""

    name: str  # its id, when it gets one: unique in the book
    tokens: list[Token]
    span: tuple[int, int] | None  # samples of the file, from its first word's start
    words_timed: bool  # its words carry their own times (else only the sentence does)
    id: str | None = None
    clip: Clip | None = None


@dataclass
class ReadAlongChapter:
    """A chapter as paragraphs of sentences, in order, with ids and clips assigned."""

    number: int  # from 0
    title: str
    paragraphs: list[list[Sentence]] = field(default_factory=list)
    # Between the sentences of a paragraph (and the chunks in it): a space, or nothing in a
    # language written without spaces
    separator: str = " "

    @property
    def sentences(self) -> Iterable[Sentence]:
        for paragraph in self.paragraphs:
            yield from paragraph

    @property
    def duration_ms(self) -> int:
        """The audio of its clips, summed: its overlay's ``media:duration``."""
        return sum(clip.duration_ms for _, clip in self.clips())

    def clips(self) -> list[tuple[str, Clip]]:
        """(id, clip) of every timed unit, in reading order."""
        out = []
        for sentence in self.sentences:
            if sentence.clip is not None:
                out.append((sentence.id, sentence.clip))
            out += [(t.id, t.clip) for t in sentence.tokens if t.clip is not None]
        return out


def milliseconds(samples: int) -> int:
    """A position in the file in whole milliseconds (clips are written to the millisecond)."""
    return (samples * 1000 + SAMPLE_RATE // 2) // SAMPLE_RATE


def chapter_read_along(
    number: int, title: str, chunks: Iterable[ChunkText], *, lang: str, words: bool
) -> ReadAlongChapter:
    """The chapter ``number`` made of ``chunks`` (its chunks, in order), with an id and a clip
    on every sentence said; with ``words``, on every word said instead, each sentence then
    keeping an id that groups its words."""
    chapter = ReadAlongChapter(number, title, separator=" " if is_spaced(lang) else "")
    paragraph: list[Sentence] = []
    count = 0
    for chunk in chunks:
        for sentence in _chunk_sentences(chunk, lang):
            count += 1
            sentence.name = f"c{number + 1}-s{count}"
            paragraph.append(sentence)
        if chunk.pause_after in PARAGRAPH_ENDS and paragraph:
            chapter.paragraphs.append(paragraph)
            paragraph = []
    if paragraph:
        chapter.paragraphs.append(paragraph)
    _assign_clips(chapter, words)
    return chapter


def _tokens(sentence: str) -> list[Token]:
    tokens, end = [], 0
    for match in _TOKEN.finditer(sentence):
        text = match.group()
        shown = shown_word(text)
        # shown_word strips marks from both ends, so the word starts at its first occurrence
        at = text.find(shown)
        tokens.append(
            Token(sentence[end : match.start()], text[:at], shown, text[at + len(shown) :])
        )
        end = match.end()
    return tokens


def _chunk_sentences(chunk: ChunkText, lang: str) -> list[Sentence]:
    texts = split_sentences(chunk.text, lang) or (
        [chunk.text.strip()] if chunk.text.strip() else []
    )
    sentences = [Sentence("", _tokens(text), None, words_timed=False) for text in texts]
    placed = placed_words([(chunk.index, chunk.slot, chunk.words)])
    if placed and _matched(sentences, placed):
        return sentences
    # No timings, or words that do not follow the text: the sentences share the chunk's audio
    # by their estimated tokens, as subtitles do
    for sentence in sentences:
        for token in sentence.tokens:
            token.span = None
        sentence.words_timed = False
    weights = [estimate_tokens(text, lang) for text in texts]
    total, done, start = sum(weights), 0, chunk.slot.start
    for sentence, weight in zip(sentences, weights, strict=True):
        done += weight
        end = chunk.slot.start + round(chunk.slot.length * done / total)
        sentence.span = (start, end)
        start = end
    return sentences


def _matched(sentences: list[Sentence], placed: Sequence[PlacedWord]) -> bool:
    """Give each token the place of the word it is, in order (a written token that is not said,
    a lone dash, matches none); True when every placed word found its token."""
    at = 0
    for sentence in sentences:
        for token in sentence.tokens:
            if at < len(placed) and placed[at].word == token.word:
                token.span = (placed[at].start, placed[at].end)
                at += 1
        said = [t.span for t in sentence.tokens if t.span is not None]
        sentence.words_timed = bool(said)
        sentence.span = (said[0][0], said[-1][1]) if said else None
    return at == len(placed)


def _assign_clips(chapter: ReadAlongChapter, words: bool) -> None:
    """Gap-free clips over the chapter's timed units in reading order, and the ids of those
    whose clip is not empty."""
    units: list[Sentence | Token] = []
    for sentence in chapter.sentences:
        if words and sentence.words_timed:
            units += [t for t in sentence.tokens if t.span is not None]
        elif sentence.span is not None:
            units.append(sentence)
    for position, unit in enumerate(units):
        begin = milliseconds(unit.span[0])
        following = units[position + 1] if position + 1 < len(units) else None
        end = milliseconds(following.span[0] if following else unit.span[1])
        if end > begin:
            unit.clip = Clip(begin, end)
    for sentence in chapter.sentences:
        for number, token in enumerate(sentence.tokens, start=1):
            if token.clip is not None:
                token.id = f"{sentence.name}-w{number}"
        if sentence.clip is not None or any(t.id for t in sentence.tokens):
            sentence.id = sentence.name
