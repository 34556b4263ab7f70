"""/v1/feeds: a key's finished books as a private podcast feed.

Podcast apps cannot send headers, so the feed and the files it links to are reached by a token
in the URL: made, listed and revoked with the API key (``POST``, ``GET``, ``DELETE /v1/feeds``),
shown once, stored as its SHA-256. An unknown or revoked token answers 404 like any missing
page. The feed's links carry the token too: each book's audio (``Range`` served), its chapters
(Podcasting 2.0 JSON chapters) and its cover.
"""

import hashlib
import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.auth import authenticate
from api.book_details import read_cover
from api.deps import ApiKeyDep, SessionDep, SettingsDep, StoreDep
from api.downloads import audio_download
from api.errors import conflict, missing
from api.openapi import NOT_MODIFIED, audio_file, errors, text_file
from core.audio.formats import AudioFormat
from core.books.covers import IMAGE_MEDIA_TYPES, image_extension
from core.publish.chapters_json import CHAPTERS_MEDIA_TYPE, encode_chapters
from core.publish.feed import (
    MAX_EPISODES,
    RSS_MEDIA_TYPE,
    Channel,
    Episode,
    book_description,
    build_feed,
)
from infra.settings import Settings
from storage.db import transaction
from storage.feeds import (
    MAX_ACTIVE_FEED_TOKENS,
    FeedBook,
    active_feed_tokens,
    chapter_marks,
    create_feed_token,
    feed_owner,
    finished_book,
    finished_books,
    list_feed_tokens,
    owner_name,
    revoke_feed_token,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])

NO_FEED = (404, "No such feed: the token is unknown or revoked")
NO_BOOK = (404, "No such feed, or it has no such finished book (or file)")
# Apps poll feeds; a minute's cache spares the database without hiding a new book for long
FEED_CACHE = "private, max-age=60"


class FeedTokenOut(BaseModel):
    id: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool


class FeedTokenCreated(FeedTokenOut):
    token: str = Field(description="the secret of the feed's URL; shown only now")
    url: str = Field(description="the feed, to subscribe to in a podcast app")


def _base_url(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _token_out(row) -> FeedTokenOut:
    return FeedTokenOut(
        id=row.id,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        active=row.revoked_at is None,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedTokenCreated,
    dependencies=[Depends(authenticate)],
    responses=errors((409, f"The key has {MAX_ACTIVE_FEED_TOKENS} active feed tokens already")),
)
def create(request: Request, settings: SettingsDep, principal: ApiKeyDep) -> FeedTokenCreated:
    """A new feed token for this key's finished books. The token and its feed's URL are shown
    only in this answer; revoke it with `DELETE /v1/feeds/{id}`."""
    with transaction(settings.sqlalchemy_url) as session:
        if active_feed_tokens(session, principal.owner) >= MAX_ACTIVE_FEED_TOKENS:
            raise conflict(
                f"this key has {MAX_ACTIVE_FEED_TOKENS} active feed tokens, the most it may "
                "have: revoke one it no longer uses (DELETE /v1/feeds/{id})"
            )
        created = create_feed_token(session, principal.owner)
        out = _token_out(created.row)
    return FeedTokenCreated(
        **out.model_dump(),
        token=created.token,
        url=f"{_base_url(request, settings)}/v1/feeds/{created.token}.xml",
    )


@router.get("", response_model=list[FeedTokenOut], dependencies=[Depends(authenticate)])
def list_(session: SessionDep, principal: ApiKeyDep) -> list[FeedTokenOut]:
    """This key's feed tokens, newest first, revoked ones too (never the tokens themselves)."""
    return [_token_out(row) for row in list_feed_tokens(session, principal.owner)]


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(authenticate)],
    responses=errors((404, "This key has no feed token with this id")),
)
def revoke(token_id: str, settings: SettingsDep, principal: ApiKeyDep) -> Response:
    """Revoke a feed token (by its id): its feed and links answer 404 from now on."""
    with transaction(settings.sqlalchemy_url) as session:
        row = revoke_feed_token(session, principal.owner, token_id)
    if row is None:
        raise missing("this key has no feed token with that id: GET /v1/feeds lists them")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _owner(session: Session, token: str) -> str:
    owner = feed_owner(session, token)
    if owner is None:  # the token itself is never repeated back
        raise missing("no such feed: its token is unknown or was revoked")
    return owner


def _book(session: Session, token: str, job_id: str) -> FeedBook:
    book = finished_book(session, _owner(session, token), job_id)
    if book is None:
        raise missing(f"the feed has no finished book {job_id}")
    return book


