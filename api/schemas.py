"""Request and response bodies of the HTTP API (apart from the ORM rows in storage/)."""

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    UrlConstraints,
    field_validator,
    model_validator,
)

from core.audio_formats import AudioFormat
from core.languages import DEFAULT_LANGUAGE, supported_codes
from core.lexicon import MAX_PHONEMES_CHARS, MAX_WORD_CHARS
from core.loudness import Loudness
from core.markup import MARKUP_MODES
from core.settings import MAX_JOB_CHAPTERS
from core.states import percent_done
from core.text import has_speakable_text

MAX_BATCH_JOBS = 100
MAX_JOB_PRONUNCIATIONS = 1000

Speed = Annotated[float, Field(ge=0.5, le=2.0, description="0.5 (slow) to 2.0 (fast)")]
# The languages this server's front ends speak (core/languages.py); another is a 422 naming them
LanguageCode = Literal[supported_codes()]  # type: ignore[valid-type]


def _printable(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


# A short single-line name: titles, voices. The schema's pattern says what `_printable` checks.
NO_CONTROL_CHARACTERS = r"^[^\u0000-\u001f\u007f-\u009f]*$"
Label = Annotated[
    str,
    Field(max_length=500, json_schema_extra={"pattern": NO_CONTROL_CHARACTERS}),
    AfterValidator(_printable),
]
# For the schema only: `_speakable` checks more, with a clearer message than a pattern's
SPEAKABLE = {"pattern": r"\S"}

MAX_CALLBACK_URL = 2000  # jobs.callback_url


def _fits_column(url: HttpUrl) -> HttpUrl:
    # Normalizing (punycode, percent-encoding) can lengthen what passed the input length check
    if len(str(url)) > MAX_CALLBACK_URL:
        raise ValueError(f"URL should have at most {MAX_CALLBACK_URL} characters")
    return url


CallbackUrl = Annotated[
    HttpUrl,
    UrlConstraints(max_length=MAX_CALLBACK_URL),
    AfterValidator(_fits_column),
    Field(
        description="http(s) URL that gets a signed POST when the job succeeds, fails or is "
        "cancelled (needs KQ_WEBHOOK_SECRET on the server)"
    ),
]


def _speakable(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty; send the text to speak")
    if not has_speakable_text(value):
        raise ValueError("text has nothing speakable (no letters or digits)")
    return value


class ChapterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Label | None = None
    text: str = Field(json_schema_extra=SPEAKABLE)

    _check_text = field_validator("text")(_speakable)


class PronunciationIn(BaseModel):
    """How a word is said: Kokoro IPA ``phonemes`` or a respelling to ``say``."""

    model_config = ConfigDict(extra="forbid")
    phonemes: str | None = Field(default=None, max_length=MAX_PHONEMES_CHARS)
    say: str | None = Field(default=None, max_length=MAX_PHONEMES_CHARS)
    case_sensitive: bool = False


Pronunciations = Annotated[
    dict[Annotated[str, Field(max_length=MAX_WORD_CHARS)], str | PronunciationIn],
    Field(
        max_length=MAX_JOB_PRONUNCIATIONS,
        description="word: Kokoro IPA phonemes, or {say: respelling} or {phonemes, "
        "case_sensitive}; whole words, case-insensitive unless the entry says otherwise; "
        "over the server's lexicon (KQ_LEXICON_PATH)",
    ),
]


class JobCreate(BaseModel):
    """A text (or chapters) to synthesize into one audio file."""

    model_config = ConfigDict(
        extra="forbid",
        # What `_text_or_chapters` checks, for the schema
        json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["chapters"]}]},
    )

    text: str | None = Field(
        default=None, description="The whole text; or give `chapters`", json_schema_extra=SPEAKABLE
    )
    chapters: list[ChapterIn] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_JOB_CHAPTERS,
        description=f"`[{{title?, text}}, ...]`, 1 to {MAX_JOB_CHAPTERS} chapters; or give `text`",
    )
    voice: Label | None = Field(
        default=None,
        description="A voice of GET /v1/voices, or a blend of up to 5 mixed by weight such as "
        "`jf_alpha:0.7,jm_kumo:0.3`; the job keeps it normalized (weights summing to 1)",
    )
    speed: Speed = 1.0
    lang: LanguageCode = Field(  # type: ignore[valid-type]
        default=DEFAULT_LANGUAGE,
        description="The language of the text (GET /v1/languages); English text is read in "
        "its spoken form (numbers, dates... in words), other languages as written",
    )
    format: AudioFormat = AudioFormat.WAV
    loudness: Loudness = Field(
        default=Loudness.PEAK,
        description="peak: each chapter's loudest moment at -1 dBFS; acx: every chapter within "
        "ACX's audiobook limits (RMS -23 to -18 dBFS, peaks at or below -3 dBFS)",
    )
    title: Label | None = None
    author: Label | None = None
    priority: int = Field(default=5, ge=0, le=9, description="0 to 9; higher runs sooner")
    queue: str | None = Field(
        default=None,
        max_length=200,
        description="The worker pool's queue to send the job to, one of the server's KQ_QUEUE "
        "and KQ_QUEUES (default: KQ_QUEUE)",
    )
    callback_url: CallbackUrl | None = None
    markup: Literal[MARKUP_MODES] = Field(
        default="none",
        description="how the text is read: plain (none), with [pause:1s] [voice:x] "
        "[word](/ipa/) tags, or as SSML",
    )
    pronunciations: Pronunciations | None = None

    @field_validator("text")
    @classmethod
    def _check_text(cls, value: str | None) -> str | None:
        return None if value is None else _speakable(value)

    @field_validator("chapters", mode="before")
    @classmethod
    def _count_chapters(cls, value: object) -> object:
        # Counted before each chapter is validated, and said in words (max_length above says
        # it in the schema, but only once every chapter has been read)
        if isinstance(value, list) and len(value) > MAX_JOB_CHAPTERS:
            raise ValueError(
                f"a job has at most {MAX_JOB_CHAPTERS} chapters, not {len(value)}: join short "
                "chapters, or split the book into several jobs"
            )
        return value

    @model_validator(mode="after")
    def _text_or_chapters(self) -> "JobCreate":
        if (self.text is None) == (self.chapters is None):
            raise ValueError("give either `text` or `chapters`, not both and not neither")
        return self

    def pronunciation_entries(self) -> dict | None:
        """The pronunciations as core.lexicon reads them."""
        if not self.pronunciations:
            return None
        return {
            word: entry if isinstance(entry, str) else entry.model_dump(exclude_defaults=True)
            for word, entry in self.pronunciations.items()
        }

    def texts(self) -> list[str]:
        if self.chapters is not None:
            return [c.text for c in self.chapters]
        return [self.text or ""]


