"""Joining encoded parts into one file at the container level: packets are copied, never
decoded or encoded again, so a whole book is joined at thousands of times realtime.

Each part lands where the job's timeline puts its first sample. Between parts lies silence
(a pause of at least ``MIN_PART_BREAK_SECONDS``), written as encoded silence sized to close
the gap. Lossless formats (WAV, FLAC) land every part to the sample. A lossy part starts with
its encoder's priming and ends on a whole frame; the filler before it absorbs both, so each
part lands within half a codec frame (at most 21 ms) of its place and no error accumulates
along the book. How far a format's parts land from where they are muxed is measured once per
process (``join_offsets``), not assumed, so a different FFmpeg build cannot shift them.

WAV is written as RF64 once it passes 4 GB (about 24 hours at 24 kHz, 16 bits).
"""

import functools
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from core.audio.formats import SAMPLE_RATE, AudioFormat
from core.audio.timeline import ChapterSpan
from worker.audio import encode_run
from worker.m4b_writer import M4bWriter

# Muxer options of a join (the muxer is the format's): a WAV past 4 GB becomes RF64
JOIN_OPTIONS = {AudioFormat.WAV: {"rf64": "auto"}}
FLAC_STREAMINFO_AT = 8  # after "fLaC" and the metadata block's header
FLAC_STREAMINFO_BYTES = 34
FLAC_MIN_BLOCK = 16

# Frames of a fixed length, primed at the start: their files join to within half a frame
LOSSY = tuple(fmt for fmt in AudioFormat if fmt.spec.lossy)


@dataclass(frozen=True)
class Piece:
    """An encoded part (``key`` None: nothing to hear, silence) and where its first sample
    belongs in the joined file."""

    key: str | None
    start: int  # samples at SAMPLE_RATE


def _samples(ticks: int, time_base: Fraction) -> int:
    return round(ticks * time_base * SAMPLE_RATE)


def _ticks(samples: int, time_base: Fraction) -> int:
    return round(Fraction(samples, SAMPLE_RATE) / time_base)


class _FfmpegOutput:
    """A joined file written by FFmpeg's muxer for its format (every format but M4B)."""

    def __init__(self, target: Path, fmt: AudioFormat, tags: dict[str, str]):
        options = JOIN_OPTIONS.get(fmt, {})
        self.container = av.open(str(target), "w", format=fmt.spec.muxer, options=options)
        for name, value in tags.items():
            self.container.metadata[name] = value
        self.stream = None

    def write(self, packet: av.Packet, in_stream) -> None:
        if self.stream is None:
            self.stream = self.container.add_stream_from_template(in_stream)
        packet.stream = self.stream
        self.container.mux(packet)

    def close(self, chapters: Sequence[ChapterSpan]) -> None:
        self.container.close()  # only an M4B carries chapter markers


def _output(target: Path, fmt: AudioFormat, tags: dict[str, str]):
    if fmt is AudioFormat.M4B:
        # FFmpeg's MP4 muxer would hold an index entry per frame of the whole book in memory
        if "artist" in tags:
            tags = {**tags, "album_artist": tags["artist"]}  # audiobook players show it
        return M4bWriter(target, tags)
    return _FfmpegOutput(target, fmt, tags)


class _Joiner:
    """Packets of encoded files appended to one output stream, one after the other."""

    def __init__(self, target: Path, fmt: AudioFormat, tags: dict[str, str]):
        self.fmt = fmt
        self.output = _output(target, fmt, tags)
        self.stream_started = False
        self.end = 0  # samples: where the next file's packets begin

    def append(self, path: Path, *, own_timing: bool = False, last: bool = False) -> int:
        """Append a file's packets; returns where they begin (samples). The output's first
        file keeps its own timestamps with ``own_timing`` (a part: its priming, before 0, is
        what the container's gapless information tells players to skip); else, and for every
        later file, its first packet is placed at the end so far. A file's last frame is
        listed trimmed to its end but decodes whole where another file follows, so it is
        counted whole unless the file is the ``last``."""
        muxed_at = self.end
        with av.open(str(path)) as source:
            in_stream = source.streams.audio[0]
            base = in_stream.time_base
            first = frame = None
            for packet in source.demux(in_stream):
                if packet.dts is None:  # the demuxer's flush packet
                    continue
                if first is None:
                    first, frame = packet.pts, packet.duration
                    keep = own_timing and not self.stream_started
                    shift = 0 if keep else _ticks(self.end, base) - first
                    self.stream_started = True
                if not last:
                    packet.duration = _whole_duration(self.fmt, packet, frame)
                packet.pts += shift
                packet.dts += shift
                self.end = max(self.end, _samples(packet.pts + packet.duration, base))
                self.output.write(packet, in_stream)
        return muxed_at

    def close(self, chapters: Sequence[ChapterSpan]) -> None:
        self.output.close(chapters)


