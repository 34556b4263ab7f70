"""The M4B writer: FFmpeg reads back what it wrote (audio, chapters, tags), the 64-bit forms a
long book needs decode the same, and its memory does not grow with the number of frames."""

import contextlib
import struct
import tracemalloc
from fractions import Fraction

import av
import numpy as np
import pytest

import worker.m4b_writer as m4b_writer
from core.audio.formats import SAMPLE_RATE, AudioFormat
from core.audio.timeline import ChapterSpan
from worker.audio import encode_run
from worker.container_join import Piece, decode, join
from worker.m4b_writer import M4bWriter

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts"}


def boxes(data: bytes, start: int = 0, end: int | None = None, path: str = "") -> dict:
    """Every box of an MP4 file by its path ("moov/trak/tkhd"), with its version byte."""
    found, offset, end = {}, start, len(data) if end is None else end
    while offset < end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[offset + 8 : offset + 16])[0], 16
        name = f"{path}/{kind.decode('latin-1')}".lstrip("/")
        found.setdefault(name, []).append(data[offset + header])
        if kind in CONTAINERS:
            found.update(boxes(data, offset + header, offset + size, name))
        offset += size
    return found


def book(tmp_path, name: str) -> tuple:
    """Three noise parts with gaps, as a two-chapter M4B: (path, chapters)."""
    rng = np.random.default_rng(8)
    paths, pieces, start = {}, [], 0
    for number in range(3):
        audio = (rng.standard_normal(int(1.5 * SAMPLE_RATE)) * 0.1).astype(np.float32)
        paths[number] = tmp_path / f"{name}-part{number}.m4b"
        encode_run(paths[number], AudioFormat.M4B, [(audio, 0)])
        pieces.append(Piece(number, start))
        start += len(audio) + SAMPLE_RATE
    chapters = [
        ChapterSpan(0, "Departure", 0, pieces[2].start),
        ChapterSpan(1, "Arrival — the end", pieces[2].start, start - SAMPLE_RATE),
    ]
    target = tmp_path / f"{name}.m4b"
    local = lambda key: contextlib.nullcontext(paths[key])  # noqa: E731
    tags = {"title": "Über See", "artist": "A. Writer"}
    join(target, AudioFormat.M4B, pieces, local, tags=tags, chapters=chapters)
    return target, chapters


def test_ffmpeg_reads_the_file_as_written(tmp_path):
    target, chapters = book(tmp_path, "book")
    with av.open(str(target)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.sample_rate) == ("aac", SAMPLE_RATE)
        marks = container.chapters()
        metadata = dict(container.metadata)
    assert [m["metadata"]["title"] for m in marks] == [c.title for c in chapters]
    starts = [m["start"] * m["time_base"] for m in marks]
    assert starts == [Fraction(c.start, SAMPLE_RATE) for c in chapters]
    assert metadata["title"] == "Über See"
    assert metadata["artist"] == metadata["album_artist"] == "A. Writer"
    found = boxes(target.read_bytes())
    # Chapters for Apple's players (a text track the audio track refers to) and for others
    assert "moov/trak/tref" in found and "moov/udta/chpl" in found
    assert len(found["moov/trak"]) == 2


def test_the_64_bit_forms_decode_the_same(tmp_path, monkeypatch):
    narrow, _ = book(tmp_path, "narrow")
    monkeypatch.setattr(m4b_writer, "LARGEST_32_BIT", 1000)  # as if the book were 50 hours
    wide, chapters = book(tmp_path, "wide")
    found = boxes(wide.read_bytes())
    assert "moov/trak/mdia/minf/stbl/co64" in found
    assert "moov/trak/mdia/minf/stbl/stco" not in found
    for header in ("moov/mvhd", "moov/trak/tkhd", "moov/trak/mdia/mdhd", "moov/trak/edts/elst"):
        assert set(found[header]) == {1}, header  # version 1: 64-bit times and durations
    np.testing.assert_array_equal(decode(wide), decode(narrow))
    with av.open(str(wide)) as container:
        assert [m["metadata"]["title"] for m in container.chapters()] == [c.title for c in chapters]


def write_frames(path, template, frames: int) -> int:
    """``frames`` copies of the template's first packet; the peak of Python memory allocated."""
    with av.open(str(template)) as source:
        stream = source.streams.audio[0]
        first = next(p for p in source.demux(stream) if p.dts is not None)
        payload, step = bytes(first), first.duration
        tracemalloc.start()
        writer = M4bWriter(path, {"title": "Long"})
        for number in range(frames):
            packet = av.Packet(payload)
            packet.dts = packet.pts = number * step
            packet.duration = step
            packet.time_base = stream.time_base
            writer.write(packet, stream)
        writer.close()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_memory_does_not_grow_with_the_frames(tmp_path, monkeypatch):
    # The index is copied from its temporary files in blocks: small ones, so that a block
    # filled by the longer file's table does not pass for growth
    monkeypatch.setattr(m4b_writer, "COPY_BLOCK", 4096)
    template = tmp_path / "template.m4b"
    encode_run(template, AudioFormat.M4B, [(np.full(4096, 0.1, dtype=np.float32), 0)])
    short = write_frames(tmp_path / "short.m4b", template, 2_000)
    long = write_frames(tmp_path / "long.m4b", template, 40_000)  # 28 minutes
    assert long < short + 16 * 1024, (short, long)
    with av.open(str(tmp_path / "long.m4b")) as container:
        packets = sum(1 for p in container.demux(audio=0) if p.dts is not None)
    assert packets == 40_000


def test_a_part_that_is_not_aac_is_refused(tmp_path):
    part = tmp_path / "part.mp3"
    encode_run(part, AudioFormat.MP3, [(np.zeros(SAMPLE_RATE, dtype=np.float32), 0)])
    writer = M4bWriter(tmp_path / "book.m4b", {})
    with av.open(str(part)) as source, pytest.raises(ValueError, match="joins AAC"):
        stream = source.streams.audio[0]
        writer.write(next(source.demux(stream)), stream)


def test_unknown_tags_are_refused(tmp_path):
    with pytest.raises(ValueError, match="known"):
        M4bWriter(tmp_path / "book.m4b", {"narrator": "Someone"})