class Progress(BaseModel):
    chunks_done: int
    chunks_total: int
    chars_done: int
    chars_total: int
    percent: float = Field(description="by characters, 0 to 100")

    @classmethod
    def of(cls, chunks_done: int, chunks_total: int, chars_done: int, chars_total: int):
        percent = percent_done(chars_done, chars_total)
        return cls(
            chunks_done=chunks_done,
            chunks_total=chunks_total,
            chars_done=chars_done,
            chars_total=chars_total,
            percent=round(percent, 2),
        )


class JobLinks(BaseModel):
    self: str
    audio: str
    events: str  # progress as Server-Sent Events
    stream: str  # the audio while it is made


class CallbackOut(BaseModel):
    """Delivery of the job's webhook so far."""

    attempts: int
    delivered_at: datetime | None = Field(description="when the receiver accepted it (2xx)")
    error: str | None = Field(description="of the last failed attempt, while not delivered")


class ChapterLevel(BaseModel):
    """A chapter's level as measured in the finished file (decoded), and the gain it got."""

    chapter: int
    title: str
    gain_db: float
    rms_dbfs: float
    peak_dbfs: float


class JobOut(BaseModel):
    id: str
    status: str
    voice: str
    speed: float
    lang: str
    format: AudioFormat
    loudness: Loudness
    levels: list[ChapterLevel] | None = Field(
        description="each chapter's measured RMS and peak, once the job has succeeded"
    )
    title: str | None
    author: str | None
    chapters: list[str] | None = Field(description="chapter titles, when the job has chapters")
    priority: int
    queue: str = Field(description="the worker pool's queue the job was sent to")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: Progress
    audio_seconds: float | None
    wall_seconds: float | None
    realtime_factor: float | None
    eta_seconds: float | None
    error: str | None
    callback_url: str | None
    callback: CallbackOut | None = Field(description="webhook delivery, when callback_url is set")
    warnings: list[str] = Field(
        description="what may not sound as expected, e.g. a voice of another language than lang"
    )
    links: JobLinks


