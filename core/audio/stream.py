"""Chunk audio as stored, and audio encoded as it is made, for listening while a job runs.

Chunks are stored as 16-bit FLAC (lossless, half the size of WAV). A ``StreamEncoder`` turns
chunks into one continuous file of a format that can be played before its end: WAV and raw PCM
by hand, MP3, Ogg/Opus, AAC (ADTS) and FLAC through PyAV's muxers, flushed packet by packet.
The API and the workers share this module; it never touches the model.
"""

import io
import struct

import numpy as np
import soundfile as sf

from core.audio.formats import SAMPLE_RATE, StreamFormat

CHUNK_FORMAT = "FLAC"
CHUNK_SUBTYPE = "PCM_16"
OGG_PAGE_MICROSECONDS = "20000"  # a page per 20 ms, so Opus leaves the muxer at once


def encode_chunk(audio: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(
        buffer, np.clip(audio, -1.0, 1.0), SAMPLE_RATE, format=CHUNK_FORMAT, subtype=CHUNK_SUBTYPE
    )
    return buffer.getvalue()


def decode_chunk(data: bytes) -> np.ndarray:
    if not data:
        # A chunk with nothing to say (no phonemes) is stored empty: no FLAC has zero frames
        return np.zeros(0, dtype=np.float32)
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    if rate != SAMPLE_RATE:
        raise ValueError(f"chunk audio is {rate} Hz, expected {SAMPLE_RATE}")
    return audio


# A streamed WAV's length is not known when its header goes out: the sizes say "as long as
# there is", which players and decoders read as "until the end of the stream"
_UNKNOWN_SIZE = 0xFFFFFFFF


def to_pcm16(audio: np.ndarray) -> bytes:
    # The inverse of decoding: a chunk's 16-bit samples come back exactly
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype("<i2").tobytes()


def wav_header() -> bytes:
    block_align = 2
    return (
        b"RIFF"
        + struct.pack("<I", _UNKNOWN_SIZE)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * block_align, block_align, 16)
        + b"data"
        + struct.pack("<I", _UNKNOWN_SIZE)
    )


def av_frame(av, audio: np.ndarray, pts: int):
    """24 kHz mono float samples as a PyAV frame starting at sample ``pts``."""
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(audio, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
    )
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    return frame


class _Collected(io.RawIOBase):
    """Where the muxer writes; what it wrote is taken after each chunk."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class StreamEncoder:
    """``encode`` float samples at 24 kHz as they come, ``finish`` once; each returns the bytes
    to send now."""

    def __init__(self, fmt: StreamFormat):
        self.format = fmt
        self._started = False
        spec = fmt.spec
        if spec.codec is not None:  # WAV and PCM are written here, the rest by PyAV
            import av

            self._av = av
            self._sink = _Collected()
            options = {"flush_packets": "1"}
            if fmt is StreamFormat.OPUS:  # Ogg pages: one per 20 ms, not per second
                options["page_duration"] = OGG_PAGE_MICROSECONDS
            self._container = av.open(self._sink, "w", format=spec.muxer, options=options)
            self._stream = self._container.add_stream(
                spec.codec, rate=spec.codec_rate, layout="mono"
            )
            if spec.bit_rate is not None:
                self._stream.bit_rate = spec.bit_rate
            self._pts = 0

    def encode(self, audio: np.ndarray) -> bytes:
        head = b""
        if not self._started:
            self._started = True
            head = wav_header() if self.format is StreamFormat.WAV else b""
        if self.format in (StreamFormat.WAV, StreamFormat.PCM):
            return head + to_pcm16(audio)
        if len(audio):
            frame = av_frame(self._av, np.clip(audio, -1.0, 1.0), self._pts)
            self._pts += len(audio)
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._sink.take()

    def finish(self) -> bytes:
        if self.format in (StreamFormat.WAV, StreamFormat.PCM):
            return self.encode(np.zeros(0, dtype=np.float32)) if not self._started else b""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return self._sink.take()
