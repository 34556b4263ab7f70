"""A finished book's tags, written into its file with mutagen: title, author, album, genre,
year, description, ISBN, series and place in it, narrator, and the cover image.

Tags are edited in place on disk, after the join has written the file and before it is stored
(a bucket gets the tagged file): the audio is never read into memory. Where a tag grows past
the room the file has for it, mutagen moves what follows on disk, a block at a time: cheap for
an M4B (its index, and so its tags, come after the audio), a copy of the file for an MP3 or
Ogg (their tags come first).

Each format gets the names its players read: iTunes atoms in an M4B (``covr``, ``©nam``,
``©ART``/``aART``, ``©alb``, ``©gen``, ``©day``, ``desc``/``©cmt``, ``©wrt`` and the
``----:com.apple.iTunes:*`` freeform ones Audiobookshelf reads, ``©mvn``/``©mvi`` series
movement, ``stik`` audiobook), ID3v2.4 frames in an MP3 (``APIC`` front cover, ``TIT2``,
``TPE1``/``TPE2``, ``TALB``, ``TCON``, ``TDRC``, ``COMM``, ``TCOM``, ``TXXX``, ``TIT1``,
``MVNM``/``MVIN``; the chapter frames CHAP and CTOC stay as they are), Vorbis comments in an
Ogg Opus or FLAC file (``METADATA_BLOCK_PICTURE``, ``TITLE``, ``ARTIST``...). A WAV gets none.
"""

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mutagen.flac import FLAC, Picture
from mutagen.id3 import (
    APIC,
    COMM,
    ID3,
    MVIN,
    MVNM,
    TALB,
    TCOM,
    TCON,
    TDRC,
    TIT1,
    TIT2,
    TPE1,
    TPE2,
    TXXX,
    ID3NoHeaderError,
)
from mutagen.mp4 import MP4, AtomDataType, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus

from core.audio.formats import AudioFormat
from core.books.covers import CoverError, CoverImage, checked_cover
from core.books.details import narrator
from storage.blob_store import BlobNotFound, BlobStore

log = logging.getLogger(__name__)

GENRE = "Audiobook"
ITUNES_AUDIOBOOK = 2  # stik: the media kind iTunes and Apple Books file it under
FRONT_COVER = 3  # the picture type of ID3 APIC and FLAC pictures
_FREEFORM = "----:com.apple.iTunes:"
_ID3_UTF8 = 3
_MP4_COVER_FORMATS = {"image/jpeg": MP4Cover.FORMAT_JPEG, "image/png": MP4Cover.FORMAT_PNG}


@dataclass(frozen=True)
class BookTags:
    """What a finished book's file says about it."""

    title: str | None
    author: str | None
    narrator: str
    series: str | None = None
    series_index: float | None = None
    description: str | None = None
    year: int | None = None
    isbn: str | None = None
    cover: CoverImage | None = None

    @classmethod
    def of(cls, title, author, voice: str, book_info: dict | None, cover=None) -> "BookTags":
        """The tags of a job: its title, author and voice, its jobs.book_info, its cover."""
        info = book_info or {}
        return cls(
            title=title,
            author=author,
            narrator=narrator(voice),
            series=info.get("series"),
            series_index=info.get("series_index"),
            description=info.get("description"),
            year=info.get("year"),
            isbn=info.get("isbn"),
            cover=cover,
        )

    @property
    def series_part(self) -> str | None:
        """The place in the series as written: 2, not 2.0; 2.5 as it is."""
        index = self.series_index
        if index is None:
            return None
        return str(int(index)) if float(index).is_integer() else str(index)

    def text_fields(self) -> dict[str, str]:
        """Tag name -> text of what is given, by the names Vorbis comments use."""
        fields = {
            "TITLE": self.title,
            "ALBUM": self.title,
            "ARTIST": self.author,
            "ALBUMARTIST": self.author,
            "GENRE": GENRE,
            "DATE": str(self.year) if self.year else None,
            "DESCRIPTION": self.description,
            "COMMENT": self.description,
            "ISBN": self.isbn,
            "SERIES": self.series,
            "SERIES-PART": self.series_part if self.series else None,
            "COMPOSER": self.narrator,
            "NARRATOR": self.narrator,
        }
        return {name: value for name, value in fields.items() if value}


