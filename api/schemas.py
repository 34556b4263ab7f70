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
    PrivateAttr,
    SecretStr,
    UrlConstraints,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from core.audio.formats import AudioFormat
from core.audio.loudness import Loudness
from core.books.covers import (
    MAX_COVER_BYTES,
    CoverError,
    CoverImage,
    decoded_cover,
)
from core.books.details import (
    MAX_DESCRIPTION_CHARS,
    MAX_ISBN_CHARS,
    MAX_SERIES_CHARS,
    MAX_SERIES_INDEX,
    MAX_YEAR,
    MIN_YEAR,
    IsbnError,
    normalized_isbn,
)
from core.jobs.limits import MAX_CAST_CHARACTERS, MAX_CAST_CORRECTIONS, MAX_JOB_CHAPTERS
from core.jobs.states import percent_done
from core.speech.languages import DEFAULT_LANGUAGE, supported_codes
from core.speech.lexicon import MAX_PHONEMES_CHARS, MAX_WORD_CHARS
from core.text.books import HEADING_MARKUPS, BookError, pasted_chapters
from core.text.markup import MARKUP_MODES
from core.text.sentences import has_speakable_text

MAX_BATCH_JOBS = 100
MAX_JOB_PRONUNCIATIONS = 1000

Speed = Annotated[float, Field(ge=0.5, le=2.0, description="0.5 (slow) to 2.0 (fast)")]
# The languages this server's front ends speak (core/speech/languages.py); another is a 422
# naming them
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


def _text_block(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


def _isbn(value: str) -> str:
    try:
        return normalized_isbn(value)
    except IsbnError as error:
        raise ValueError(str(error)) from error


def _cover(value: str) -> str:
    try:
        decoded_cover(value)
    except CoverError as error:
        raise ValueError(str(error)) from error
    return value


# A book's details (core/books/details.py), kept in jobs.book_info and written into its file
BookSeries = Annotated[Label, Field(max_length=MAX_SERIES_CHARS, description="the series")]
SeriesIndex = Annotated[
    float,
    Field(ge=0, le=MAX_SERIES_INDEX, description="the book's place in its series: 1, 2, 2.5..."),
]
BookDescription = Annotated[
    str,
    Field(max_length=MAX_DESCRIPTION_CHARS, description="what the book is about (plain text)"),
    AfterValidator(_text_block),
]
BookYear = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR, description="the year it came out")]
Isbn = Annotated[
    str,
    Field(
        max_length=MAX_ISBN_CHARS,
        description="ISBN-10 or ISBN-13, hyphens allowed; its check digit is checked and it is "
        "kept as digits",
    ),
    AfterValidator(_isbn),
]
CoverText = Annotated[
    str,
    Field(
        description=f"the cover: a JPEG or PNG of at most {MAX_COVER_BYTES // 2**20} MB as a "
        "data: URL (data:image/jpeg;base64,...) or base64; a multipart form sends a `cover` "
        "file instead. An EPUB's own cover is used when none is given",
    ),
    AfterValidator(_cover),
]


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


# Ids as Audiobookshelf gives them (lib_c1u6t4p45c35rf0nzd, or a UUID)
DeliveryId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class AudiobookshelfIn(BaseModel):
    """An Audiobookshelf server the finished book is uploaded to (``POST {url}/api/upload``)."""

    model_config = ConfigDict(extra="forbid")
    url: Annotated[HttpUrl, UrlConstraints(max_length=MAX_CALLBACK_URL)] = Field(
        description="the server, e.g. https://abs.example.com (loopback and private addresses "
        "need KQ_DELIVER_ALLOW_PRIVATE on the server)",
    )
    token: SecretStr = Field(
        min_length=1,
        max_length=4000,
        description="the API token of a user who may upload; stored, never shown",
    )
    library: DeliveryId = Field(description="the id of the library the book goes to")
    folder: DeliveryId = Field(description="the id of the library's folder it goes to")

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: HttpUrl) -> HttpUrl:
        # A password in the URL would be shown wherever the URL is: the token has its field
        if url.username or url.password:
            raise ValueError("give the API token as `token`, not in the URL")
        return url


