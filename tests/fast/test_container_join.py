"""Joining encoded parts at the container level: every part is heard where the timeline puts
it (to the sample in WAV and FLAC, within half a codec frame in MP3, Opus and AAC, with no
drift along the file), silence fills the gaps, m4b files carry chapters and tags; and
``split_parts`` cuts a chapter's chunks into parts that end only at long enough pauses."""

import contextlib
from pathlib import Path

import av
import numpy as np
import pytest

from core.audio.formats import SAMPLE_RATE, AudioFormat
from core.audio.timeline import MIN_PART_BREAK_SECONDS, ChapterSpan, pause_samples, split_parts
from worker.audio import encode_run
from worker.container_join import Piece, decode, join

LOSSLESS = (AudioFormat.WAV, AudioFormat.FLAC)
# Samples per codec frame at 24 kHz: MPEG-2 layer III, Opus (20 ms), AAC
FRAME = {AudioFormat.MP3: 576, AudioFormat.OPUS: 480, AudioFormat.M4B: 1024}
MARKER = SAMPLE_RATE // 5  # the first 0.2 s of a piece finds it
SEARCH = 2048  # either side of where a piece belongs: further than any bound tested


def bound(fmt: AudioFormat) -> int:
    """How far from its place a piece may be heard: half a codec frame, or nothing at all."""
    return 0 if fmt in LOSSLESS else FRAME[fmt] // 2


def encoded_pieces(tmp_path, fmt, audios: dict[str, np.ndarray]) -> dict:
    paths = {}
    for key, audio in audios.items():
        paths[key] = tmp_path / f"{key}.{fmt.extension}"
        encode_run(paths[key], fmt, [(audio, 0)])
    return paths


def joined(tmp_path, fmt, pieces, paths, **kwargs) -> np.ndarray:
    target = tmp_path / f"joined.{fmt.extension}"
    join(target, fmt, pieces, lambda key: contextlib.nullcontext(paths[key]), **kwargs)
    return decode(target)


def located(decoded: np.ndarray, audio: np.ndarray, expected: int) -> int:
    """Where the start of ``audio`` is heard in ``decoded``, relative to ``expected``."""
    marker = audio[:MARKER]
    low = max(expected - SEARCH, 0)
    window = decoded[low : expected + SEARCH + len(marker)]
    return low + int(np.argmax(np.correlate(window, marker, mode="valid"))) - expected


def noise_pieces(seed: int, count: int, first_start: int = 0):
    """``count`` bursts of noise of 0.5-3 s, 0.2-2 s apart: {key: audio} and their Pieces."""
    rng = np.random.default_rng(seed)
    audios, pieces, start = {}, [], first_start
    for number in range(count):
        length = int(rng.uniform(0.5, 3.0) * SAMPLE_RATE)
        audios[f"part-{number}"] = (rng.standard_normal(length) * 0.1).astype(np.float32)
        pieces.append(Piece(f"part-{number}", start))
        start += length + int(rng.uniform(0.2, 2.0) * SAMPLE_RATE)
    return audios, pieces


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0


# --- join -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_every_piece_is_heard_where_it_belongs(tmp_path, fmt):
    audios, pieces = noise_pieces(seed=0, count=8)
    audio = joined(tmp_path, fmt, pieces, encoded_pieces(tmp_path, fmt, audios))
    errors = [located(audio, audios[p.key], p.start) for p in pieces]
    end = pieces[-1].start + len(audios[pieces[-1].key])
    if fmt in LOSSLESS:
        assert errors == [0] * len(pieces)
        assert len(audio) == end
    else:
        assert max(abs(e) for e in errors) <= bound(fmt), errors
        assert end - bound(fmt) <= len(audio) <= end + 2 * FRAME[fmt]
    # Nothing but silence between pieces (lossy codecs ring a little past each edge)
    margin = bound(fmt) + (0 if fmt in LOSSLESS else FRAME[fmt])
    for piece, after in zip(pieces, pieces[1:], strict=False):
        gap = audio[piece.start + len(audios[piece.key]) + margin : after.start - margin]
        assert len(gap) > 0 and rms(gap) < 0.01 * rms(audios[piece.key])


