"""Audio as assembly writes it: chunk storage round trip, fades and trimming at chunk edges,
``encode_run`` writing chunks in order with their pauses in every format (and measuring what it
wrote), peak gain, and the look-ahead limiter that holds ACX chapters under their ceiling."""

import numpy as np
import pytest

from core.audio.formats import SAMPLE_RATE, AudioFormat
from core.audio.loudness import PEAK_TARGET_DBFS, ChapterGain, Loudness, chapter_gain, db_to_gain
from core.audio.stream import decode_chunk, encode_chunk
from core.audio.timeline import PAUSE_SECONDS, pause_samples
from worker.audio import (
    FADE_SECONDS,
    LIMITER_WINDOW_SECONDS,
    SILENCE_LEVEL,
    apply_gain,
    chunk_audio,
    encode_run,
    fade_edges,
    levels_of,
    limit,
    speech_bounds,
)
from worker.container_join import decode

LOSSLESS = (AudioFormat.WAV, AudioFormat.FLAC)
# Samples per codec frame at 24 kHz: MPEG-2 layer III, Opus (20 ms), AAC
FRAME = {AudioFormat.MP3: 576, AudioFormat.OPUS: 480, AudioFormat.M4B: 1024}
PCM16_STEP = 1 / 32768


def under(ceiling: float) -> float:
    """``ceiling`` as a float32 sample can hold it: the limiter's output is float32."""
    return float(np.nextafter(np.float32(ceiling), np.float32(np.inf)))