# Opus frame lengths by the TOC byte's configuration, in 48 kHz samples (RFC 6716, 3.1)
_OPUS_FRAME = [480, 960, 1920, 2880] * 3 + [480, 960] * 2 + [120, 240, 480, 960] * 4


def _whole_duration(fmt: AudioFormat, packet: av.Packet, frame: int) -> int:
    """A packet's length as a decoder outputs it mid-stream, in its stream's time base: a
    lossy file's last frame is listed trimmed to where the audio ends, but decodes whole."""
    if fmt is AudioFormat.OPUS:  # frames of any length: the packet says how many and how long
        data = bytes(packet)
        code = data[0] & 3
        count = 1 if code == 0 else 2 if code < 3 else data[1] & 0x3F
        return count * _OPUS_FRAME[data[0] >> 3]  # the stream's time base is 1/48000
    if fmt in LOSSY:  # one frame length throughout
        return max(packet.duration, frame)
    return packet.duration


def _silence(fmt: AudioFormat, samples: int, workdir: Path) -> Path:
    path = workdir / f"silence-{samples}.{fmt.extension}"
    # As a pause: written a block at a time, so memory stays flat in the gap's length
    encode_run(path, fmt, [(np.zeros(0, dtype=np.float32), samples)])
    return path


def _span(fmt: AudioFormat, path: Path) -> int:
    """Samples the packets of an encoded file cover, priming and padding included."""
    with av.open(str(path)) as source:
        stream = source.streams.audio[0]
        ticks, frame = 0, None
        for packet in source.demux(stream):
            if packet.dts is None:  # the demuxer's flush packet
                continue
            if frame is None:
                frame = packet.duration
            ticks += _whole_duration(fmt, packet, frame)  # as the joiner counts: last frame whole
        return _samples(ticks, stream.time_base)


def _filler(fmt: AudioFormat, samples: int, workdir: Path) -> Path | None:
    """Encoded silence whose packets cover as near ``samples`` as the codec's frames allow."""
    if samples <= 0:
        return None
    best, best_error, length = None, None, samples
    for _ in range(3):  # the encoder's priming and padding, found by trying
        if length <= 0:
            break
        path = _silence(fmt, length, workdir)
        error = _span(fmt, path) - samples
        if best_error is None or abs(error) < abs(best_error):
            best, best_error = path, error
        if error == 0:
            break
        length -= error
    return best


