"""Audio formats: the one table of what each is (extension, media type, codec, bit rate) and
where it may be used (a job's file, a live stream, a voice sample).

Everything else reads this table: the enums clients choose from, the encoders and muxers of the
workers and the API, the download names, the OpenAPI documents and the web app (through
``GET /v1/formats``).
"""

from dataclasses import dataclass
from enum import StrEnum

SAMPLE_RATE = 24_000  # Kokoro-82M speaks at 24 kHz
LOSSY_BIT_RATE = 64_000  # mono speech: transparent at this rate in MP3, Opus and AAC
OPUS_RATE = 48_000  # Opus takes 8-48 kHz steps only; 48 kHz is the usual one


@dataclass(frozen=True)
class Format:
    name: str  # what a client asks for
    label: str  # what a person reads
    extension: str  # of the file it is saved as
    media_type: str
    muxer: str  # PyAV's (FFmpeg's) container format
    codec: str | None = None  # PyAV's encoder; None: written by hand (16-bit PCM)
    codec_rate: int = SAMPLE_RATE
    bit_rate: int | None = None  # lossy formats only
    soundfile: tuple[str, str] | None = None  # libsndfile's (format, subtype), where it writes it
    job: bool = False  # a job's file
    stream: bool = False  # sent while a job is made (GET /v1/jobs/{id}/stream, /v1/audio/speech)
    sample: bool = False  # a voice sample: what a browser's audio element plays
    # The job format a stream of this one is also kept as (GET /v1/jobs/{id}/audio of an
    # OpenAI-style speech request); None: itself
    kept_as: str | None = None

    @property
    def lossy(self) -> bool:
        return self.bit_rate is not None


_LOSSY = {"bit_rate": LOSSY_BIT_RATE}
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("wav", "WAV", "wav", "audio/wav", "wav",
               soundfile=("WAV", "PCM_16"), job=True, stream=True, sample=True),
        Format("pcm", "Raw 16-bit PCM", "pcm", "audio/pcm", "s16le",  # 24 kHz mono, no header
               stream=True, kept_as="wav"),
        Format("flac", "FLAC", "flac", "audio/flac", "flac", "flac",
               soundfile=("FLAC", "PCM_16"), job=True, stream=True),
        Format("mp3", "MP3", "mp3", "audio/mpeg", "mp3", "libmp3lame", **_LOSSY,
               soundfile=("MP3", "MPEG_LAYER_III"), job=True, stream=True, sample=True),
        Format("opus", "Opus (Ogg)", "ogg", "audio/ogg", "ogg", "libopus", OPUS_RATE, **_LOSSY,
               soundfile=("OGG", "OPUS"), job=True, stream=True, sample=True),
        Format("aac", "AAC (ADTS)", "aac", "audio/aac", "adts", "aac", **_LOSSY,
               stream=True, kept_as="m4b"),
        # AAC in MP4 with chapter markers: the audiobook format
        Format("m4b", "M4B audiobook", "m4b", "audio/mp4", "ipod", "aac", **_LOSSY, job=True),
    )
}  # fmt: skip


class FormatName(StrEnum):
    """A format by its name; the enums below list those of one use."""

    @property
    def spec(self) -> Format:
        return FORMATS[self.value]

    @property
    def media_type(self) -> str:
        return self.spec.media_type

    @property
    def extension(self) -> str:
        return self.spec.extension

    @property
    def job_format(self) -> "FormatName":
        """The job format audio of this format is kept as."""
        return AudioFormat(self.spec.kept_as or self.value)


def _names(enum: str, use: str) -> type[FormatName]:
    return FormatName(enum, {f.name.upper(): f.name for f in FORMATS.values() if getattr(f, use)})


AudioFormat = _names("AudioFormat", "job")  # a job's file
StreamFormat = _names("StreamFormat", "stream")  # audio sent as it is made
SampleFormat = _names("SampleFormat", "sample")  # a voice sample


def media_types(use: str) -> list[str]:
    """The media types of the formats of one use ("job", "stream", "sample"), for the API's
    documents."""
    return sorted({f.media_type for f in FORMATS.values() if getattr(f, use)})