class JobPage(BaseModel):
    jobs: list[JobOut]
    next_cursor: str | None


class BatchCreate(BaseModel):
    """Many jobs at once, followed with one status."""

    model_config = ConfigDict(extra="forbid")
    jobs: list[JobCreate] = Field(min_length=1, max_length=MAX_BATCH_JOBS)


class BatchOut(BaseModel):
    id: str
    status: str
    created_at: datetime
    progress: Progress
    jobs: list[JobOut]


class ChapterOut(BaseModel):
    index: int
    title: str
    start_seconds: float
    end_seconds: float
    audio: str | None = Field(description="this chapter alone; for jobs submitted with chapters")


class WordTimingOut(BaseModel):
    word: str = Field(description="a word of the written text, without the punctuation around it")
    start: float = Field(description="seconds in the job's file, to the microsecond")
    end: float
    chunk: int = Field(description="the index of its chunk")
    chapter: int


class TimingsOut(BaseModel):
    words: list[WordTimingOut] = Field(description="every word that is said, in order")
    estimated: bool = Field(
        description="true when some chunk's words are timed by estimate (a model whose phoneme "
        "durations could not be read, or chunks made before word timings existed)"
    )


class VoiceOut(BaseModel):
    name: str
    language: str | None = Field(
        description="the code of the voice's language (as `lang` takes it), from its name's "
        "first letter; null for a name that is not a Kokoro voice name"
    )
    language_name: str | None
    gender: Literal["female", "male"] | None
    grade: str | None = Field(description="Kokoro's quality grade, A (best) to F, where known")
    default: bool


class FormatOut(BaseModel):
    name: str = Field(description="what `format` or `response_format` takes")
    label: str
    extension: str = Field(description="of the file it is saved as")
    media_type: str
    lossy: bool
    bit_rate: int | None = Field(description="bits per second of a lossy format")
    job: bool = Field(description="a job's file (`format` of POST /v1/jobs)")
    stream: bool = Field(description="audio sent as it is made (`/stream`, `/v1/audio/speech`)")
    sample: bool = Field(description="a voice sample's format")


class LanguageOut(BaseModel):
    code: str = Field(description="what `lang` takes")
    name: str
    voices: list[str] = Field(description="the installed voices of this language")


class ReadyOut(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="database, broker, workers: `ok` or what failed")


class ValidationIssue(BaseModel):
    type: str
    loc: list[str | int] = Field(description='where: e.g. `["body", "speed"]`')
    msg: str


class ErrorOut(BaseModel):
    """Every error answer: what went wrong in words, or for invalid input what is wrong where."""

    detail: str | list[ValidationIssue]


class PreviewChunk(BaseModel):
    index: int
    chapter: int
    text: str = Field(description="the written text of the chunk, as subtitles show it")
    spoken: str = Field(description="what is said: the spoken form, pronunciations applied")
    phonemes: str = Field(description="the phonemes the model reads")
    tokens: int = Field(description="phoneme tokens (the model reads at most 510 at once)")
    voice: str
    pause_after: str = Field(description="the boundary after it: clause, sentence, paragraph...")
    pause_seconds: float = Field(description="the silence after it")
    estimated_seconds: float = Field(description="its audio and the silence after it, estimated")


class PreviewOut(BaseModel):
    spoken: str = Field(description="the whole text as it will be said")
    chunks: list[PreviewChunk]
    estimated_audio_seconds: float
    warnings: list[str] = Field(
        description="what may not sound as expected, e.g. a voice of another language than lang"
    )
