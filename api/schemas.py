"""Request and response bodies of the HTTP API (apart from the ORM rows in storage/)."""

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from core.audio_formats import AudioFormat
from core.text import has_speakable_text

MAX_BATCH_JOBS = 100

Speed = Annotated[float, Field(ge=0.5, le=2.0, description="0.5 (slow) to 2.0 (fast)")]


def _printable(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


# A short single-line name: titles, voices
Label = Annotated[str, Field(max_length=500), AfterValidator(_printable)]


def _speakable(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty; send the text to speak")
    if not has_speakable_text(value):
        raise ValueError("text has nothing speakable (no letters or digits)")
    return value


class ChapterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Label | None = None
    text: str

    _check_text = field_validator("text")(_speakable)


class JobCreate(BaseModel):
    """A text (or chapters) to synthesize into one audio file."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="The whole text; or give `chapters`")
    chapters: list[ChapterIn] | None = Field(default=None, min_length=1)
    voice: Label | None = None
    speed: Speed = 1.0
    lang: Literal["en-us", "en-gb"] = "en-us"
    format: AudioFormat = AudioFormat.WAV
    title: Label | None = None
    author: Label | None = None
    priority: int = Field(default=5, ge=0, le=9, description="0 to 9; higher runs sooner")

    @field_validator("text")
    @classmethod
    def _check_text(cls, value: str | None) -> str | None:
        return None if value is None else _speakable(value)

    @model_validator(mode="after")
    def _text_or_chapters(self) -> "JobCreate":
        if (self.text is None) == (self.chapters is None):
            raise ValueError("give either `text` or `chapters`, not both and not neither")
        return self

    def texts(self) -> list[str]:
        if self.chapters is not None:
            return [c.text for c in self.chapters]
        return [self.text or ""]


class Progress(BaseModel):
    chunks_done: int
    chunks_total: int
    chars_done: int
    chars_total: int
    percent: float


class JobLinks(BaseModel):
    self: str
    audio: str


class JobOut(BaseModel):
    id: str
    status: str
    voice: str
    speed: float
    lang: str
    format: AudioFormat
    title: str | None
    author: str | None
    chapters: list[str] | None = Field(description="chapter titles, when the job has chapters")
    priority: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: Progress
    audio_seconds: float | None
    wall_seconds: float | None
    realtime_factor: float | None
    eta_seconds: float | None
    error: str | None
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


class VoiceOut(BaseModel):
    name: str
    language: str
    default: bool