def join(
    target: Path,
    fmt: AudioFormat,
    pieces: Sequence[Piece],
    local_file: Callable[[str], AbstractContextManager[Path]],
    *,
    tags: dict[str, str] | None = None,
    chapters: Sequence[ChapterSpan] = (),
    offsets: tuple[int, int] | None = None,
    length: int | None = None,
) -> list[int]:
    """Write ``pieces`` (in order, starts increasing) into ``target`` as one file.

    ``local_file(key)`` gives a piece's file on local disk for the time it is read (one at a
    time: memory and disk stay flat in the book's length); ``offsets``, where a format's first
    and later files land relative to where they are muxed (``join_offsets``, by default);
    ``length``, where silence after the last piece ends (a chapter file's closing room tone).
    Returns where each audible piece was muxed (samples).
    """
    first_offset, later_offset = offsets if offsets is not None else join_offsets(fmt)
    audible = [piece for piece in pieces if piece.key is not None]  # silence: the fillers'
    joiner = _Joiner(target, fmt, tags or {})
    muxed = []
    with tempfile.TemporaryDirectory(prefix="kq-join-") as workdir:
        try:
            for number, piece in enumerate(audible):
                at_start = not joiner.stream_started and piece.start <= first_offset
                if not at_start:
                    filler = _filler(fmt, piece.start - joiner.end - later_offset, Path(workdir))
                    if filler is not None:
                        joiner.append(filler)
                with local_file(piece.key) as path:
                    last = number == len(audible) - 1 and length is None
                    muxed.append(joiner.append(path, own_timing=at_start, last=last))
            closing = _filler(fmt, (length or 0) - joiner.end, Path(workdir))
            if closing is not None and joiner.stream_started:
                joiner.append(closing, last=True)
            if not joiner.stream_started:  # nothing audible at all: a moment of silence
                joiner.append(_silence(fmt, SAMPLE_RATE // 10, Path(workdir)), last=True)
        finally:
            joiner.close(chapters)
    if fmt is AudioFormat.FLAC:
        _describe_flac(target, joiner.end)
    return muxed


def _describe_flac(path: Path, samples: int) -> None:
    """Make a joined FLAC's STREAMINFO describe the whole stream: the muxer keeps the first
    part's, whose sample count readers such as libsndfile stop at. Its parts end on short
    blocks, so the minimum block size is the format's least; frame sizes and the MD5 become
    "unknown" (zero), which the format allows."""
    with path.open("r+b") as flac:
        flac.seek(FLAC_STREAMINFO_AT)
        info = bytearray(flac.read(FLAC_STREAMINFO_BYTES))
        info[0:2] = FLAC_MIN_BLOCK.to_bytes(2, "big")
        info[4:10] = bytes(6)
        # 20 bits of sample rate, 3 of channels and 5 of bits per sample, then 36 of samples
        packed = int.from_bytes(info[10:18], "big") >> 36 << 36 | samples
        info[10:18] = packed.to_bytes(8, "big")
        info[18:34] = bytes(16)
        flac.seek(FLAC_STREAMINFO_AT)
        flac.write(info)


# --- where parts land ----------------------------------------------------------------------

CALIBRATION_SAMPLES = SAMPLE_RATE // 2
CALIBRATION_GAP = 2 * SAMPLE_RATE
CALIBRATION_SEARCH = 4 * 1152  # further than any codec's priming and frame rounding


def _marker() -> np.ndarray:
    """Noise, found by cross-correlation to the sample in any codec's output."""
    rng = np.random.default_rng(20)
    return (rng.standard_normal(CALIBRATION_SAMPLES) * 0.1).astype(np.float32)


def _located(decoded: np.ndarray, marker: np.ndarray, expected: int) -> int:
    """Where ``marker`` is heard in ``decoded``, relative to ``expected``."""
    low = max(expected - CALIBRATION_SEARCH, 0)
    window = decoded[low : expected + CALIBRATION_SEARCH + len(marker)]
    return low + int(np.argmax(np.correlate(window, marker, mode="valid"))) - expected


def decode(path: Path) -> np.ndarray:
    """A file's samples as the service's clients decode it (FFmpeg), at SAMPLE_RATE, mono."""
    return np.concatenate(list(decoded_blocks(path)) or [np.zeros(0, dtype=np.float32)])


def decoded_blocks(path: Path) -> Iterator[np.ndarray]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as source:
        for frame in source.decode(source.streams.audio[0]):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)


@functools.cache
def join_offsets(fmt: AudioFormat) -> tuple[int, int]:
    """How many samples after the point it is muxed at a file's first sample is heard: for the
    joined file's first file (whose priming players skip) and for later ones (whose priming
    stays in the stream). Measured by joining a noise burst to itself a few times and finding
    each, against where it was muxed (so the fillers' frame rounding does not count)."""
    marker = _marker()
    with tempfile.TemporaryDirectory(prefix="kq-calibrate-") as workdir:
        burst = Path(workdir) / f"burst.{fmt.extension}"
        encode_run(burst, fmt, [(marker, 0)])
        joined = Path(workdir) / f"joined.{fmt.extension}"
        starts = [k * CALIBRATION_GAP + 97 * k * k for k in range(6)]
        pieces = [Piece("burst", start) for start in starts]
        muxed = join(joined, fmt, pieces, lambda _key: nullcontext(burst), offsets=(0, 0))
        audio = decode(joined)
    pairs = zip(starts, muxed, strict=True)
    heard = [start + _located(audio, marker, start) - at for start, at in pairs]
    later = sorted(heard[1:])
    return heard[0], later[len(later) // 2]
