"""An M4B file (AAC in an MP4 container, iPod flavour) written box by box, for joins of any
length in flat memory.

FFmpeg's MP4 muxer keeps an index entry for every packet until it writes the file's index (the
``moov`` box) at the end: about 60 bytes per 43 ms AAC frame, some 200 MB for a 40-hour book.
This writer puts the packets in one ``mdat`` as they come, streams each frame's size and every
chunk's offset to temporary files, and writes the index from them at the end, so the join of a
book takes the same memory whatever its length.

It writes what audiobook players read: the audio track with an edit list that skips the
encoder's priming (gapless start), chapters twice over (a QuickTime text track referenced from
the audio track, which Apple's players read, and a Nero ``chpl`` list, which most others read),
and iTunes-style tags. Sizes and times switch to 64-bit fields where a long book needs them.
"""

import struct
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.audio.formats import SAMPLE_RATE
from core.audio.timeline import ChapterSpan

MOVIE_TIMESCALE = 1000  # of the movie and track headers: milliseconds
SAMPLES_PER_CHUNK = 64  # AAC frames listed as one chunk in the index (about 2.7 s)
AUDIO_TRACK, CHAPTER_TRACK = 1, 2
LANGUAGE_UND = 0x55C4  # "und", packed as three 5-bit letters
COPY_BLOCK = 1 << 20
LARGEST_32_BIT = 0xFFFFFFFF  # past it (4 GB of file, 49.7 h at 24 kHz) fields go 64-bit
ENCODER = "kokoro-queue"

# iTunes metadata item for each tag name the service writes
TAG_ITEMS = {
    "title": b"\xa9nam",
    "artist": b"\xa9ART",
    "album_artist": b"aART",
    "album": b"\xa9alb",
    "genre": b"\xa9gen",
    "date": b"\xa9day",
    "comment": b"\xa9cmt",
}

_UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# QuickTime text sample description of a chapter track: display flags, justification, colours,
# text box and font fields all at their defaults, and a font table of one unnamed font
_TEXT_SAMPLE_ENTRY = bytes.fromhex(
    "0000000000000001000000010000000000000000000000000000000000000001"
    "0000000000000000000d667461620001000100"
)
# Base media header of a text track: graphics mode copy, grey op-colour, then the text matrix
_TEXT_MEDIA_HEADER = bytes.fromhex(
    "00000018676d696e00000000004080008000800000000000"
    "0000002c746578740001000000000000000000000000000000010000000000000000000000000000"
    "40000000"
)
# The text encoding atom that follows each chapter title: UTF-8
_TEXT_ENCODING = struct.pack(">I4sI", 12, b"encd", 0x100)


class _Table:
    """A box payload that lives in a temporary file (frame sizes, chunk offsets)."""

    def __init__(self, file: BinaryIO, size: int):
        self.file, self.size = file, size


def _length(part) -> int:
    if isinstance(part, bytes):
        return len(part)
    if isinstance(part, _Table):
        return part.size
    return sum(_length(p) for p in part)


def _box(kind: bytes, *parts) -> list:
    size = 8 + sum(_length(p) for p in parts)
    return [struct.pack(">I4s", size, kind), *parts]


def _full_box(kind: bytes, version: int, flags: int, *parts) -> list:
    return _box(kind, struct.pack(">I", version << 24 | flags), *parts)


def _emit(out: BinaryIO, part) -> None:
    if isinstance(part, bytes):
        out.write(part)
    elif isinstance(part, _Table):
        part.file.seek(0)
        while block := part.file.read(COPY_BLOCK):
            out.write(block)
    else:
        for child in part:
            _emit(out, child)


def _wide(*values: int) -> bool:
    """Whether times, durations or offsets need a box's 64-bit version."""
    return any(v > LARGEST_32_BIT for v in values)


def _descriptor(tag: int, payload: bytes) -> bytes:
    """An MPEG-4 descriptor with its length in the four-byte form players all accept."""
    n = len(payload)
    length = bytes([0x80 | (n >> 21) & 0x7F, 0x80 | (n >> 14) & 0x7F, 0x80 | (n >> 7) & 0x7F])
    return bytes([tag]) + length + bytes([n & 0x7F]) + payload


def _movie_time(samples: int) -> int:
    """Samples at SAMPLE_RATE in the movie's timescale."""
    return round(Fraction(samples * MOVIE_TIMESCALE, SAMPLE_RATE))