def _tag_m4b(path: Path, book: BookTags) -> None:
    audio = MP4(path)
    tags = audio.tags
    if tags is None:
        audio.add_tags()
        tags = audio.tags
    fields = book.text_fields()
    atoms = {
        "\xa9nam": "TITLE",
        "\xa9alb": "ALBUM",
        "\xa9ART": "ARTIST",
        "aART": "ALBUMARTIST",
        "\xa9gen": "GENRE",
        "\xa9day": "DATE",
        "desc": "DESCRIPTION",
        "\xa9cmt": "COMMENT",
        "\xa9wrt": "COMPOSER",
        "\xa9grp": "SERIES",
        "\xa9mvn": "SERIES",
    }
    for atom, name in atoms.items():
        if name in fields:
            tags[atom] = [fields[name]]
    for name in ("ISBN", "SERIES", "SERIES-PART", "NARRATOR"):
        if name in fields:
            tags[_FREEFORM + name] = [
                MP4FreeForm(fields[name].encode(), dataformat=AtomDataType.UTF8)
            ]
    if book.series and book.series_index is not None and float(book.series_index).is_integer():
        tags["\xa9mvi"] = [int(book.series_index)]
    tags["stik"] = [ITUNES_AUDIOBOOK]
    if book.cover is not None:
        image_format = _MP4_COVER_FORMATS[book.cover.media_type]
        tags["covr"] = [MP4Cover(book.cover.data, imageformat=image_format)]
    audio.save()


def _tag_mp3(path: Path, book: BookTags) -> None:
    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()
    fields = book.text_fields()
    frames = {
        "TITLE": TIT2,
        "ALBUM": TALB,
        "ARTIST": TPE1,
        "ALBUMARTIST": TPE2,
        "GENRE": TCON,
        "DATE": TDRC,
        "COMPOSER": TCOM,
        "SERIES": TIT1,  # the content group: the series, as players group by it
    }
    for name, frame in frames.items():
        if name in fields:
            tags.setall(frame.__name__, [frame(encoding=_ID3_UTF8, text=[fields[name]])])
    if book.series:
        tags.setall("MVNM", [MVNM(encoding=_ID3_UTF8, text=[book.series])])
        if book.series_part is not None and book.series_part.isdecimal():
            tags.setall("MVIN", [MVIN(encoding=_ID3_UTF8, text=[book.series_part])])
    if book.description:
        tags.setall(
            "COMM", [COMM(encoding=_ID3_UTF8, lang="eng", desc="", text=[book.description])]
        )
    for name in ("ISBN", "SERIES", "SERIES-PART", "NARRATOR"):
        if name in fields:
            tags.setall(f"TXXX:{name}", [TXXX(encoding=_ID3_UTF8, desc=name, text=[fields[name]])])
    if book.cover is not None:
        tags.setall(
            "APIC",
            [
                APIC(
                    encoding=_ID3_UTF8,
                    mime=book.cover.media_type,
                    type=FRONT_COVER,
                    desc="Cover",
                    data=book.cover.data,
                )
            ],
        )
    # Other frames the file has (the encoder's, chapters' CHAP and CTOC) are kept as they are
    tags.save(path, v2_version=4)


def _picture(cover: CoverImage) -> Picture:
    picture = Picture()
    picture.type = FRONT_COVER
    picture.mime = cover.media_type
    picture.desc = "Cover"
    picture.data = cover.data
    return picture


def _vorbis_comments(tags, book: BookTags) -> None:
    for name, value in book.text_fields().items():
        tags[name] = [value]


def _tag_opus(path: Path, book: BookTags) -> None:
    audio = OggOpus(path)
    _vorbis_comments(audio.tags, book)
    if book.cover is not None:
        # An Ogg file carries its picture as a FLAC picture block in base64, in a comment
        block = base64.b64encode(_picture(book.cover).write()).decode("ascii")
        audio.tags["METADATA_BLOCK_PICTURE"] = [block]
    audio.save()


def _tag_flac(path: Path, book: BookTags) -> None:
    audio = FLAC(path)
    if audio.tags is None:
        audio.add_tags()
    _vorbis_comments(audio.tags, book)
    if book.cover is not None:
        audio.clear_pictures()
        audio.add_picture(_picture(book.cover))
    audio.save()


TAGGERS: dict[AudioFormat, Callable[[Path, BookTags], None]] = {
    AudioFormat.M4B: _tag_m4b,
    AudioFormat.MP3: _tag_mp3,
    AudioFormat.OPUS: _tag_opus,
    AudioFormat.FLAC: _tag_flac,
}


def write_book_tags(path: Path, fmt: AudioFormat, book: BookTags) -> None:
    """Write ``book``'s tags into the finished file at ``path`` (of ``fmt``), in place."""
    tagger = TAGGERS.get(fmt)
    if tagger is not None:
        tagger(path, book)


def stored_cover(store: BlobStore, key: str | None) -> CoverImage | None:
    """The job's cover from storage (storage/covers.py); None for none, or one that is gone
    or not an image any more: the book is made without it rather than not at all."""
    if not key:
        return None
    try:
        return checked_cover(store.get(key))
    except (BlobNotFound, CoverError) as error:
        log.warning("the cover %s is left out of the book: %r", key, error)
        return None
