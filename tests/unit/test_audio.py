"""Chunk encoding and assembly: lossless enough, in order, with the pauses each chunk asks for."""

import numpy as np
import pytest
import soundfile as sf

from core.audio_formats import SAMPLE_RATE, AudioFormat
from core.audio_stream import decode_chunk, encode_chunk
from core.timeline import PAUSE_SECONDS, pause_samples
from worker.audio import (
    MAX_GAIN,
    TARGET_PEAK,
    book_gain,
    fade_edges,
    write_assembled,
)


def tone(seconds: float, frequency: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_chunk_round_trip_is_16_bit_exact_and_empty_chunks_survive():
    audio = tone(0.5, 440)
    np.testing.assert_allclose(decode_chunk(encode_chunk(audio)), audio, atol=1 / 32768)
    assert len(decode_chunk(encode_chunk(np.zeros(0, dtype=np.float32)))) == 0


@pytest.mark.parametrize("fmt", [f for f in AudioFormat if f is not AudioFormat.M4B])
def test_assembly_joins_chunks_in_order_with_pauses(tmp_path, fmt):
    parts = [
        (tone(0.5, 300), 0, pause_samples("sentence")),
        (np.zeros(0, np.float32), 0, pause_samples("paragraph")),
        (tone(0.5, 600), 0, 0),
    ]
    target = tmp_path / f"book.{fmt.extension}"
    samples = write_assembled(target, fmt, parts, ["One"])
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


def test_fades_and_book_gain(tmp_path):
    audio = np.ones(SAMPLE_RATE, dtype=np.float32) * 0.5
    faded = fade_edges(audio)
    assert faded[0] == 0 and abs(faded[-1]) < 0.01
    np.testing.assert_array_equal(faded[1000:-1000], audio[1000:-1000])  # the middle untouched
    assert len(fade_edges(np.zeros(3, np.float32))) == 3
    assert book_gain([0.5, 0.25, None]) == pytest.approx(TARGET_PEAK / 0.5)
    assert book_gain([0.01]) == MAX_GAIN  # quiet books are raised 12 dB at most
    assert book_gain([0.0, None]) == 1.0

    parts = [(tone(0.5, 300) * 2, 0, pause_samples("sentence")), (tone(0.5, 600), 0, 0)]
    gain = book_gain(np.abs(a).max() for a, _, _ in parts)  # 0.6, 0.3
    write_assembled(tmp_path / "book.wav", AudioFormat.WAV, parts, ["A"], gain=gain)
    book, _ = sf.read(tmp_path / "book.wav", dtype="float32")
    assert abs(np.abs(book).max() - TARGET_PEAK) < 1e-3  # the loudest chunk sets the level
    quiet = book[-SAMPLE_RATE // 2 :]
    assert abs(np.abs(quiet).max() - TARGET_PEAK / 2) < 1e-3  # relative levels are kept


def test_m4b_has_a_chapter_marker_per_chapter(tmp_path):
    import av

    parts = [
        (tone(1.0, 300), 0, pause_samples("sentence")),
        (tone(1.0, 400), 0, pause_samples("chapter")),
        (tone(2.0, 500), 1, 0),
    ]
    titles = ["The Harbour", "The Market"]
    samples = write_assembled(tmp_path / "book.m4b", AudioFormat.M4B, parts, titles, title="A Town")
    with av.open(str(tmp_path / "book.m4b")) as book:
        chapters = book.chapters()
        assert book.metadata["title"] == "A Town"
        assert book.streams.audio[0].codec_context.name == "aac"
        seconds = book.duration / 1_000_000
    assert [c["metadata"]["title"] for c in chapters] == ["The Harbour", "The Market"]
    starts = [float(c["start"] * c["time_base"]) for c in chapters]
    ends = [float(c["end"] * c["time_base"]) for c in chapters]
    second_start = 2.0 + PAUSE_SECONDS["sentence"] + PAUSE_SECONDS["chapter"]
    assert starts == pytest.approx([0.0, second_start], abs=0.001)
    assert ends[-1] == pytest.approx(samples / SAMPLE_RATE, abs=0.001)
    assert abs(seconds - samples / SAMPLE_RATE) < 0.1


def test_chunks_are_trimmed_to_their_audible_samples():
    from worker.audio import SILENCE_LEVEL, trim_silence

    quiet = np.full(1000, SILENCE_LEVEL / 2, dtype=np.float32)
    speech = tone(0.25, 300)
    trimmed = trim_silence(np.concatenate([quiet, speech, quiet]))
    loud = np.flatnonzero(np.abs(speech) > SILENCE_LEVEL)
    np.testing.assert_array_equal(trimmed, speech[loud[0] : loud[-1] + 1])
    assert len(trim_silence(quiet)) == 0
