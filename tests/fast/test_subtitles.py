"""Subtitle cues follow the assembled audio: exact at chunk joins, sentences within a chunk."""

import pytest

from core.audio.formats import SAMPLE_RATE
from core.audio.subtitles import build_cues, to_srt, to_vtt
from core.audio.timeline import PAUSE_SECONDS, pause_samples, place


def timed(chunks):
    """(text, slot) of (text, seconds, pause) chunks, laid out as assembly lays them."""
    slots = place((0, round(s * SAMPLE_RATE), pause_samples(p)) for _, s, p in chunks)
    return [(text, slot) for (text, _, _), slot in zip(chunks, slots, strict=True)]


def test_cues_follow_chunks_and_pauses():
    chunks = [
        ("Hello there. How are you?", 3.0, "sentence"),
        ("Fine, thanks.", 1.5, "paragraph"),
        ("The end.", 1.0, "end"),
    ]
    cues = build_cues(timed(chunks))
    assert [c.text for c in cues] == ["Hello there.", "How are you?", "Fine, thanks.", "The end."]
    assert cues[0].start == 0 and cues[1].end == 3.0  # a chunk's sentences share its duration
    assert 0 < cues[0].end == cues[1].start < 3.0
    assert cues[2].start == pytest.approx(3.0 + PAUSE_SECONDS["sentence"])
    assert cues[3].start == pytest.approx(
        4.5 + PAUSE_SECONDS["sentence"] + PAUSE_SECONDS["paragraph"]
    )
    assert cues[-1].end == pytest.approx(cues[-1].start + 1.0)
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))


def test_srt_and_vtt_formats():
    cues = build_cues(timed([("One. Two.", 3661.5, "end")]))
    srt = to_srt(cues)
    assert srt.startswith("1\n00:00:00,000 --> ")
    assert "\n2\n" in srt and srt.rstrip().endswith("--> 01:01:01,500\nTwo.")
    vtt = to_vtt(cues)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert vtt.rstrip().endswith("--> 01:01:01.500\nTwo.")