class DeliverIn(BaseModel):
    """Where the finished book is delivered when the job succeeds (default: the API key's own
    delivery settings, `kokoro-queue keys deliver`)."""

    model_config = ConfigDict(extra="forbid")
    audiobookshelf: AudiobookshelfIn | None = None

    def stored(self) -> dict | None:
        """The settings as the job keeps them, secrets included (storage/deliveries.py)."""
        target = self.audiobookshelf
        if target is None:
            return None
        return {
            "audiobookshelf": {
                "url": str(target.url),
                "token": target.token.get_secret_value(),
                "library": target.library,
                "folder": target.folder,
            }
        }


# A ttl of ten years is a typo, not a plan
MAX_TTL_HOURS = 24 * 366


class ChapterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Label | None = None
    text: str = Field(json_schema_extra=SPEAKABLE)
    voice: Label | None = Field(
        default=None, description="this chapter's voice (or blend); default: the job's"
    )

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


CAST_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"
CastName = Annotated[
    str,
    Field(pattern=CAST_NAME_PATTERN, description="a saved cast's name (PUT /v1/casts/{name})"),
]


class CastVoicesIn(BaseModel):
    """Who reads whom; voices and blends as a job's `voice` takes them."""

    model_config = ConfigDict(extra="forbid")

    narrator: Label | None = Field(
        default=None, description="the narration's voice (default: the job's `voice`)"
    )
    characters: dict[Label, Label] = Field(
        default_factory=dict,
        max_length=MAX_CAST_CHARACTERS,
        description="a voice per character, by the name POST /v1/text/cast gives them",
    )
    female: Label | None = Field(default=None, description="for other women and girls")
    male: Label | None = Field(default=None, description="for other men and boys")
    unknown: Label | None = Field(
        default=None,
        description="for speakers of no known gender, and quotes whose speaker is not known "
        "(default: the narrator)",
    )


class CastCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chapter: int = Field(default=0, ge=0, description="the quote's chapter, as /v1/text/cast says")
    start: int = Field(ge=0, description="the quote's `start`, as /v1/text/cast says")
    speaker: Label = Field(description="who says it: a character's name, or one of your own")


