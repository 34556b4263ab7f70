"""A book's cover and details, from an uploaded EPUB or a JSON job, in the finished files of
real synthesized jobs: read back with mutagen and with FFmpeg (PyAV), M4B and MP3 alike, and
the Ogg Opus cover."""

import base64
from pathlib import Path

import av
import pytest
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus

from tests.cover_images import jpeg_image, png_image
from tests.epub_factory import CHAPTERS, build_epub

# Tags and covers; the database plays no part in them
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

JPEG = jpeg_image(24, 32)
PNG = png_image(12, 16)
EPUB_DETAILS = {
    "description": "<p>A town by the sea, its boats and its market.</p>",
    "date": "2021-06-01",
    "identifier": "urn:isbn:978-0-306-40615-7",
    "series": "Harbour Tales",
    "series_index": "2",
}


def finished_file(stack, http, job: dict, path: Path) -> Path:
    finished = stack.wait_for_job(job["id"])
    assert finished["status"] == "succeeded", finished["error"]
    path.write_bytes(http.get(f"/v1/jobs/{job['id']}/audio").content)
    return path


def attached_picture(path: Path) -> bytes:
    """The cover as FFmpeg reads it: the packet of the file's attached-picture stream."""
    with av.open(str(path)) as container:
        pictures = [
            s for s in container.streams if s.disposition & av.stream.Disposition.attached_pic
        ]
        assert len(pictures) == 1, [s.type for s in container.streams]
        packet = next(p for p in container.demux(pictures[0]) if p.size)
        return bytes(packet)


def ffmpeg_tags(path: Path) -> dict[str, str]:
    """The container's tags as FFmpeg reads them, names in lower case."""
    with av.open(str(path)) as container:
        tags = dict(container.metadata)
        for stream in container.streams.audio:  # Ogg keeps its comments on the stream
            tags.update(stream.metadata)
    return {name.lower(): value for name, value in tags.items()}


def test_an_epub_cover_and_details_land_in_the_m4b_and_the_mp3(stack, tmp_path):
    epub = build_epub(cover=JPEG, details=EPUB_DETAILS)
    with stack.client() as http:
        m4b = http.post(
            "/v1/jobs",
            files={"file": ("harbour.epub", epub, "application/epub+zip")},
            data={"format": "m4b"},
        ).json()
        # The form's own details win over the book's
        mp3 = http.post(
            "/v1/jobs",
            files={"file": ("harbour.epub", epub, "application/epub+zip")},
            data={"format": "mp3", "series": "Form Series", "series_index": "3", "year": "1999"},
        ).json()
        assert m4b["series"] == "Harbour Tales" and m4b["isbn"] == "9780306406157", m4b
        assert mp3["series"] == "Form Series" and mp3["year"] == 1999, mp3
        assert http.get(m4b["cover"]).content == JPEG
        m4b_path = finished_file(stack, http, m4b, tmp_path / "book.m4b")
        mp3_path = finished_file(stack, http, mp3, tmp_path / "book.mp3")

    narrator = m4b["voice"]
    tags = MP4(m4b_path).tags
    assert bytes(tags["covr"][0]) == JPEG
    assert tags["\xa9nam"] == ["A Harbour Town"] and tags["\xa9alb"] == ["A Harbour Town"]
    assert tags["\xa9ART"] == ["Ada Example"] and tags["aART"] == ["Ada Example"]
    assert tags["\xa9gen"] == ["Audiobook"] and tags["\xa9day"] == ["2021"]
    assert tags["desc"] == ["A town by the sea, its boats and its market."]
    assert tags["\xa9wrt"] == [narrator] and tags["\xa9mvn"] == ["Harbour Tales"]
    assert tags["\xa9mvi"] == [2]
    assert bytes(tags["----:com.apple.iTunes:ISBN"][0]) == b"9780306406157"
    assert bytes(tags["----:com.apple.iTunes:SERIES"][0]) == b"Harbour Tales"
    assert bytes(tags["----:com.apple.iTunes:NARRATOR"][0]) == narrator.encode()
    read = ffmpeg_tags(m4b_path)
    assert (read["title"], read["artist"], read["album"]) == (
        "A Harbour Town",
        "Ada Example",
        "A Harbour Town",
    )
    assert (read["genre"], read["date"], read["composer"]) == ("Audiobook", "2021", narrator)
    assert (read["isbn"], read["series"], read["series-part"]) == (
        "9780306406157",
        "Harbour Tales",
        "2",
    )
    assert read["description"] == "A town by the sea, its boats and its market."
    assert attached_picture(m4b_path) == JPEG
    with av.open(str(m4b_path)) as container:  # the chapter marks outlive the tagging
        titles = [chapter["metadata"]["title"] for chapter in container.chapters()]
        assert titles == [title for title, _ in CHAPTERS]

    tags = ID3(mp3_path)
    picture = tags.getall("APIC")[0]
    assert (picture.type, picture.mime, picture.data) == (3, "image/jpeg", JPEG)
    assert tags["TIT2"].text == ["A Harbour Town"] and tags["TPE1"].text == ["Ada Example"]
    assert tags["TALB"].text == ["A Harbour Town"] and tags["TCON"].text == ["Audiobook"]
    assert str(tags["TDRC"].text[0]) == "1999" and tags["TCOM"].text == [narrator]
    assert tags["TXXX:SERIES"].text == ["Form Series"] and tags["MVIN"].text == ["3"]
    assert tags["TXXX:ISBN"].text == ["9780306406157"]
    assert tags["COMM::eng"].text == ["A town by the sea, its boats and its market."]
    read = ffmpeg_tags(mp3_path)
    assert (read["title"], read["artist"], read["album"], read["date"]) == (
        "A Harbour Town",
        "Ada Example",
        "A Harbour Town",
        "1999",
    )
    assert (read["series"], read["isbn"], read["narrator"]) == (
        "Form Series",
        "9780306406157",
        narrator,
    )
    assert read["comment"] == "A town by the sea, its boats and its market."
    assert attached_picture(mp3_path) == JPEG


def test_a_json_job_cover_lands_in_its_ogg_opus(stack, tmp_path):
    cover = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
    with stack.client() as http:
        answer = http.post(
            "/v1/jobs",
            json={
                "text": "The lighthouse keeper climbed the stairs at dusk.",
                "format": "opus",
                "title": "The Lighthouse",
                "author": "Bo Writer",
                "series": "Coast",
                "isbn": "0-306-40615-2",
                "cover": cover,
            },
        )
        assert answer.status_code == 202, answer.text
        path = finished_file(stack, http, answer.json(), tmp_path / "book.ogg")
    audio = OggOpus(path)
    picture = Picture(base64.b64decode(audio.tags["METADATA_BLOCK_PICTURE"][0]))
    assert (picture.type, picture.mime, picture.data) == (3, "image/png", PNG)
    assert audio.tags["TITLE"] == ["The Lighthouse"] and audio.tags["ARTIST"] == ["Bo Writer"]
    assert audio.tags["SERIES"] == ["Coast"] and audio.tags["ISBN"] == ["0306406152"]
    assert attached_picture(path) == PNG  # FFmpeg reads it too