@pytest.mark.parametrize("fmt", [f for f in AudioFormat if f not in LOSSLESS])
def test_lossy_placement_does_not_drift_along_a_long_join(tmp_path, fmt):
    """The same short piece joined many times over: the last lands as near as the first."""
    audios, pieces = noise_pieces(seed=1, count=1)
    step = int(0.75 * SAMPLE_RATE)  # 0.25 s between bursts, and more as it goes
    audio = audios[pieces[0].key][: SAMPLE_RATE // 2]
    many = [Piece("burst", k * step + 37 * k * k) for k in range(30)]
    decoded = joined(tmp_path, fmt, many, encoded_pieces(tmp_path, fmt, {"burst": audio}))
    errors = [located(decoded, audio, p.start) for p in many]
    # Each join's error is its own, not the sum of those before it
    assert max(abs(e) for e in errors[-10:]) <= bound(fmt), errors


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_a_silent_piece_is_just_silence(tmp_path, fmt):
    audios, (first, second) = noise_pieces(seed=2, count=2)
    silent = Piece(None, (first.start + len(audios[first.key]) + second.start) // 2)
    pieces = [first, silent, second]
    audio = joined(tmp_path, fmt, pieces, encoded_pieces(tmp_path, fmt, audios))
    for piece in (first, second):
        assert abs(located(audio, audios[piece.key], piece.start)) <= bound(fmt)
    margin = bound(fmt) + (0 if fmt in LOSSLESS else FRAME[fmt])
    gap = audio[first.start + len(audios[first.key]) + margin : second.start - margin]
    assert rms(gap) < 0.01 * rms(audios[first.key])


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_a_join_may_begin_with_silence(tmp_path, fmt):
    """A chapter whose first part is silent: its first audible part still lands in place."""
    audios, pieces = noise_pieces(seed=3, count=2, first_start=int(0.7 * SAMPLE_RATE))
    pieces = [Piece(None, 0), *pieces]
    audio = joined(tmp_path, fmt, pieces, encoded_pieces(tmp_path, fmt, audios))
    errors = [located(audio, audios[p.key], p.start) for p in pieces[1:]]
    assert max(abs(e) for e in errors) <= bound(fmt), errors
    lead = audio[: pieces[1].start - bound(fmt) - (0 if fmt in LOSSLESS else FRAME[fmt])]
    assert len(lead) > 0 and rms(lead) < 0.01 * rms(audios[pieces[1].key])


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_a_join_may_end_on_silence_of_a_given_length(tmp_path, fmt):
    """A chapter file's closing room tone: silence after the last part, to ``length``."""
    audios, pieces = noise_pieces(seed=7, count=2)
    end = pieces[-1].start + len(audios[pieces[-1].key])
    length = end + 2 * SAMPLE_RATE
    audio = joined(tmp_path, fmt, pieces, encoded_pieces(tmp_path, fmt, audios), length=length)
    errors = [located(audio, audios[p.key], p.start) for p in pieces]
    assert max(abs(e) for e in errors) <= bound(fmt), errors
    # As long as asked: to the sample, or within a few codec frames (an MP3 file's end is
    # padded by its decoder's delay and the last frame)
    assert abs(len(audio) - length) <= (0 if fmt in LOSSLESS else 3 * FRAME[fmt])
    tail = audio[end + bound(fmt) + (0 if fmt in LOSSLESS else FRAME[fmt]) :]
    assert len(tail) > SAMPLE_RATE and rms(tail) < 0.01 * rms(audios[pieces[-1].key])


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_a_join_of_nothing_audible_is_a_moment_of_silence(tmp_path, fmt):
    audio = joined(tmp_path, fmt, [Piece(None, 0), Piece(None, SAMPLE_RATE)], {})
    assert 0 < len(audio) < SAMPLE_RATE and np.abs(audio).max() < 1e-3


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_joining_a_single_piece_reproduces_it(tmp_path, fmt):
    audios, pieces = noise_pieces(seed=4, count=1)
    paths = encoded_pieces(tmp_path, fmt, audios)
    audio = joined(tmp_path, fmt, pieces, paths)
    piece = decode(paths[pieces[0].key])
    if fmt in LOSSLESS:
        assert len(audio) == len(piece)
        np.testing.assert_allclose(audio, audios[pieces[0].key], atol=1 / 32768)
    else:  # the piece's samples, perhaps a little of its last frame's padding after them
        assert len(piece) <= len(audio) <= len(piece) + bound(fmt)
        # The last few samples come out of a decoder (Opus: a resampler) told where to stop
        settle = FRAME[fmt] // 20
        np.testing.assert_allclose(audio[: len(piece) - settle], piece[:-settle], atol=1e-4)


def joined_book(tmp_path, fmt, audios, pieces, chapters) -> Path:
    """The pieces joined as a book titled "A Town" by "A. Writer", with ``chapters``."""
    target = tmp_path / f"book.{fmt.extension}"
    paths = encoded_pieces(tmp_path, fmt, audios)
    local = lambda key: contextlib.nullcontext(paths[key])  # noqa: E731
    join(target, fmt, pieces, local, tags=BOOK_TAGS, chapters=chapters)
    return target


BOOK_TAGS = {"title": "A Town", "artist": "A. Writer"}


def test_m4b_has_chapter_markers_and_title_tags(tmp_path):
    fmt = AudioFormat.M4B
    audios, pieces = noise_pieces(seed=5, count=3)
    ends = [p.start + len(audios[p.key]) for p in pieces]
    chapters = [
        ChapterSpan(0, "The Harbour", pieces[0].start, ends[1]),
        ChapterSpan(1, "The Market", pieces[2].start, ends[2]),
    ]
    target = joined_book(tmp_path, fmt, audios, pieces, chapters)
    with av.open(str(target)) as book:
        marks = book.chapters()
        metadata = dict(book.metadata)
        assert book.streams.audio[0].codec_context.name == "aac"
        seconds = book.duration / 1_000_000
    assert [m["metadata"]["title"] for m in marks] == [c.title for c in chapters]
    starts = [float(m["start"] * m["time_base"]) for m in marks]
    finishes = [float(m["end"] * m["time_base"]) for m in marks]
    assert starts == pytest.approx([c.start_seconds for c in chapters], abs=0.001)
    # MP4 chapters have starts only: each ends where the next begins, the last with the book
    assert finishes[:-1] == pytest.approx(starts[1:], abs=0.001)
    assert finishes[-1] == pytest.approx(chapters[-1].end_seconds, abs=0.001)
    assert metadata["title"] == "A Town"
    assert metadata["artist"] == metadata["album_artist"] == "A. Writer"
    assert abs(seconds - ends[-1] / SAMPLE_RATE) < 0.1


@pytest.mark.parametrize("fmt", [f for f in AudioFormat if f is not AudioFormat.M4B])
def test_other_formats_carry_the_tags_and_no_chapters(tmp_path, fmt):
    audios, pieces = noise_pieces(seed=6, count=2)
    spans = [ChapterSpan(0, "Only", 0, pieces[-1].start)]
    target = joined_book(tmp_path, fmt, audios, pieces, spans)
    with av.open(str(target)) as book:
        # Ogg keeps its tags with the stream (Vorbis comments), the others with the container
        metadata = {**book.metadata, **book.streams.audio[0].metadata}
        assert book.chapters() == []
    assert metadata["title"] == "A Town" and metadata["artist"] == "A. Writer"


# --- split_parts ------------------------------------------------------------------------------

MIN_BREAK = round(MIN_PART_BREAK_SECONDS * SAMPLE_RATE)


def check_runs(chunks, max_samples, runs):
    """The rules every split keeps: all chunks, in order, once; a run ends at the first pause
    of at least MIN_PART_BREAK_SECONDS once it is full, and only there (the last run aside)."""
    assert runs[0][0] == 0 and runs[-1][1] == len(chunks) - 1
    for (_, last), (first, _) in zip(runs, runs[1:], strict=False):
        assert first == last + 1
    for first, last in runs:
        assert first <= last
        lengths = np.cumsum([a + p for a, p in chunks[first : last + 1]])
        # No earlier chunk of the run was a place to end it
        for position in range(first, last):
            full = lengths[position - first] >= max_samples
            assert not (full and chunks[position][1] >= MIN_BREAK)
        if (first, last) != runs[-1]:
            assert chunks[last][1] >= MIN_BREAK and lengths[-1] >= max_samples


def random_chunks(rng, count: int, break_share: float) -> list[tuple[int, int]]:
    """Chunks of 1-12 s, each followed by a long pause with probability ``break_share``, else
    by a clause's pause (too short to end a part at) or none."""
    chunks = []
    for _ in range(count):
        audio = int(rng.uniform(1, 12) * SAMPLE_RATE)
        if rng.random() < break_share:
            pause = pause_samples(str(rng.choice(["sentence", "paragraph", "chapter"])))
        else:
            pause = int(rng.choice([0, pause_samples("clause")]))
        chunks.append((audio, pause))
    return chunks


@pytest.mark.parametrize("break_share", [0.05, 0.3, 0.9])
def test_split_parts_covers_every_chunk_once_and_ends_runs_only_at_long_pauses(break_share):
    rng = np.random.default_rng(int(break_share * 100))
    for _ in range(20):
        chunks = random_chunks(rng, int(rng.integers(1, 120)), break_share)
        max_samples = int(rng.uniform(10, 300) * SAMPLE_RATE)
        check_runs(chunks, max_samples, split_parts(chunks, max_samples))


def test_split_parts_keeps_runs_near_the_limit_when_breaks_are_frequent():
    rng = np.random.default_rng(7)
    max_samples = 60 * SAMPLE_RATE
    chunks = [(int(rng.uniform(2, 8) * SAMPLE_RATE), pause_samples("sentence")) for _ in range(200)]
    runs = split_parts(chunks, max_samples)
    check_runs(chunks, max_samples, runs)
    longest_chunk = max(a + p for a, p in chunks)
    for first, last in runs[:-1]:
        length = sum(a + p for a, p in chunks[first : last + 1])
        assert max_samples <= length < max_samples + longest_chunk
    assert len(runs) == pytest.approx(sum(a + p for a, p in chunks) / max_samples, abs=1)


def test_a_chapter_without_a_long_pause_is_one_run():
    chunks = [(5 * SAMPLE_RATE, pause_samples("clause"))] * 40 + [(3 * SAMPLE_RATE, 0)]
    assert pause_samples("clause") < MIN_BREAK
    assert split_parts(chunks, 10 * SAMPLE_RATE) == [(0, len(chunks) - 1)]


def test_a_pause_just_long_enough_ends_a_full_run_and_one_just_short_does_not():
    full = 10 * SAMPLE_RATE
    short = [(full, MIN_BREAK - 1), (SAMPLE_RATE, 0)]
    enough = [(full, MIN_BREAK), (SAMPLE_RATE, 0)]
    assert split_parts(short, full) == [(0, 1)]
    assert split_parts(enough, full) == [(0, 0), (1, 1)]
    assert split_parts(enough, full + MIN_BREAK + 1) == [(0, 1)]  # not full yet at the pause
