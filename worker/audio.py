"""Audio as assembly writes it: chunk edges, gain and limiting, level measurement, and the
encoders that write a run of chunks (a part of a chapter, or a voice sample) to a file."""

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio.formats import SAMPLE_RATE, AudioFormat
from core.audio.loudness import ChapterGain, Levels
from core.audio.stream import av_frame
from core.audio.timeline import silence_blocks

# Every chunk fades in and out over a few milliseconds, so a join between two chunks (or a
# chunk and a pause) never steps from sound to silence: no clicks
FADE_SECONDS = 0.005

# The limiter looks this far ahead of a peak and lets go as gradually after it: slow enough
# not to distort a syllable, fast enough to touch only the peak
LIMITER_WINDOW_SECONDS = 0.005

UNITY_GAIN = ChapterGain(1.0)


# A chunk's edges below this are silence, also once a chapter's gain (+20 dB at most) raises
# them: kokoro-onnx trims in 2048-sample frames and leaves 20-50 ms of it at each end, which
# would add to every pause (a 2 s break heard as 2.07 s)
SILENCE_LEVEL = 1e-3


def speech_bounds(audio: np.ndarray) -> tuple[int, int]:
    """[start, end) from the first to the last sample above SILENCE_LEVEL ((0, 0) if none is):
    what trimming keeps, so that word timings can move with it."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_LEVEL)
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, 0)


def chunk_audio(audio: np.ndarray) -> tuple[np.ndarray, int]:
    """What is kept of an inference's audio (a chunk's or a sample's): from its first to its
    last sample above SILENCE_LEVEL, faded at both edges; and the samples cut from its start,
    which word timings move by."""
    start, end = speech_bounds(audio)
    return fade_edges(audio[start:end]), start


def fade_edges(audio: np.ndarray) -> np.ndarray:
    length = min(int(FADE_SECONDS * SAMPLE_RATE), len(audio) // 2)
    if length == 0:
        return audio
    ramp = np.linspace(0.0, 1.0, length, endpoint=False, dtype=np.float32)
    faded = audio.astype(np.float32, copy=True)
    faded[:length] *= ramp
    faded[-length:] *= ramp[::-1]
    return faded


def levels_of(audio: np.ndarray) -> Levels:
    if not len(audio):
        return Levels()
    samples = audio.astype(np.float64, copy=False)
    return Levels(len(audio), float(np.dot(samples, samples)), float(np.abs(samples).max()))


def _sliding_min(values: np.ndarray, width: int) -> np.ndarray:
    """The minimum of each ``width`` values centred on each position (edges padded with 1)."""
    half = width // 2
    padded = np.pad(values, (half, width - 1 - half), constant_values=1.0)
    # Minima over spans of 1, 2, 4, ... values; a window is two overlapping spans
    span, mins = 1, padded
    while span * 2 <= width:
        mins = np.minimum(mins[:-span], mins[span:])
        span *= 2
    return np.minimum(mins[: len(values)], mins[width - span : width - span + len(values)])


def limit(audio: np.ndarray, ceiling: float) -> np.ndarray:
    """``audio`` with every sample at or under ``ceiling`` in magnitude: a look-ahead limiter
    whose gain falls smoothly before a peak and rises smoothly after it (the smoothed gain is
    never above what any sample in its window needs, so no sample passes the ceiling)."""
    magnitude = np.abs(audio)
    if not len(audio) or magnitude.max() <= ceiling:
        return audio
    needed = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-12))
    smooth = 2 * int(LIMITER_WINDOW_SECONDS * SAMPLE_RATE) + 1
    floor = _sliding_min(needed, 2 * smooth - 1)
    averaged = np.convolve(
        np.pad(floor, smooth // 2, mode="edge"), np.ones(smooth) / smooth, "valid"
    )
    limited = (audio * np.minimum(averaged, needed)).astype(np.float32)
    # float32 rounding may leave a sample one step above the ceiling
    return np.clip(limited, -ceiling, ceiling)


def apply_gain(audio: np.ndarray, gain: ChapterGain) -> np.ndarray:
    louder = audio * np.float32(gain.gain)
    if gain.ceiling is not None:
        louder = limit(louder, gain.ceiling)
    return np.clip(louder, -1.0, 1.0)


class _SoundFileSink:
    """WAV, FLAC, MP3 and Ogg/Opus through libsndfile."""

    def __init__(self, target: Path, fmt: AudioFormat):
        container, subtype = fmt.spec.soundfile
        self.file = sf.SoundFile(
            target, "w", samplerate=SAMPLE_RATE, channels=1, format=container, subtype=subtype
        )

    def write(self, block: np.ndarray) -> None:
        self.file.write(block)

    def close(self) -> None:
        self.file.close()


class _AacSink:
    """AAC in an MP4 (iPod) container, through PyAV; titles and chapter markers are the
    join's (worker/container_join.py)."""

    def __init__(self, target: Path):
        import av

        spec = AudioFormat.M4B.spec
        self.av = av
        self.container = av.open(str(target), "w", format=spec.muxer)
        self.stream = self.container.add_stream(spec.codec, rate=spec.codec_rate, layout="mono")
        self.stream.bit_rate = spec.bit_rate
        self.pts = 0

    def write(self, block: np.ndarray) -> None:
        frame = av_frame(self.av, block, self.pts)
        self.pts += len(block)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()


def encode_run(
    target: Path,
    fmt: AudioFormat,
    chunks: Iterable[tuple[np.ndarray, int]],
    gain: ChapterGain = UNITY_GAIN,
) -> Levels:
    """Encode chunks, in order, each with ``gain`` applied and followed by its pause.

    ``chunks`` are (audio, pause samples). Streams to the encoder one chunk at a time, so a
    long run never sits in memory. Returns the levels of what was written (pauses included).
    """
    sink = _AacSink(target) if fmt is AudioFormat.M4B else _SoundFileSink(target, fmt)
    levels = Levels()
    try:
        for audio, pause in chunks:
            if len(audio):
                block = apply_gain(audio, gain)
                levels += levels_of(block)
                sink.write(block)
            for block in silence_blocks(pause):  # a block at a time: memory flat in the pause
                sink.write(block)
            levels = levels.with_silence(pause)
    finally:
        sink.close()
    return levels
