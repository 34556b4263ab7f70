"""Sentence-level subtitles (SRT, WebVTT) for an assembled job.

Chunk boundaries are exact: each chunk's sample count plus the pause assembly put after it.
Within a chunk, sentences share its duration in proportion to their estimated phoneme tokens
(the model reads at a near-constant rate per token).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from core.audio_formats import SAMPLE_RATE
from core.text import estimate_tokens, split_sentences
from core.timeline import Slot


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def build_cues(chunks: Iterable[tuple[str, Slot]]) -> list[Cue]:
    """Cues from the text and timeline slot of every chunk, in order."""
    cues: list[Cue] = []
    for text, slot in chunks:
        sentences = split_sentences(text) or [text]
        weights = [estimate_tokens(s) for s in sentences]
        total, done, start = sum(weights), 0, slot.start
        for sentence, weight in zip(sentences, weights, strict=True):
            done += weight
            end = slot.start + round(slot.length * done / total)
            cues.append(Cue(start / SAMPLE_RATE, end / SAMPLE_RATE, sentence))
            start = end
    return cues


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
