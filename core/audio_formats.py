"""Output audio formats: what clients may ask for and how each is served."""

from enum import StrEnum

SAMPLE_RATE = 24_000  # Kokoro-82M speaks at 24 kHz


class AudioFormat(StrEnum):
    WAV = "wav"
    FLAC = "flac"
    MP3 = "mp3"
    OPUS = "opus"
    M4B = "m4b"  # AAC in MP4 with chapter markers: the audiobook format

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        return "ogg" if self is AudioFormat.OPUS else self.value


MEDIA_TYPES = {
    AudioFormat.WAV: "audio/wav",
    AudioFormat.FLAC: "audio/flac",
    AudioFormat.MP3: "audio/mpeg",
    AudioFormat.M4B: "audio/mp4",
    AudioFormat.OPUS: "audio/ogg",
}
