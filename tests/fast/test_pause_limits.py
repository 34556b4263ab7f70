"""Markup silence is bounded: the pauses of one gap and of a whole job are capped (a 422 that
names the limit and where it was passed), and silence is made a block at a time wherever audio
is written or streamed, so memory stays flat in a pause's length."""

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from api.live import encoded_parts
from core.audio.formats import SAMPLE_RATE, AudioFormat, StreamFormat
from core.audio.stream import StreamEncoder
from core.audio.timeline import SILENCE_BLOCK_SAMPLES, silence_blocks
from core.text.chunk_plan import ChapterMarkupError, plan_chunks
from infra.settings import Settings
from storage.job_queries import StreamPart
from worker.audio import encode_run
from worker.container_join import _silence

DEFAULTS = Settings()
GAP = DEFAULTS.max_pause_gap_s
TOTAL = DEFAULTS.max_pause_total_s
PAUSE = "[pause:10s]"  # the longest one pause may be


def plan(text: str, markup: str = "tags", **limits) -> list:
    return plan_chunks(
        [text], lang="en-us", markup=markup, check_voice=lambda v: v, max_tokens=250,
        first_chunk_tokens=40, **limits,
    )  # fmt: skip


def test_the_defaults_are_a_minute_a_gap_and_an_hour_a_job():
    assert (GAP, TOTAL) == (60.0, 3600.0)


def test_pauses_in_a_row_add_up_to_at_most_one_gap():
    """Finding 5: "Hello." and 100,000 ten-second pauses was accepted as a million seconds."""
    text = "Hello." + PAUSE * 100_000
    with pytest.raises(ChapterMarkupError) as error:
        plan(text)
    assert "KQ_MAX_PAUSE_GAP_S" in error.value.message and "60 s" in error.value.message
    # At the pause that passes the limit: the seventh
    assert error.value.position == len("Hello.") + 6 * len(PAUSE)
    assert text[error.value.position :].startswith(PAUSE)


def test_a_gap_of_exactly_the_limit_is_accepted():
    (hello, more) = plan("Hello." + PAUSE * 6 + " More.")
    assert hello.pause_seconds == pytest.approx(GAP) and more.text == "More."


def test_pauses_before_any_text_are_one_gap_too():
    with pytest.raises(ChapterMarkupError, match="KQ_MAX_PAUSE_GAP_S"):
        plan(PAUSE * 7 + "Hello.")
    assert plan(PAUSE * 6 + "Hello.")[0].pause_seconds == pytest.approx(GAP)


def test_the_pauses_of_a_job_add_up_to_at_most_the_total():
    gaps = int(TOTAL // 10)
    assert plan("Word. " + "Word. [pause:10s] " * gaps)  # exactly the total
    text = "Word. " + "Word. [pause:10s] " * (gaps + 1)
    with pytest.raises(ChapterMarkupError) as error:
        plan(text)
    assert "KQ_MAX_PAUSE_TOTAL_S" in error.value.message and "3600 s" in error.value.message
    assert error.value.position == text.rindex(PAUSE)  # the last one passes it


def test_the_total_counts_every_chapter():
    chapter = "Word. [pause:10s] " * 4
    limits = {"max_pause_gap_s": 60.0, "max_pause_total_s": 100.0}
    assert plan_chunks(
        [chapter] * 2, lang="en-us", markup="tags", check_voice=str, max_tokens=250, **limits
    )
    with pytest.raises(ChapterMarkupError, match="KQ_MAX_PAUSE_TOTAL_S") as error:
        plan_chunks(
            [chapter] * 3, lang="en-us", markup="tags", check_voice=str, max_tokens=250, **limits
        )
    assert error.value.chapter == 2


def test_the_limits_are_settings():
    with pytest.raises(ChapterMarkupError, match="2 s one gap"):
        plan("Hello. [pause:1.5s][pause:1s] there.", max_pause_gap_s=2.0)
    with pytest.raises(ChapterMarkupError, match="KQ_MAX_PAUSE_TOTAL_S"):
        plan("A [pause:1s] b [pause:1s] c [pause:1s] d.", max_pause_total_s=2.5)


def test_ssml_breaks_are_capped_as_pauses():
    breaks = '<break time="10s"/>' * 7
    with pytest.raises(ChapterMarkupError, match="KQ_MAX_PAUSE_GAP_S") as error:
        plan(f"<speak>Hello.{breaks} there.</speak>", markup="ssml")
    assert error.value.position == len("<speak>Hello.") + 6 * len('<break time="10s"/>')
    # Strength breaks and a sentence end between them are the same gap
    strong = '<break strength="x-strong"/>'  # 1.2 s
    text = f"<speak><s>Hello.</s>{strong * 2}<s>{strong * 2}There.</s></speak>"
    with pytest.raises(ChapterMarkupError, match="KQ_MAX_PAUSE_GAP_S"):
        plan(text, markup="ssml", max_pause_gap_s=4.0)
    (hello, there) = plan(text, markup="ssml", max_pause_gap_s=4.8)
    assert hello.pause_seconds == pytest.approx(4.8)


# --- silence a block at a time ----------------------------------------------------------------


def peak_bytes(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_flat_in_pause_length(run: Callable[[int], object]) -> None:
    """Peak memory for a 30 s pause and for a 120 s one: about the same (before, a pause was
    one array: 4 times the memory for 4 times the pause)."""
    short = peak_bytes(lambda: run(30 * SAMPLE_RATE))
    long = peak_bytes(lambda: run(120 * SAMPLE_RATE))
    assert long < 1.5 * short + 4 * SILENCE_BLOCK_SAMPLES, (short, long)


def test_silence_blocks_cover_the_pause_exactly():
    for samples in (0, 1, SILENCE_BLOCK_SAMPLES, 2 * SILENCE_BLOCK_SAMPLES + 7):
        blocks = list(silence_blocks(samples))
        assert sum(len(b) for b in blocks) == samples
        assert all(0 < len(b) <= SILENCE_BLOCK_SAMPLES and not b.any() for b in blocks)


@pytest.mark.parametrize("fmt", [AudioFormat.WAV, AudioFormat.MP3])
def test_assembly_writes_a_pause_in_blocks(tmp_path, fmt):
    chunk = np.full(SAMPLE_RATE // 10, 0.1, dtype=np.float32)

    def encode(pause: int) -> None:
        encode_run(tmp_path / f"part.{fmt.extension}", fmt, [(chunk, pause), (chunk, 0)])

    assert_flat_in_pause_length(encode)


def test_the_joins_filler_silence_is_written_in_blocks(tmp_path):
    assert_flat_in_pause_length(lambda samples: _silence(AudioFormat.FLAC, samples, tmp_path))


@pytest.mark.parametrize("fmt", [StreamFormat.PCM, StreamFormat.MP3])
def test_the_live_stream_sends_a_pause_in_blocks(fmt):
    chunk = np.full(SAMPLE_RATE // 10, 0.1, dtype=np.float32)

    def stream(pause: int) -> int:
        encoder = StreamEncoder(fmt)
        parts = [StreamPart(0, "a", pause), StreamPart(1, "b", 0)]
        sent = sum(len(data) for data in encoded_parts(encoder, parts, lambda _part: chunk))
        return sent + len(encoder.finish())

    assert_flat_in_pause_length(stream)
    if fmt is StreamFormat.PCM:  # every sample is sent: the chunks and the pause, 2 bytes each
        assert stream(SAMPLE_RATE) == 2 * (2 * len(chunk) + SAMPLE_RATE)