def _episode(base: str, token: str, book: FeedBook) -> Episode:
    fmt = AudioFormat(book.format)
    links = f"{base}/v1/feeds/{token}/{book.id}"
    cover = image_extension(book.cover_key) if book.cover_key else None
    title = book.title or f"Untitled ({book.id})"
    return Episode(
        guid=book.id,
        title=title,
        description=book_description(
            title=title,
            author=book.author,
            voice=book.voice,
            duration_seconds=book.audio_seconds,
            chapters=book.chapters,
            book_info=book.book_info,
        ),
        published_at=book.finished_at or book.created_at,
        audio_url=f"{base}/v1/feeds/{token}/{book.id}.{fmt.extension}",
        audio_bytes=book.audio_bytes or 0,
        media_type=fmt.media_type,
        duration_seconds=book.audio_seconds,
        author=book.author,
        image_url=f"{links}/cover.{cover}" if cover else None,
        chapters_url=f"{links}/chapters.json" if book.chapters else None,
    )


@router.get(
    "/{token}.xml",
    response_class=Response,
    responses={
        **text_file([RSS_MEDIA_TYPE], "The feed: RSS 2.0 with iTunes and Podcasting 2.0 tags"),
        **NOT_MODIFIED,
        **errors(NO_FEED),
    },
)
def feed(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The feed: the token's key's finished books (the newest 500), newest first, each an
    episode with its audio, duration, cover, description and chapters."""
    owner = _owner(session, token)
    books = finished_books(session, owner, MAX_EPISODES)
    name = owner_name(session, owner)
    base = _base_url(request, settings)
    episodes = [_episode(base, token, book) for book in books]
    channel = Channel(
        title=f"kokoro-queue audiobooks: {name}" if name else "kokoro-queue audiobooks",
        description="Books read aloud by kokoro-queue, newest first.",
        link=f"{base}/",
        self_url=f"{base}/v1/feeds/{token}.xml",
        author="kokoro-queue",
        image_url=next((e.image_url for e in episodes if e.image_url), None),
    )
    # Built "when" its newest book finished: the same books make the same bytes, so an app
    # that polls gets 304 until something changed
    newest = max((e.published_at for e in episodes), default=None)
    body = build_feed(channel, episodes, built_at=newest)
    headers = {
        "Cache-Control": FEED_CACHE,
        "ETag": '"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    }
    if if_none_match and headers["ETag"] in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type=f"{RSS_MEDIA_TYPE}; charset=utf-8", headers=headers)


BOOK_AUDIO = audio_file("The book's audio, the feed's enclosure")


@router.get(
    "/{token}/{job_id}.{extension}",
    response_class=Response,
    responses={**BOOK_AUDIO["responses"], **errors(NO_BOOK)},
    openapi_extra=BOOK_AUDIO["openapi_extra"],
)
@router.head("/{token}/{job_id}.{extension}", include_in_schema=False)
def audio(
    token: str, job_id: str, extension: str, request: Request, session: SessionDep, store: StoreDep
) -> Response:
    """The book's audio file (the enclosure the feed names), `Range` served."""
    book = _book(session, token, job_id)
    fmt = AudioFormat(book.format)
    if extension != fmt.extension:
        raise missing(f"book {job_id} is a .{fmt.extension} file, not .{extension}")
    return audio_download(
        store,
        book.audio_key,
        fmt.media_type,
        filename=f"{book.title or book.id}.{fmt.extension}",
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
    )


@router.get(
    "/{token}/{job_id}/chapters.json",
    response_class=Response,
    responses={
        200: {
            "description": "Podcasting 2.0 JSON chapters: "
            '`{"version": "1.2.0", "chapters": [{"startTime", "endTime", "title"}, ...]}`',
            "content": {CHAPTERS_MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **errors(NO_BOOK),
    },
)
def chapters(token: str, job_id: str, session: SessionDep) -> Response:
    """Where each chapter of the book starts and ends, in seconds, as podcast apps read it."""
    book = _book(session, token, job_id)
    body = encode_chapters(chapter_marks(session, book))
    return Response(body, media_type=CHAPTERS_MEDIA_TYPE, headers={"Cache-Control": FEED_CACHE})


@router.get(
    "/{token}/{job_id}/cover.{extension}",
    response_class=Response,
    responses={
        200: {
            "description": "The book's cover image",
            "content": dict.fromkeys(
                sorted(set(IMAGE_MEDIA_TYPES.values())),
                {"schema": {"type": "string", "format": "binary"}},
            ),
        },
        **errors(NO_BOOK, (503, "Storage could not be read; retry later")),
    },
)
def cover(token: str, job_id: str, extension: str, session: SessionDep, store: StoreDep):
    """The book's cover, when it has one."""
    book = _book(session, token, job_id)
    stored = image_extension(book.cover_key) if book.cover_key else None
    if stored is None or extension != stored:
        raise missing(f"book {job_id} has no .{extension} cover")
    data = read_cover(store, book.cover_key, f"book {job_id}")
    return Response(
        data,
        media_type=IMAGE_MEDIA_TYPES[stored],
        headers={"Cache-Control": FEED_CACHE, "X-Content-Type-Options": "nosniff"},
    )
