"""Real properties of synthesized audio, shared by the integration tests."""

import io

import numpy as np
import soundfile as sf

from core.audio.timeline import PAUSE_SECONDS

# English speech from Kokoro at speed 1.0 reads roughly 12-17 characters a second; the bounds
# are wide enough for pauses and voices, narrow enough to catch dropped or repeated chunks
MIN_CHARS_PER_SECOND = 7.0
MAX_CHARS_PER_SECOND = 28.0


def read_audio(data: bytes) -> tuple[np.ndarray, int]:
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    return audio, rate


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio)))) if len(audio) else 0.0


def assert_speech(audio: np.ndarray, rate: int, chars: int) -> None:
    assert rate == 24_000
    seconds = len(audio) / rate
    assert chars / MAX_CHARS_PER_SECOND <= seconds <= chars / MIN_CHARS_PER_SECOND, (
        f"{seconds:.1f} s of audio for {chars} characters"
    )
    assert rms(audio) > 0.01, "audio is (nearly) silent"
    # Speech throughout: no silence anywhere longer than the longest pause assembly inserts
    # (a chapter's), plus the quiet a sentence ends with
    frame = rate // 20
    quiet = [rms(audio[i : i + frame]) < 0.001 for i in range(0, len(audio) - frame, frame)]
    longest = run = 0
    for silent in quiet:
        run = run + 1 if silent else 0
        longest = max(longest, run)
    limit = max(PAUSE_SECONDS.values()) + 0.5
    assert longest * frame / rate <= limit, (
        f"{longest * frame / rate:.2f} s of silence inside the speech (at most {limit} s)"
    )