class M4bWriter:
    """Packets of one AAC stream in, an M4B file out. ``write`` each packet in order (the
    first one's stream gives the decoder configuration), then ``close`` with the chapters."""

    def __init__(self, target: Path, tags: dict[str, str]):
        unknown = sorted(set(tags) - set(TAG_ITEMS))
        if unknown:
            raise ValueError(f"M4B tags {unknown} are not written; known: {sorted(TAG_ITEMS)}")
        self.tags = tags
        self.files = ExitStack()  # the file and its temporary tables, closed by close()
        self.file = self.files.enter_context(target.open("wb"))
        _emit(self.file, _box(b"ftyp", b"M4A ", struct.pack(">I", 0x200), b"M4A isomiso2"))
        self.mdat_at = self.file.tell()
        self.file.write(struct.pack(">I4sQ", 1, b"mdat", 0))  # 64-bit size, set at the end
        self.scratch = Path(self.files.enter_context(tempfile.TemporaryDirectory(prefix="kq-m4b-")))
        self.sizes = self._scratch_file("sizes")
        self.chunk_offsets = self._scratch_file("chunk-offsets")
        self.config: bytes | None = None
        self.source, self.scale = None, Fraction(1)  # the stream packets come from
        self.frames = 0
        self.runs: list[list[int]] = []  # [frames, duration]: the time-to-sample table
        self.first_dts: int | None = None
        self.pending: tuple[int, int] | None = None  # the last frame's dts and duration
        self.largest = 0
        self.payload_bytes = 0
        self.second_bytes = [0, 0]  # (which second, its bytes): the peak bit rate
        self.peak_second_bytes = 0

    def _scratch_file(self, name: str) -> BinaryIO:
        return self.files.enter_context((self.scratch / name).open("w+b"))

    # --- packets -------------------------------------------------------------------------

    def write(self, packet, in_stream) -> None:
        """Append one packet of ``in_stream`` (an AAC stream at SAMPLE_RATE)."""
        if self.config is None:
            if in_stream.codec_context.name != "aac" or in_stream.sample_rate != SAMPLE_RATE:
                raise ValueError(
                    f"an M4B joins AAC at {SAMPLE_RATE} Hz; this part holds "
                    f"{in_stream.codec_context.name} at {in_stream.sample_rate} Hz"
                )
            self.config = bytes(in_stream.codec_context.extradata or b"")
        if in_stream is not self.source:  # a new part: its time base, once
            self.source, self.scale = in_stream, in_stream.time_base * SAMPLE_RATE
        if self.scale == 1:  # the parts' own time base: samples already
            dts, duration = packet.dts, packet.duration
        else:
            dts, duration = round(packet.dts * self.scale), round(packet.duration * self.scale)
        self._add_frame(bytes(packet), dts, duration)

    def _add_frame(self, data: bytes, dts: int, duration: int) -> None:
        if self.pending is None:
            self.first_dts = dts
        else:
            step = dts - self.pending[0]
            if step <= 0:
                raise ValueError(f"AAC frames out of order: dts {dts} after {self.pending[0]}")
            self._add_run(step)
        self.pending = (dts, duration)
        if self.frames % SAMPLES_PER_CHUNK == 0:
            self.chunk_offsets.write(struct.pack(">Q", self.file.tell()))
        self.file.write(data)
        self.sizes.write(struct.pack(">I", len(data)))
        self.frames += 1
        self.largest = max(self.largest, len(data))
        self.payload_bytes += len(data)
        second = (dts - self.first_dts) // SAMPLE_RATE
        if second != self.second_bytes[0]:
            self.second_bytes = [second, 0]
        self.second_bytes[1] += len(data)
        self.peak_second_bytes = max(self.peak_second_bytes, self.second_bytes[1])

    def _add_run(self, duration: int) -> None:
        if self.runs and self.runs[-1][1] == duration:
            self.runs[-1][0] += 1
        else:
            self.runs.append([1, duration])

    # --- the index -----------------------------------------------------------------------

    def close(self, chapters: Sequence[ChapterSpan] = ()) -> None:
        try:
            if self.pending is None:
                raise ValueError("an M4B needs at least one AAC frame")
            self._add_run(max(self.pending[1], 1))
            chapter_samples = self._write_chapter_samples(chapters)
            mdat_end = self.file.tell()
            self.file.seek(self.mdat_at + 8)
            self.file.write(struct.pack(">Q", mdat_end - self.mdat_at))
            self.file.seek(mdat_end)
            _emit(self.file, self._moov(chapters, chapter_samples, wide_offsets=_wide(mdat_end)))
        finally:
            self.files.close()

    def _write_chapter_samples(self, chapters: Sequence[ChapterSpan]) -> tuple[int, list[int]]:
        """Each chapter's title as a text sample after the audio: (offset, sizes)."""
        offset, sizes = self.file.tell(), []
        for span in chapters:
            title = span.title.encode()[:0xFFFF]
            sample = struct.pack(">H", len(title)) + title + _TEXT_ENCODING
            self.file.write(sample)
            sizes.append(len(sample))
        return offset, sizes

    def _moov(self, chapters, chapter_samples, wide_offsets: bool) -> list:
        media = sum(frames * duration for frames, duration in self.runs)
        skip = max(-self.first_dts, 0)  # the encoder's priming, before time 0
        delay = max(self.first_dts, 0)
        shown = media - skip + delay
        duration = _movie_time(shown)
        tracks = [self._audio_track(media, skip, delay, duration, bool(chapters), wide_offsets)]
        if chapters:
            tracks.append(self._chapter_track(chapters, chapter_samples, wide_offsets))
        header = _movie_header(duration, next_track=len(tracks) + 1)
        return _box(b"moov", header, *tracks, self._user_data(chapters))

    def _audio_track(self, media, skip, delay, duration, chapters, wide_offsets) -> list:
        edits = []
        if delay:  # an empty edit: the audio starts later than time 0
            edits.append((_movie_time(delay), -1))
        edits.append((_movie_time(media - skip), skip))
        # Apple's players find the chapters through this reference to their text track
        references = [_box(b"tref", _box(b"chap", struct.pack(">I", CHAPTER_TRACK)))]
        table = _sample_table(
            _full_box(b"stsd", 0, 0, struct.pack(">I", 1), self._audio_sample_entry(media)),
            self.runs,
            _Table(self.sizes, 4 * self.frames),
            self._chunk_offset_box(wide_offsets),
            self.frames,
            SAMPLES_PER_CHUNK,
        )
        group = [
            _full_box(b"sgpd", 1, 0, b"roll", struct.pack(">IIh", 2, 1, -1)),
            _full_box(b"sbgp", 0, 0, b"roll", struct.pack(">III", 1, self.frames, 1)),
        ]
        return _box(
            b"trak",
            _track_header(AUDIO_TRACK, duration, flags=3, group=1, volume=0x100),
            _box(b"edts", _edit_list(edits)),
            *(references if chapters else []),
            _box(
                b"mdia",
                _media_header(media),
                _handler(b"soun", "SoundHandler"),
                _box(
                    b"minf",
                    _full_box(b"smhd", 0, 0, bytes(4)),
                    _data_information(),
                    _box(b"stbl", *table, *group),
                ),
            ),
        )

    def _audio_sample_entry(self, media: int) -> list:
        seconds = max(media / SAMPLE_RATE, 1e-9)
        average = round(self.payload_bytes * 8 / seconds)
        peak = max(self.peak_second_bytes * 8, average)
        decoder = struct.pack(">BB", 0x40, 0x15) + struct.pack(">I", self.largest)[1:]
        decoder += struct.pack(">II", peak, average) + _descriptor(0x05, self.config or b"")
        es = struct.pack(">HB", AUDIO_TRACK, 0) + _descriptor(0x04, decoder)
        es += _descriptor(0x06, b"\x02")
        fields = bytes(6) + struct.pack(">H", 1) + bytes(8)
        fields += struct.pack(">HHHHI", 1, 16, 0, 0, SAMPLE_RATE << 16)
        return _box(b"mp4a", fields, _full_box(b"esds", 0, 0, _descriptor(0x03, es)))

    def _chunk_offset_box(self, wide: bool) -> list:
        chunks = -(-self.frames // SAMPLES_PER_CHUNK)
        if wide:
            table = _Table(self.chunk_offsets, 8 * chunks)
            return _full_box(b"co64", 0, 0, struct.pack(">I", chunks), table)
        narrow = self._scratch_file("chunk-offsets-32")
        self.chunk_offsets.seek(0)
        while block := self.chunk_offsets.read(8 * (COPY_BLOCK // 8)):
            narrow.write(np.frombuffer(block, dtype=">u8").astype(">u4").tobytes())
        return _full_box(b"stco", 0, 0, struct.pack(">I", chunks), _Table(narrow, 4 * chunks))

    def _chapter_track(self, chapters, chapter_samples, wide_offsets) -> list:
        offset, sizes = chapter_samples
        bounds = [0, *(span.start for span in chapters[1:]), chapters[-1].end]
        durations = [max(b - a, 1) for a, b in zip(bounds, bounds[1:], strict=False)]
        runs = [[1, d] for d in durations]
        total = sum(durations)
        duration = _movie_time(total)
        kind, packed = (b"co64", ">IQ") if wide_offsets else (b"stco", ">II")
        table = _sample_table(
            _full_box(b"stsd", 0, 0, struct.pack(">I", 1), _box(b"text", _TEXT_SAMPLE_ENTRY)),
            runs,
            b"".join(struct.pack(">I", size) for size in sizes),
            _full_box(kind, 0, 0, struct.pack(packed, 1, offset)),
            len(sizes),
            len(sizes),
        )
        return _box(
            b"trak",
            _track_header(CHAPTER_TRACK, duration, flags=2, group=0, volume=0),
            _box(b"edts", _edit_list([(duration, 0)])),
            _box(
                b"mdia",
                _media_header(total),
                _handler(b"text", "SubtitleHandler"),
                _box(
                    b"minf",
                    _box(b"gmhd", _TEXT_MEDIA_HEADER),
                    _data_information(),
                    _box(b"stbl", *table),
                ),
            ),
        )

    def _user_data(self, chapters) -> list:
        items = [
            _box(TAG_ITEMS[name], _box(b"data", struct.pack(">II", 1, 0), value.encode()))
            for name, value in self.tags.items()
        ]
        items.append(_box(b"\xa9too", _box(b"data", struct.pack(">II", 1, 0), ENCODER.encode())))
        handler = struct.pack(">I4s4s", 0, b"mdir", b"appl") + bytes(9)
        meta = _full_box(b"meta", 0, 0, _full_box(b"hdlr", 0, 0, handler), _box(b"ilst", *items))
        parts = [meta]
        if chapters:
            # chpl counts its chapters in one byte; the text track holds any beyond 255
            marks = struct.pack(">IB", 0, min(len(chapters), 255))
            for span in chapters[:255]:
                title = span.title.encode()[:255]
                start = round(Fraction(span.start, SAMPLE_RATE) * 10_000_000)  # 100 ns units
                marks += struct.pack(">QB", start, len(title)) + title
            parts.append(_full_box(b"chpl", 1, 0, marks))
        return _box(b"udta", *parts)


# --- boxes of any track ------------------------------------------------------------------------


def _movie_header(duration: int, next_track: int) -> list:
    wide = _wide(duration)
    times = struct.pack(">QQIQ" if wide else ">IIII", 0, 0, MOVIE_TIMESCALE, duration)
    rest = struct.pack(">IH", 0x10000, 0x100) + bytes(10) + _UNITY_MATRIX + bytes(24)
    return _full_box(b"mvhd", int(wide), 0, times, rest, struct.pack(">I", next_track))


def _track_header(track: int, duration: int, flags: int, group: int, volume: int) -> list:
    wide = _wide(duration)
    if wide:
        times = struct.pack(">QQIIQ", 0, 0, track, 0, duration)
    else:
        times = struct.pack(">IIIII", 0, 0, track, 0, duration)
    rest = bytes(8) + struct.pack(">hhHH", 0, group, volume, 0) + _UNITY_MATRIX + bytes(8)
    return _full_box(b"tkhd", int(wide), flags, times, rest)


def _edit_list(edits: list[tuple[int, int]]) -> list:
    wide = _wide(*(abs(value) for edit in edits for value in edit))
    entry = ">QqI" if wide else ">IiI"
    body = b"".join(struct.pack(entry, length, start, 0x10000) for length, start in edits)
    return _full_box(b"elst", int(wide), 0, struct.pack(">I", len(edits)), body)


def _media_header(duration: int) -> list:
    """A track's media header: its time in samples at SAMPLE_RATE."""
    wide = _wide(duration)
    times = struct.pack(">QQIQ" if wide else ">IIII", 0, 0, SAMPLE_RATE, duration)
    return _full_box(b"mdhd", int(wide), 0, times, struct.pack(">HH", LANGUAGE_UND, 0))


def _handler(kind: bytes, name: str) -> list:
    return _full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, kind), bytes(12), name.encode() + b"\0")


def _data_information() -> list:
    location = _full_box(b"url ", 0, 1)  # the media is in this file
    return _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), location))


def _sample_table(description, runs, sizes, offsets, samples: int, per_chunk: int) -> list:
    """stsd, stts, stsc, stsz and the chunk offsets: samples in chunks of ``per_chunk``."""
    times = b"".join(struct.pack(">II", frames, duration) for frames, duration in runs)
    chunks = -(-samples // per_chunk)
    last = samples - per_chunk * (chunks - 1)  # the last chunk may hold fewer
    layout = [(1, per_chunk if chunks > 1 else samples)]
    if chunks > 1 and last != per_chunk:
        layout.append((chunks, last))
    entries = b"".join(struct.pack(">III", first, count, 1) for first, count in layout)
    return [
        description,
        _full_box(b"stts", 0, 0, struct.pack(">I", len(runs)), times),
        _full_box(b"stsc", 0, 0, struct.pack(">I", len(layout)), entries),
        _full_box(b"stsz", 0, 0, struct.pack(">II", 0, samples), sizes),
        offsets,
    ]