def tone(seconds: float, frequency: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def crossings(audio: np.ndarray) -> int:
    """Zero crossings: twice the frequency of a tone, per second of it."""
    return int(np.count_nonzero(np.diff(np.sign(audio))))


def noise_with_spikes(rng, seconds: float, sigma: float, spikes: int, spike: float):
    """Gaussian noise with a few single-sample spikes of magnitude ``spike`` (at least 0.1 s
    apart and from the ends), and where they are."""
    audio = (rng.standard_normal(int(seconds * SAMPLE_RATE)) * sigma).astype(np.float32)
    slots = rng.choice(np.arange(1, int(seconds * 10) - 1), spikes, replace=False)
    where = np.sort(slots * (SAMPLE_RATE // 10) + rng.integers(0, SAMPLE_RATE // 20, spikes))
    audio[where] = spike * np.sign(rng.standard_normal(spikes)).astype(np.float32)
    return audio, where


# --- chunks -----------------------------------------------------------------------------------


def test_chunk_round_trip_is_16_bit_exact_and_empty_chunks_survive():
    audio = tone(0.5, 440)
    np.testing.assert_allclose(decode_chunk(encode_chunk(audio)), audio, atol=PCM16_STEP)
    assert len(decode_chunk(encode_chunk(np.zeros(0, dtype=np.float32)))) == 0


def test_fades_ramp_the_edges_and_leave_the_middle_untouched():
    audio = np.ones(SAMPLE_RATE, dtype=np.float32) * 0.5
    faded = fade_edges(audio)
    fade = int(FADE_SECONDS * SAMPLE_RATE)
    assert faded[0] == 0 and abs(faded[-1]) < 0.01
    assert np.all(np.diff(faded[:fade]) > 0) and np.all(np.diff(faded[-fade:]) < 0)
    np.testing.assert_array_equal(faded[fade:-fade], audio[fade:-fade])
    np.testing.assert_array_equal(audio, 0.5)  # the chunk given is not changed in place
    assert len(fade_edges(np.zeros(3, np.float32))) == 3
    assert len(fade_edges(np.zeros(0, np.float32))) == 0


def test_chunks_are_trimmed_to_their_audible_samples():
    quiet = np.full(1000, SILENCE_LEVEL / 2, dtype=np.float32)
    speech = tone(0.25, 300)
    padded = np.concatenate([quiet, speech, quiet])
    loud = np.flatnonzero(np.abs(speech) > SILENCE_LEVEL)
    kept, cut = chunk_audio(padded)
    np.testing.assert_array_equal(kept, fade_edges(speech[loud[0] : loud[-1] + 1]))
    assert cut == len(quiet) + loud[0]
    assert speech_bounds(padded) == (len(quiet) + loud[0], len(quiet) + loud[-1] + 1)
    assert len(chunk_audio(quiet)[0]) == 0 and speech_bounds(quiet) == (0, 0)


# --- encode_run -------------------------------------------------------------------------------


def in_order_chunks() -> list[tuple[np.ndarray, int]]:
    """A 300 Hz chunk, an empty one, a 600 Hz one: 1 s of audio and two pauses."""
    return [
        (fade_edges(tone(0.5, 300)), pause_samples("sentence")),
        (np.zeros(0, np.float32), pause_samples("paragraph")),
        (fade_edges(tone(0.5, 600)), 0),
    ]


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_encode_run_joins_chunks_in_order_with_their_pauses(tmp_path, fmt):
    chunks = in_order_chunks()
    expected = np.concatenate([np.concatenate([a, np.zeros(p, np.float32)]) for a, p in chunks])
    assert len(expected) == round(
        SAMPLE_RATE * (1.0 + PAUSE_SECONDS["sentence"] + PAUSE_SECONDS["paragraph"])
    )
    target = tmp_path / f"run.{fmt.extension}"
    levels = encode_run(target, fmt, chunks)
    audio = decode(target)

    if fmt in LOSSLESS:
        assert len(audio) == len(expected)
        np.testing.assert_allclose(audio, expected, atol=PCM16_STEP)
        return
    # Lossy: whole frames at most added at the end; the pauses are (near) silent; the order is
    # the chunks' (zero crossings count frequency)
    assert len(expected) <= len(audio) <= len(expected) + FRAME[fmt]
    half = SAMPLE_RATE // 2
    margin = SAMPLE_RATE // 20  # codec ringing either side of a chunk's edge
    pause = audio[half + margin : len(expected) - half - margin]
    assert np.sqrt(np.mean(pause**2)) < 0.01 * np.sqrt(np.mean(expected[:half] ** 2))
    end = len(expected)
    first, second = audio[margin : half - margin], audio[end - half + margin : end - margin]
    assert crossings(second) == pytest.approx(2 * crossings(first), rel=0.1)
    assert levels.samples == len(expected)


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_encode_run_reports_the_levels_of_what_it_wrote(tmp_path, fmt):
    chunks = in_order_chunks()
    gain = ChapterGain(1.5)
    target = tmp_path / f"run.{fmt.extension}"
    levels = encode_run(target, fmt, chunks, gain)

    audible = np.concatenate([a for a, _ in chunks]).astype(np.float64) * gain.gain
    assert levels.samples == len(audible) + sum(p for _, p in chunks)
    assert levels.sum_squares == pytest.approx(float(np.sum(audible**2)), rel=1e-5)
    assert levels.peak == pytest.approx(float(np.abs(audible).max()), rel=1e-5)
    written = levels_of(decode(target))
    if fmt in LOSSLESS:  # the very samples, to 16 bits
        assert written.samples == levels.samples
        assert written.rms == pytest.approx(levels.rms, rel=1e-3)
        assert written.peak == pytest.approx(levels.peak, abs=PCM16_STEP)
    else:  # the codec's output has the energy that went in (its peaks ring at the edges)
        assert written.sum_squares == pytest.approx(levels.sum_squares, rel=0.1)


def test_encode_run_of_nothing_writes_an_empty_file_with_empty_levels(tmp_path):
    target = tmp_path / "nothing.wav"
    levels = encode_run(target, AudioFormat.WAV, [])
    assert levels.samples == 0 and levels.peak == 0 and len(decode(target)) == 0


def test_peak_gain_brings_the_loudest_sample_to_target_and_keeps_relative_levels(tmp_path):
    loud, quiet = tone(0.5, 300, amplitude=0.4), tone(0.5, 600, amplitude=0.1)
    chunks = [(loud, pause_samples("sentence")), (quiet, 0)]
    gain = chapter_gain(Loudness.PEAK, levels_of(loud) + levels_of(quiet))
    assert gain.ceiling is None
    target_peak = db_to_gain(PEAK_TARGET_DBFS)

    raised = [apply_gain(a, gain) for a, _ in chunks]
    assert np.abs(raised[0]).max() == pytest.approx(target_peak, rel=1e-5)
    ratio = np.abs(raised[1]).max() / np.abs(raised[0]).max()
    assert ratio == pytest.approx(np.abs(quiet).max() / np.abs(loud).max(), rel=1e-5)

    levels = encode_run(tmp_path / "book.wav", AudioFormat.WAV, chunks, gain)
    book = decode(tmp_path / "book.wav")
    assert levels.peak == pytest.approx(target_peak, rel=1e-5)
    assert np.abs(book).max() == pytest.approx(target_peak, abs=PCM16_STEP)
    tail = book[-len(quiet) :]
    assert np.abs(tail).max() == pytest.approx(target_peak * ratio, abs=2 * PCM16_STEP)


def test_apply_gain_never_leaves_full_scale():
    audio = tone(0.1, 300, amplitude=0.9)
    np.testing.assert_array_equal(np.abs(apply_gain(audio, ChapterGain(3.0))).max(), 1.0)


# --- the limiter ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_limiter_holds_every_sample_at_or_under_the_ceiling(seed):
    rng = np.random.default_rng(seed)
    ceiling = float(rng.uniform(0.2, 0.7))
    audio, _ = noise_with_spikes(rng, 2.0, ceiling / 3, spikes=8, spike=ceiling * 3)
    audio[: SAMPLE_RATE // 10] *= 4  # a loud stretch, many samples over, right at the start
    audio[-5:] = ceiling * 2  # peaks at the very end, where the look-ahead runs out
    limited = limit(audio, ceiling)
    assert np.abs(audio).max() > ceiling
    assert limited.dtype == np.float32 and len(limited) == len(audio)
    assert np.abs(limited).max() <= under(ceiling)
    # Only ever turned down, never turned over
    assert np.all(np.abs(limited) <= np.abs(audio))
    assert np.all(np.sign(limited[limited != 0]) == np.sign(audio[limited != 0]))


def test_limiter_leaves_audio_under_the_ceiling_alone():
    audio = tone(0.5, 300, amplitude=0.5)
    np.testing.assert_array_equal(limit(audio, 0.5), audio)
    assert len(limit(np.zeros(0, np.float32), 0.5)) == 0


def test_limiter_touches_nothing_far_from_a_peak():
    rng = np.random.default_rng(5)
    ceiling = 0.5
    audio, spikes = noise_with_spikes(rng, 3.0, 0.08, spikes=6, spike=1.0)
    over = np.flatnonzero(np.abs(audio) > ceiling)
    np.testing.assert_array_equal(over, spikes)  # only the spikes pass the ceiling
    limited = limit(audio, ceiling)
    distance = np.min(np.abs(np.arange(len(audio))[:, None] - over[None, :]), axis=1)
    far = distance > 0.020 * SAMPLE_RATE
    assert far.mean() > 0.8
    np.testing.assert_array_equal(limited[far], audio[far])
    assert np.any(limited[~far] != audio[~far])


def test_limiter_gain_falls_and_rises_gradually_around_a_peak():
    ceiling, spike = 0.5, 1.0
    audio = np.full(SAMPLE_RATE // 5, 0.25, dtype=np.float32)
    audio[len(audio) // 2] = spike
    gain = limit(audio, ceiling) / audio
    depth = 1 - ceiling / spike
    window = LIMITER_WINDOW_SECONDS * SAMPLE_RATE
    assert gain.min() == pytest.approx(ceiling / spike, rel=1e-5)
    # Down over the window before the peak and back up over the window after it, no faster
    assert np.count_nonzero(gain < 1) >= 2 * window
    assert np.abs(np.diff(gain)).max() <= depth / window
    # At its lowest on the peak, the dip centred on it
    assert gain[len(audio) // 2] == gain.min()
    dip = np.flatnonzero(gain < 1)
    assert abs((dip[0] + dip[-1]) / 2 - len(audio) // 2) <= 1


@pytest.mark.parametrize("seed", range(4))
def test_limiter_barely_changes_the_loudness_of_speech_like_audio(seed):
    rng = np.random.default_rng(100 + seed)
    ceiling = db_to_gain(-4.0)
    sigma = ceiling / 5  # the body of the signal peaks under the ceiling; a few spikes pass it
    audio, _ = noise_with_spikes(rng, 4.0, sigma, spikes=int(rng.integers(3, 10)), spike=0.99)
    before, after = levels_of(audio), levels_of(limit(audio, ceiling))
    assert after.peak <= under(ceiling) and before.peak > ceiling
    assert abs(after.rms_dbfs - before.rms_dbfs) < 0.5
