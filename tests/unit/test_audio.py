"""Chunk encoding and assembly: lossless enough, in order, with the pauses each chunk asks for."""

import numpy as np
import pytest
import soundfile as sf

from core.audio_formats import PAUSE_SECONDS, SAMPLE_RATE, AudioFormat
from worker.audio import decode_chunk, encode_chunk, write_assembled


def tone(seconds: float, frequency: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_chunk_round_trip_is_16_bit_exact_and_empty_chunks_survive():
    audio = tone(0.5, 440)
    np.testing.assert_allclose(decode_chunk(encode_chunk(audio)), audio, atol=1 / 32768)
    assert len(decode_chunk(encode_chunk(np.zeros(0, dtype=np.float32)))) == 0


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_assembly_joins_chunks_in_order_with_pauses(tmp_path, fmt):
    parts = [(tone(0.5, 300), "sentence"), (np.zeros(0, np.float32), "paragraph"),
             (tone(0.5, 600), "end")]  # fmt: skip
    target = tmp_path / f"book.{fmt.extension}"
    samples = write_assembled(target, fmt, parts)
    expected = int(SAMPLE_RATE * (1.0 + PAUSE_SECONDS["sentence"] + PAUSE_SECONDS["paragraph"]))
    assert samples == expected
    audio, rate = sf.read(target, dtype="float32")
    assert rate == SAMPLE_RATE
    assert abs(len(audio) - expected) <= SAMPLE_RATE * 0.1  # lossy codecs pad a little
    if fmt in (AudioFormat.WAV, AudioFormat.FLAC):
        gap = audio[SAMPLE_RATE // 2 : SAMPLE_RATE // 2 + int(SAMPLE_RATE * 0.9)]
        assert np.abs(gap).max() < 1e-3  # the pauses are silent
        first, second = audio[: SAMPLE_RATE // 2], audio[-SAMPLE_RATE // 2 :]
        # Order: the 300 Hz chunk first, the 600 Hz one last (zero crossings count frequency)
        crossings = [np.count_nonzero(np.diff(np.sign(x))) for x in (first, second)]
        assert crossings[1] > 1.8 * crossings[0]
