"""Loudness: ``Levels`` add up from chunks to chapters, ``chapter_gain`` brings a chapter's
peak (``peak``) or RMS (``acx``) to its target within its caps, and, applied with the limiter,
an ACX gain makes speech-like chapters of any level and crest factor meet ACX's limits."""

import math

import numpy as np
import pytest

from core.audio.formats import SAMPLE_RATE
from core.audio.loudness import (
    ACX_LIMITER_CEILING_DBFS,
    ACX_PEAK_MAX_DBFS,
    ACX_RMS_RANGE_DBFS,
    ACX_RMS_TARGET_DBFS,
    MAX_ACX_GAIN,
    MAX_PEAK_GAIN,
    PEAK_TARGET_DBFS,
    SILENT_DBFS,
    Levels,
    Loudness,
    chapter_gain,
    db_to_gain,
    gain_to_db,
    meets_acx,
    peak_gain,
    room_tone,
)
from worker.audio import apply_gain, fade_edges, levels_of


def noise(rng, seconds: float, rms: float) -> np.ndarray:
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * rms).astype(np.float32)


def with_levels(rms_dbfs: float, peak_dbfs: float, seconds: float = 10.0) -> Levels:
    samples = int(seconds * SAMPLE_RATE)
    return Levels(samples, samples * db_to_gain(rms_dbfs) ** 2, db_to_gain(peak_dbfs))


# --- Levels -----------------------------------------------------------------------------------


def test_levels_of_parts_add_up_to_the_levels_of_the_whole():
    rng = np.random.default_rng(1)
    parts = [noise(rng, s, r) for s, r in ((0.3, 0.1), (1.1, 0.02), (0.05, 0.4), (0.7, 0.05))]
    whole = levels_of(np.concatenate(parts))
    total = sum((levels_of(p) for p in parts), Levels())
    assert total.samples == whole.samples
    assert total.sum_squares == pytest.approx(whole.sum_squares, rel=1e-9)
    assert total.peak == whole.peak
    assert total.rms == pytest.approx(float(np.sqrt(np.mean(np.concatenate(parts) ** 2))))
    assert levels_of(parts[0]) + Levels() == levels_of(parts[0])  # nothing adds nothing
    assert levels_of(np.zeros(0, np.float32)) == Levels()


def test_silence_lowers_the_rms_by_the_share_of_time_it_takes():
    rng = np.random.default_rng(2)
    speech = noise(rng, 1.0, 0.1)
    levels = levels_of(speech)
    pause = len(speech) // 3
    paused = levels.with_silence(pause)
    assert paused.samples == len(speech) + pause
    assert paused.peak == levels.peak and paused.sum_squares == levels.sum_squares
    assert paused.rms == pytest.approx(levels.rms * math.sqrt(len(speech) / paused.samples))
    assert paused.rms_dbfs == pytest.approx(
        levels.rms_dbfs + 10 * math.log10(len(speech) / paused.samples)
    )
    measured = levels_of(np.concatenate([speech, np.zeros(pause, np.float32)]))
    assert measured.rms == pytest.approx(paused.rms, rel=1e-9)


def test_levels_in_dbfs_and_silence():
    levels = with_levels(-20.0, -6.0)
    assert levels.rms_dbfs == pytest.approx(-20.0)
    assert levels.peak_dbfs == pytest.approx(-6.0)
    assert Levels().rms == 0.0 and Levels().rms_dbfs == SILENT_DBFS
    assert Levels(100).peak_dbfs == SILENT_DBFS  # a stretch of pure silence
    assert gain_to_db(db_to_gain(7.5)) == pytest.approx(7.5)


# --- chapter_gain -----------------------------------------------------------------------------


@pytest.mark.parametrize("peak_dbfs", [-30.0, -12.5, -6.0, -1.0, 0.0])
def test_peak_gain_brings_the_peak_to_target(peak_dbfs):
    levels = with_levels(peak_dbfs - 15, peak_dbfs)
    gain = chapter_gain(Loudness.PEAK, levels)
    assert gain.ceiling is None  # no limiter: the gain alone sets the peak
    expected_db = min(PEAK_TARGET_DBFS - peak_dbfs, gain_to_db(MAX_PEAK_GAIN))
    assert gain_to_db(gain.gain) == pytest.approx(expected_db)
    if peak_dbfs >= PEAK_TARGET_DBFS - gain_to_db(MAX_PEAK_GAIN):
        assert levels.peak * gain.gain == pytest.approx(db_to_gain(PEAK_TARGET_DBFS))
    assert gain.gain == peak_gain(levels.peak)


def test_peak_gain_raises_a_quiet_chapter_by_12_db_at_most_and_leaves_silence_alone():
    assert gain_to_db(MAX_PEAK_GAIN) == pytest.approx(12.0, abs=0.1)
    assert chapter_gain(Loudness.PEAK, with_levels(-60.0, -40.0)).gain == MAX_PEAK_GAIN
    assert chapter_gain(Loudness.PEAK, Levels()).gain == 1.0
    assert chapter_gain(Loudness.PEAK, Levels(SAMPLE_RATE)).gain == 1.0  # all silence