class JobCast(CastVoicesIn):
    """A job's cast: the voices, and corrections of who says a quote (POST /v1/text/cast
    finds them; explicit [voice:...] tags still win)."""

    corrections: list[CastCorrection] = Field(default_factory=list, max_length=MAX_CAST_CORRECTIONS)


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
    series: BookSeries | None = None
    series_index: SeriesIndex | None = None
    description: BookDescription | None = None
    year: BookYear | None = None
    isbn: Isbn | None = None
    cover: CoverText | None = None
    priority: int = Field(default=5, ge=0, le=9, description="0 to 9; higher runs sooner")
    queue: str | None = Field(
        default=None,
        max_length=200,
        description="The worker pool's queue to send the job to, one of the server's KQ_QUEUE "
        "and KQ_QUEUES (default: KQ_QUEUE)",
    )
    callback_url: CallbackUrl | None = None
    deliver: DeliverIn | None = None
    reuse: bool = Field(
        default=True,
        description="reuse chunk audio made before for the same words, voice and settings "
        "(KQ_CHUNK_REUSE says whose); false makes every chunk afresh",
    )
    proof: bool | None = Field(
        default=None,
        description="proof-listen: every chunk heard back by a speech recognizer, a doubtful "
        "one made again, one still doubtful flagged (GET /v1/jobs/{id}/proof); English only. "
        "Default: the server's KQ_PROOF",
    )
    ttl_hours: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TTL_HOURS,
        description="delete the job and its audio this many hours after it finishes "
        "(default: the server's KQ_JOB_RETENTION_DAYS, or kept until deleted)",
    )
    markup: Literal[MARKUP_MODES] = Field(
        default="none",
        description="how the text is read: plain (none), with [pause:1s] [voice:x] "
        "[word](/ipa/) tags, or as SSML",
    )
    pronunciations: Pronunciations | None = None
    cast: JobCast | CastName | None = Field(
        default=None,
        description="read the quotes by the characters' own voices (docs/cast.md): voices by "
        "character and gender, or the name of a saved cast (PUT /v1/casts/{name})",
    )
    headings: Literal["chapters", "text"] = Field(
        default="chapters",
        description="how `text` with Markdown headings (a line such as `# Title` or `## Title`, "
        "outside ``` code blocks; `#1` is no heading) is read: `chapters` splits it at the "
        "headings of the highest level used, titled by them, and reads it as an uploaded .md "
        f"file is (markup {' and '.join(HEADING_MARKUPS)}; tags are kept); `text` reads it as "
        "written, # lines and all",
    )
    _chapters_from_headings: bool = PrivateAttr(default=False)

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

    @model_validator(mode="after")
    def _read_headings(self) -> "JobCreate":
        # Here, so that a job, its preview, a batch's jobs and a revision's text all read the
        # headings alike; validation runs off the event loop, and the reading is linear
        if self.text is None or self.headings != "chapters":
            return self
        try:
            found = pasted_chapters(self.text, self.markup, self.title or "Opening")
        except BookError as error:
            raise ValueError(f"text: {error}") from error
        if found is None:
            return self
        if not found:
            raise ValueError(
                "text has # headings and nothing to read under them: write the text under its "
                'headings, or send "headings": "text" to read the # lines as text'
            )
        try:
            self.chapters = [ChapterIn(title=c.title, text=c.text) for c in found]
        except ValidationError as error:
            raise ValueError(f"text: a chapter its headings make is not valid: {error}") from error
        self.text = None
        self._chapters_from_headings = True
        return self

    @property
    def chapters_from_headings(self) -> bool:
        """Whether the chapters are those of the `text`'s Markdown headings."""
        return self._chapters_from_headings

    def pronunciation_entries(self) -> dict | None:
        """The pronunciations as core.speech.lexicon reads them."""
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

    def source(self) -> dict:
        """The request as stored with its job, to revise it later (POST .../revisions): all
        but the fields that belong to one submission (its webhook and queue), and the cover
        (the job keeps it in storage: jobs.cover_key)."""
        return self.model_dump(
            mode="json", exclude_none=True, exclude={"callback_url", "cover", "deliver"}
        )

    def cover_image(self) -> CoverImage | None:
        """The cover given, checked (by its validator); None for none."""
        return decoded_cover(self.cover) if self.cover else None


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
    revisions: str  # the book's revisions, this one among them

    @computed_field(description="the job as a read-along EPUB 3, once it has succeeded")
    @property
    def epub(self) -> str:
        return f"{self.self}/epub"


class DeliveryOut(BaseModel):
    """A delivery of the finished book (its settings and secrets are never shown)."""

    target: str = Field(description="where it goes: audiobookshelf")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None = Field(description="of the last failed attempt")
    delivered_at: datetime | None


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


class ProofFlag(BaseModel):
    """A chunk proof-listening still doubts after making it again: listen from `start_s`."""

    index: int = Field(description="the chunk's index")
    chapter: int = Field(description="its chapter, from 0")
    start_s: float | None = Field(
        description="where its speech starts in the finished file, in seconds; null until "
        "every chunk before it is made"
    )
    written: str = Field(description="the chunk's text as written")
    spoken: str = Field(description="what the model was given: the spoken form")
    heard: str = Field(description="what the speech recognizer heard")
    wer: float = Field(description="word errors over the spoken words")
    cer: float | None = Field(
        default=None,
        description="letter errors over the spoken letters: what decided the doubt (docs/proof.md)",
    )
    differences: list[dict] = Field(
        description='the runs of words that differ: [{"position", "said", "heard"}, ...]'
    )
    audio: str | None = Field(
        default=None,
        description="the finished file from this point: /v1/jobs/{id}/audio#t=start_s (a media "
        "fragment players seek to); null until placed",
    )


