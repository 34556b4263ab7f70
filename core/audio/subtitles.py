"""Subtitles (SRT, WebVTT) for an assembled job: a cue per sentence, or per word.

Chunk boundaries are exact: each chunk's sample count plus the pause assembly put after it.
Within a chunk, a sentence lasts from the start of its first word to the end of its last where
the chunk's word timings are stored (core/speech/word_timing.py); for older chunks without them,
sentences share the chunk's duration in proportion to their estimated phoneme tokens (the
model reads at a near-constant rate per token).
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.audio.formats import SAMPLE_RATE
from core.audio.timeline import Slot
from core.speech.word_timing import TimedWord, placed_words, shown_word
from core.text.sentences import estimate_tokens, split_sentences

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def build_cues(chunks: Iterable[tuple[str, Slot] | tuple[str, Slot, Sequence[TimedWord]]]):
    """Sentence cues from the text, timeline slot and (where stored) words of every chunk."""
    cues: list[Cue] = []
    for text, slot, *stored in chunks:
        sentences = split_sentences(text) or [text]
        words = stored[0] if stored else ()
        spans = _sentence_spans(sentences, words) if words else None
        if spans is None:
            spans = _estimated_spans(sentences, slot.length)
        for sentence, (start, end) in zip(sentences, spans, strict=True):
            cues.append(
                Cue((slot.start + start) / SAMPLE_RATE, (slot.start + end) / SAMPLE_RATE, sentence)
            )
    return cues


def _estimated_spans(sentences: list[str], length: int) -> list[tuple[int, int]]:
    """Sentences sharing the chunk's samples by their estimated phoneme tokens."""
    weights = [estimate_tokens(s) for s in sentences]
    total, done, start, spans = sum(weights), 0, 0, []
    for weight in weights:
        done += weight
        end = round(length * done / total)
        spans.append((start, end))
        start = end
    return spans


def _sentence_spans(
    sentences: list[str], words: Sequence[TimedWord]
) -> list[tuple[int, int]] | None:
    """Each sentence from its first word's start to its last word's end; None when the words
    do not follow the sentences (then the estimate serves)."""
    spans, at = [], 0
    for sentence in sentences:
        mine = []
        for token in _TOKEN.findall(sentence):
            # Words are the written tokens that are said, in order; a token not said has none
            if at < len(words) and words[at].word == shown_word(token):
                mine.append(words[at])
                at += 1
        if not mine:
            return None
        spans.append((mine[0].start, mine[-1].end))
    return spans if at == len(words) else None


def word_cues(chunks: Iterable[tuple[int, Slot, Sequence[TimedWord]]]) -> list[Cue]:
    """A cue per word, from the (index, slot, words) of every chunk: in order, no overlaps."""
    return [Cue(w.start / SAMPLE_RATE, w.end / SAMPLE_RATE, w.word) for w in placed_words(chunks)]


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_srt(cues: list[Cue]) -> str:
    blocks = (
        f"{n}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n{c.text}\n"
        for n, c in enumerate(cues, start=1)
    )
    return "\n".join(blocks)


def to_vtt(cues: list[Cue]) -> str:
    blocks = (f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{c.text}\n" for c in cues)
    return "WEBVTT\n\n" + "\n".join(blocks)