@pytest.mark.parametrize("rms_dbfs", [-38.0, -30.0, -20.0, -14.0, -6.0])
def test_acx_gain_brings_the_rms_to_target_and_sets_the_limiter_ceiling(rms_dbfs):
    levels = with_levels(rms_dbfs, rms_dbfs + 18)
    gain = chapter_gain(Loudness.ACX, levels)
    # Of the chapter's own file, which opens and closes on room tone
    in_file = levels.with_silence(sum(room_tone(Loudness.ACX)))
    assert in_file.rms * gain.gain == pytest.approx(db_to_gain(ACX_RMS_TARGET_DBFS))
    low, high = ACX_RMS_RANGE_DBFS
    assert low < ACX_RMS_TARGET_DBFS < high
    assert gain.ceiling == pytest.approx(db_to_gain(ACX_LIMITER_CEILING_DBFS))
    assert gain.ceiling < db_to_gain(ACX_PEAK_MAX_DBFS)  # room for an encoder's overshoot


def test_acx_gain_is_capped_and_leaves_silence_alone():
    quiet = chapter_gain(Loudness.ACX, with_levels(-60.0, -45.0))
    assert quiet.gain == MAX_ACX_GAIN
    assert gain_to_db(MAX_ACX_GAIN) == pytest.approx(20.0)
    silent = chapter_gain(Loudness.ACX, Levels(SAMPLE_RATE))
    assert silent.gain == 1.0 and silent.ceiling == pytest.approx(
        db_to_gain(ACX_LIMITER_CEILING_DBFS)
    )
    assert chapter_gain(Loudness.ACX, Levels()).gain == 1.0


def test_only_acx_chapter_files_get_room_tone_within_acx_bounds():
    assert room_tone(Loudness.PEAK) == (0, 0)
    head, tail = room_tone(Loudness.ACX)
    assert 0.5 <= head / SAMPLE_RATE <= 1.0  # what ACX asks at the head of a file
    assert 1.0 <= tail / SAMPLE_RATE <= 5.0  # and at its tail


def test_meets_acx_checks_rms_range_and_peak_limit():
    low, high = ACX_RMS_RANGE_DBFS
    assert meets_acx(with_levels((low + high) / 2, ACX_PEAK_MAX_DBFS - 0.5))
    assert meets_acx(with_levels(low + 0.01, ACX_PEAK_MAX_DBFS - 0.01))
    assert not meets_acx(with_levels(low - 0.5, -10.0))  # too quiet
    assert not meets_acx(with_levels(high + 0.5, -6.0))  # too loud
    assert not meets_acx(with_levels(-20.0, ACX_PEAK_MAX_DBFS + 0.1))  # peaks too high
    assert not meets_acx(Levels())


# --- ACX on speech-like chapters --------------------------------------------------------------


def speech_like(rng, seconds: float, rms_dbfs: float, crest_db: float) -> np.ndarray:
    """Noise shaped like speech: syllables (3-6 Hz amplitude modulation), words of 0.3-1.5 s
    between pauses of digital silence of 0.1-0.8 s, louder and quieter words, and a few
    single-sample spikes (plosives, clicks) that set the crest factor (peak over RMS, dB)."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    envelope = np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 2 * np.pi)) ** 2
    voiced = np.zeros(n)
    position = 0
    while position < n:
        word = int(rng.uniform(0.3, 1.5) * SAMPLE_RATE)
        voiced[position : position + word] = db_to_gain(rng.uniform(-6, 3))
        position += word + int(rng.uniform(0.1, 0.8) * SAMPLE_RATE)
    body = rng.standard_normal(n) * envelope * voiced
    body /= np.sqrt(np.mean(body**2))
    # The body's own peaks are held a few dB under the spikes: the crest is theirs
    body = np.clip(body, -db_to_gain(crest_db - 3), db_to_gain(crest_db - 3))
    body /= np.sqrt(np.mean(body**2))
    spikes = rng.choice(np.flatnonzero(voiced), int(rng.integers(2, 8)), replace=False)
    body[spikes] = np.sign(rng.standard_normal(len(spikes))) * db_to_gain(crest_db)
    return fade_edges((body * db_to_gain(rms_dbfs) / np.sqrt(np.mean(body**2))).astype(np.float32))


@pytest.mark.parametrize("crest_db", [10.0, 15.0, 20.0, 25.0, 30.0])
def test_acx_gain_and_limiter_make_speech_like_chapters_meet_acx(crest_db):
    rng = np.random.default_rng(int(crest_db))
    for rms_dbfs in np.linspace(-38.0, -10.0, 7):
        chapter = speech_like(rng, 30.0, rms_dbfs, crest_db)
        levels = levels_of(chapter)
        # The chapter is what it is meant to be
        assert levels.rms_dbfs == pytest.approx(rms_dbfs, abs=0.5)
        assert levels.peak_dbfs - levels.rms_dbfs == pytest.approx(crest_db, abs=1.5)
        result = levels_of(apply_gain(chapter, chapter_gain(Loudness.ACX, levels)))
        result = result.with_silence(sum(room_tone(Loudness.ACX)))  # as its own file
        assert meets_acx(result), (rms_dbfs, crest_db, result.rms_dbfs, result.peak_dbfs)
        headroom = ACX_LIMITER_CEILING_DBFS - ACX_RMS_TARGET_DBFS
        in_file = levels.with_silence(sum(room_tone(Loudness.ACX)))
        if levels.peak_dbfs - in_file.rms_dbfs < headroom:  # the limiter has nothing to do
            assert result.rms_dbfs == pytest.approx(ACX_RMS_TARGET_DBFS, abs=0.01)
        else:  # it takes a little off the RMS, never the margin down to ACX's floor
            assert ACX_RMS_TARGET_DBFS - 1.5 < result.rms_dbfs < ACX_RMS_TARGET_DBFS