class ProofOut(BaseModel):
    """What proof-listening found in a job (docs/proof.md)."""

    chunks_checked: int = Field(description="chunks heard back (reused ones as they were made)")
    remade: int = Field(description="chunks made again because they were heard doubtfully")
    flagged_count: int = Field(description="chunks still doubtful: every flag")
    flagged: list[ProofFlag] = Field(
        description="the flags, by position: the first 100 (GET .../proof lists them all)"
    )
    book_wer: float | None = Field(
        description="word errors over the words of every checked chunk, as kept; null before any"
    )
    placed: bool = Field(description="true once every chunk is made and each flag is placed")


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
    series: str | None
    series_index: float | None
    description: str | None
    year: int | None
    isbn: str | None
    narrator: str = Field(description="who reads it, as its file's tags say: the voice")
    cover: str | None = Field(description="GET this for the cover image; null: it has none")
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
    deliveries: list[DeliveryOut] = Field(
        description="deliveries of the book (Audiobookshelf), once it has succeeded"
    )
    warnings: list[str] = Field(
        description="what may not sound as expected, e.g. a voice of another language than lang"
    )
    revision_of: str | None = Field(description="the job this one revises; null for a first")
    chunks_reused: int = Field(description="chunks whose audio was made before and reused")
    chunks_to_make: int = Field(description="chunks synthesized for this job")
    proof: ProofOut | None = Field(
        default=None, description="what proof-listening found; null when not proofed"
    )
    links: JobLinks


class RevisionCreate(BaseModel):
    """What changes in a revision of a job; everything not given stays as it was."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(
        default=None,
        description="the whole new text (a job made from `text`)",
        json_schema_extra=SPEAKABLE,
    )
    chapters: dict[Annotated[str, Field(pattern=r"^\d{1,4}$")], str] | None = Field(
        default=None,
        description='new texts of chapters by index from 0: {"3": "new text of chapter 4"}',
        max_length=MAX_JOB_CHAPTERS,
    )
    chapter_voices: dict[Annotated[str, Field(pattern=r"^\d{1,4}$")], Label] | None = Field(
        default=None,
        description='voices of chapters by index from 0: {"3": "am_adam"}',
        max_length=MAX_JOB_CHAPTERS,
    )
    pronunciations: Pronunciations | None = Field(
        default=None, description="entries added, or changed, over the job's own"
    )
    remove_pronunciations: list[Annotated[str, Field(max_length=MAX_WORD_CHARS)]] | None = Field(
        default=None, description="words whose entries go", max_length=MAX_JOB_PRONUNCIATIONS
    )
    voice: Label | None = None
    speed: Speed | None = None
    format: AudioFormat | None = None
    loudness: Loudness | None = None
    title: Label | None = None
    author: Label | None = None


class JobSource(BaseModel):
    """What a job was made from, as its revisions read it."""

    text: str | None = Field(description="the whole text, for a job made from `text`")
    chapters: list[ChapterIn] | None = Field(description="the chapters, for a job made from them")
    pronunciations: dict | None = Field(description="the job's own pronunciation entries")
    markup: str = Field(description="how the text is read: none, tags or ssml")


class ChunkChange(BaseModel):
    index: int = Field(description="the chunk's index in the revision")
    chapter: int
    before: str = Field(description="what the earlier revision said here (written); may be empty")
    after: str = Field(description="what the revision says (written)")


class RevisionPlan(BaseModel):
    """What a revision would make (``?dry_run=true``): nothing is stored."""

    revision_of: str
    chunks_total: int
    chunks_reused: int
    chunks_to_make: int
    changes: list[ChunkChange] = Field(description="the chunks that would be made, in order")


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
    speaker: str | None = Field(
        default=None, description="the character who says it (a job with a cast); null: narration"
    )
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
    chapters: list[str] | None = Field(
        default=None, description="the job's chapter titles, when it would have chapters"
    )
    chapters_from_headings: bool = Field(
        default=False, description="true when the chapters are the `text`'s Markdown # headings"
    )


class ProofFlagsOut(BaseModel):
    """GET /v1/jobs/{id}/proof: a proofed job's flags, a page at a time."""

    proof: ProofOut
    flags: list[ProofFlag] = Field(description="flagged chunks after `after`, by position")
    next_after: int | None = Field(description="give it as `after` for the next page; null: none")
