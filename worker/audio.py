"""Chunk audio encoding and job assembly."""

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio_formats import SAMPLE_RATE, AudioFormat
from core.audio_stream import av_frame
from core.timeline import ChapterSpan, Timeline, chapter_spans

M4B_BIT_RATE = 64_000  # AAC, mono speech

_SOUNDFILE_FORMATS = {
    AudioFormat.WAV: ("WAV", "PCM_16"),
    AudioFormat.FLAC: ("FLAC", "PCM_16"),
    AudioFormat.MP3: ("MP3", "MPEG_LAYER_III"),
    AudioFormat.OPUS: ("OGG", "OPUS"),
}


# Level and joins: one gain for the whole book brings its loudest sample to -1 dBFS (never
# above: no clipping), and every chunk fades in and out over a few milliseconds, so a join
# between two chunks (or a chunk and a pause) never steps from sound to silence: no clicks
TARGET_PEAK = 10 ** (-1 / 20)
MAX_GAIN = 4.0  # +12 dB at most: a near-silent book is not blown up into noise
FADE_SECONDS = 0.005


# A chunk's edges below this are silence, also once the book gain (at most MAX_GAIN) raises
# them: kokoro-onnx trims in 2048-sample frames and leaves 20-50 ms of it at each end, which
# would add to every pause (a 2 s break heard as 2.07 s)
SILENCE_LEVEL = 1e-3


def speech_bounds(audio: np.ndarray) -> tuple[int, int]:
    """[start, end) from the first to the last sample above SILENCE_LEVEL ((0, 0) if none is):
    what trimming keeps, so that word timings can move with it."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_LEVEL)
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, 0)


def trim_silence(audio: np.ndarray) -> np.ndarray:
    """The audio from its first to its last sample above SILENCE_LEVEL (empty if none is)."""
    start, end = speech_bounds(audio)
    return audio[start:end]


def fade_edges(audio: np.ndarray) -> np.ndarray:
    length = min(int(FADE_SECONDS * SAMPLE_RATE), len(audio) // 2)
    if length == 0:
        return audio
    ramp = np.linspace(0.0, 1.0, length, endpoint=False, dtype=np.float32)
    faded = audio.astype(np.float32, copy=True)
    faded[:length] *= ramp
    faded[-length:] *= ramp[::-1]
    return faded


def book_gain(peaks: Iterable[float | None]) -> float:
    loudest = max((p for p in peaks if p), default=0.0)
    return min(TARGET_PEAK / loudest, MAX_GAIN) if loudest > 0 else 1.0


class _SoundFileSink:
    """WAV, FLAC, MP3 and Ogg/Opus through libsndfile."""

    def __init__(self, target: Path, fmt: AudioFormat, tags: dict[str, str]):
        container, subtype = _SOUNDFILE_FORMATS[fmt]
        self.file = sf.SoundFile(
            target, "w", samplerate=SAMPLE_RATE, channels=1, format=container, subtype=subtype
        )
        if container != "MP3":  # libsndfile writes no ID3 tags
            for name, value in tags.items():
                setattr(self.file, name, value)

    def write(self, block: np.ndarray) -> None:
        self.file.write(block)

    def close(self, chapters: list[ChapterSpan]) -> None:
        self.file.close()


class _M4bSink:
    """AAC in an MP4 (iPod) container with a chapter marker per chapter, through PyAV."""

    def __init__(self, target: Path, tags: dict[str, str]):
        import av

        self.av = av
        self.container = av.open(str(target), "w", format="ipod")
        self.stream = self.container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        self.stream.bit_rate = M4B_BIT_RATE
        # Audiobook players show the title, and the author as artist and album artist
        for name, value in tags.items():
            self.container.metadata[name] = value
        if "artist" in tags:
            self.container.metadata["album_artist"] = tags["artist"]
        self.pts = 0

    def write(self, block: np.ndarray) -> None:
        frame = av_frame(self.av, block, self.pts)
        self.pts += len(block)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self, chapters: list[ChapterSpan]) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        if chapters:
            self.container.set_chapters(
                [
                    {
                        "id": number,
                        "start": span.start,
                        "end": span.end,
                        "time_base": Fraction(1, SAMPLE_RATE),
                        "metadata": {"title": span.title},
                    }
                    for number, span in enumerate(chapters, start=1)
                ]
            )
        self.container.close()


def write_assembled(
    target: Path,
    fmt: AudioFormat,
    parts: Iterable[tuple[np.ndarray, int, int]],
    titles: list[str],
    gain: float = 1.0,
    title: str | None = None,
    author: str | None = None,
) -> int:
    """Write chunks, in order, each times ``gain`` and followed by its pause.

    ``parts`` are (audio, chapter, pause samples); each chapter gets a marker titled from
    ``titles`` where the container has them (m4b), placed by the same timeline as every other
    position of the job. Streams to the encoder one chunk at a time, so a whole book never sits
    in memory. Returns the number of samples written.
    """
    tags = {name: value for name, value in (("title", title), ("artist", author)) if value}
    sink = _M4bSink(target, tags) if fmt is AudioFormat.M4B else _SoundFileSink(target, fmt, tags)
    timeline = Timeline()
    try:
        for audio, chapter, pause in parts:
            timeline.add(chapter, len(audio), pause)
            if len(audio):
                sink.write(np.clip(audio * np.float32(gain), -1.0, 1.0))
            if pause:
                sink.write(np.zeros(pause, dtype=np.float32))
    finally:
        sink.close(chapter_spans(timeline.slots, titles))
    return timeline.position
