"""Real properties of synthesized audio, shared by the integration tests."""

import io

import numpy as np
import soundfile as sf

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
    # Speech throughout: no second-long window anywhere is silent beyond the inserted pauses
    window = rate
    energies = [rms(audio[i : i + window]) for i in range(0, len(audio) - window, window)]
    assert min(energies) > 0.001, "a whole second of silence inside the speech"
