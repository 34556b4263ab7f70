"""/v1/text/cast: the characters of a text and who speaks each of its quotes (docs/cast.md).

The same body as a job (text or chapters, JSON or a book file); nothing is stored and no worker
is needed. A book's chapters are cast together, as one text, so that a character keeps one name
across them; each quote says its chapter and its offsets in that chapter's text.
"""

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth import authenticate
from api.deps import ApiKeyDep, ReadersDep
from api.errors import payload_too_large
from api.job_request import OPENAPI_JOB_BODY, JobRequestDep
from api.openapi import errors
from api.schemas import JobCreate
from api.submission import chapter_titles
from core.cast.book import cast_book

router = APIRouter(prefix="/v1/text", tags=["text"], dependencies=[Depends(authenticate)])


class CastCharacter(BaseModel):
    name: str = Field(description="the name the text uses most for them as a speaker")
    aliases: list[str] = Field(description="the other forms of the name found")
    gender: Literal["female", "male", "unknown"]
    mentions: int = Field(description="how often the text names them")
    lines: int = Field(description="how many quotes they speak")


class CastQuote(BaseModel):
    chapter: int = Field(description="the chapter's index (0 for a text read as one piece)")
    start: int = Field(description="the index of the opening mark in the chapter's text")
    end: int = Field(description="the index just after the closing mark")
    text: str = Field(description="the quote as written, its marks included")
    speaker: str | None = Field(description="a character's name; null when not known")
    confidence: float = Field(ge=0, le=1)
    attributed: bool = Field(description='an explicit tag ("said Jane") decided the speaker')


class CastOut(BaseModel):
    characters: list[CastCharacter] = Field(description="most lines first, then most mentions")
    quotes: list[CastQuote] = Field(description="in the order of the text")
    chapters: list[str] | None = Field(
        default=None, description="the job's chapter titles, when it would have chapters"
    )


@router.post(
    "/cast",
    response_model=CastOut,
    responses=errors(400, 401, 413, 415, 422),
    openapi_extra=OPENAPI_JOB_BODY,
)
async def cast(body: JobRequestDep, principal: ApiKeyDep, readers: ReadersDep) -> CastOut:
    """The characters a job with this body would have and the speaker of every quote (the same
    body as `POST /v1/jobs`; nothing is stored and no worker is needed)."""
    chars = sum(len(text) for text in body.texts())
    if chars > principal.max_text_chars:
        raise payload_too_large(
            f"text has {chars} characters; the limit is {principal.max_text_chars} "
            "(KQ_MAX_TEXT_CHARS, or the API key's own): cast the book in parts",
        )
    # Casting costs CPU time that grows with the text: in a reading process
    return await readers.read(_cast, body)


def _cast(body: JobCreate) -> CastOut:
    book = cast_book(body.texts(), body.markup)
    quotes = [
        CastQuote(
            chapter=q.chapter,
            start=q.start,
            end=q.end,
            text=q.text,
            speaker=q.speaker,
            confidence=q.confidence,
            attributed=q.attributed,
        )
        for q in book.quotes
    ]
    characters = [
        CastCharacter(
            name=c.name, aliases=c.aliases, gender=c.gender, mentions=c.mentions, lines=c.lines
        )
        for c in book.characters
    ]
    return CastOut(characters=characters, quotes=quotes, chapters=chapter_titles(body))
