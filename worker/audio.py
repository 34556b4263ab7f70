"""Chunk audio encoding and job assembly."""

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio_formats import SAMPLE_RATE, AudioFormat, pause_samples
from core.audio_stream import av_frame

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


def silence(pause_after: str) -> np.ndarray:
    return np.zeros(pause_samples(pause_after), dtype=np.float32)


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

    def close(self, chapters: list[tuple[str, int, int]]) -> None:
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

    def close(self, chapters: list[tuple[str, int, int]]) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        if chapters:
            self.container.set_chapters(
                [
                    {
                        "id": number,
                        "start": start,
                        "end": end,
                        "time_base": Fraction(1, SAMPLE_RATE),
                        "metadata": {"title": title},
                    }
                    for number, (title, start, end) in enumerate(chapters, start=1)
                ]
            )
        self.container.close()


def write_assembled(
    target: Path,
    fmt: AudioFormat,
    parts: Iterable[tuple[np.ndarray, str, str]],
    gain: float = 1.0,
    title: str | None = None,
    author: str | None = None,
) -> int:
    """Write chunks, in order, each times ``gain`` and followed by the pause it calls for.

    ``parts`` are (audio, pause after, chapter title); a new title starts a chapter marker
    where the container has them (m4b). Streams to the encoder one chunk at a time, so a whole
    book never sits in memory. Returns the number of samples written.
    """
    tags = {name: value for name, value in (("title", title), ("artist", author)) if value}
    sink = _M4bSink(target, tags) if fmt is AudioFormat.M4B else _SoundFileSink(target, fmt, tags)
    samples = 0
    chapters: list[tuple[str, int, int]] = []  # (title, start, end) in samples
    try:
        for audio, pause_after, chapter in parts:
            if not chapters or chapters[-1][0] != chapter:
                chapters.append((chapter, samples, samples))
            for block in (audio * np.float32(gain), silence(pause_after)):
                if len(block):
                    sink.write(np.clip(block, -1.0, 1.0))
                    samples += len(block)
            chapters[-1] = (chapter, chapters[-1][1], samples)
    finally:
        sink.close(chapters)
    return samples
