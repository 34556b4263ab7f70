"""A book's details and cover in-process: ISBNs checked, covers known by their first bytes and
capped in size, an EPUB's own details and cover found (EPUB 2 and EPUB 3 shapes), a job that
shows them, a cover route that only the job's key reaches, and the tags written into each
format's file (encoded here; no worker or model)."""

import base64
from pathlib import Path

import av
import numpy as np
import pytest
from mutagen.flac import FLAC
from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus

from core.audio.formats import AudioFormat
from core.books.covers import MAX_COVER_BYTES, CoverError, CoverImage, checked_cover
from core.books.details import IsbnError, normalized_isbn
from core.text.epub import read_epub
from tests.cover_images import jpeg_image, png_image
from tests.epub_factory import build_epub, raw_epub, xhtml
from tests.support.fast import api_for, detail_text, fast_settings, without_shell_settings
from worker.audio import encode_run
from worker.tags import BookTags, write_book_tags

pytestmark = pytest.mark.fast

PNG = png_image()
JPEG = jpeg_image()
ALICE = {"Authorization": "Bearer alice-key-0123456789"}
BOB = {"Authorization": "Bearer bob-key-0123456789"}
DETAILS = {
    "series": "Harbour Tales",
    "series_index": 2,
    "description": "A town by the sea.\nIts boats and its market.",
    "year": 2021,
    "isbn": "978-0-306-40615-7",
}


@pytest.fixture
def api(tmp_path):
    with without_shell_settings():
        yield api_for(
            fast_settings(tmp_path, api_keys="alice=alice-key-0123456789,bob=bob-key-0123456789")
        )


def data_url(image: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(image).decode()}"


def submit(api, headers=ALICE, **fields) -> dict:
    answer = api.http.post("/v1/jobs", json={"text": "Hello there.", **fields}, headers=headers)
    assert answer.status_code == 202, answer.text
    return answer.json()


def covers(api) -> list[str]:
    folder = api.settings.storage_dir / "covers"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- ISBNs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, kept",
    [
        ("978-0-306-40615-7", "9780306406157"),
        ("9780306406157", "9780306406157"),
        ("0-306-40615-2", "0306406152"),
        ("0 8044 2957 x", "080442957X"),  # check digit X, any case
        ("urn:isbn:978-0-306-40615-7", "9780306406157"),
    ],
)
def test_valid_isbns_are_kept_as_digits(written, kept):
    assert normalized_isbn(written) == kept


@pytest.mark.parametrize(
    "written, says",
    [
        ("978-0-306-40615-8", "ISBN-13: its check digit"),
        ("0-306-40615-3", "ISBN-10: its check digit"),
        ("12345", "is not an ISBN"),
        ("97803064061X7", "is not an ISBN"),
        ("٩٧٨٠٣٠٦٤٠٦١٥٧", "is not an ISBN"),  # Arabic-Indic digits are not an ISBN's
    ],
)
def test_invalid_isbns_say_what_is_wrong(written, says):
    with pytest.raises(IsbnError, match=says):
        normalized_isbn(written)


def test_an_isbn_with_a_wrong_check_digit_is_a_422_naming_it(api, unchanged_covers):
    answer = api.http.post(
        "/v1/jobs", json={"text": "Hello.", "isbn": "978-0-306-40615-8"}, headers=ALICE
    )
    assert answer.status_code == 422
    assert "isbn" in detail_text(answer) and "check digit does not match" in detail_text(answer)


@pytest.fixture
def unchanged_covers(api):
    yield
    assert covers(api) == []


# --- covers: what is accepted ---------------------------------------------------------------


def test_covers_are_known_by_their_first_bytes():
    assert checked_cover(PNG).media_type == "image/png"
    assert checked_cover(JPEG).media_type == "image/jpeg"
    assert checked_cover(JPEG).extension == "jpg"
    for not_an_image in (b"GIF89a" + bytes(20), b"<svg/>", b"", b"\x89PNG"):
        with pytest.raises(CoverError, match="not a JPEG or PNG"):
            checked_cover(not_an_image)
    with pytest.raises(CoverError) as error:
        checked_cover(b"\xff\xd8\xff" + bytes(MAX_COVER_BYTES))
    assert error.value.too_large


def test_a_cover_file_that_is_not_an_image_is_a_415(api, unchanged_covers):
    answer = api.http.post(
        "/v1/jobs",
        files={"file": ("b.txt", b"Hello there."), "cover": ("c.jpg", b"GIF89a....", "image/jpeg")},
        headers=ALICE,
    )
    assert answer.status_code == 415
    assert "not a JPEG or PNG" in detail_text(answer)


def test_a_cover_file_over_the_cap_is_a_413(api, unchanged_covers):
    too_big = JPEG + bytes(MAX_COVER_BYTES)
    answer = api.http.post(
        "/v1/jobs",
        files={"file": ("b.txt", b"Hello there."), "cover": ("c.jpg", too_big, "image/jpeg")},
        headers=ALICE,
    )
    assert answer.status_code == 413
    assert f"{MAX_COVER_BYTES:,}" in detail_text(answer)


def test_a_json_cover_must_be_base64_of_a_jpeg_or_png_within_the_cap(api, unchanged_covers):
    cases = {
        "not base64 at all!": "neither a data: URL nor base64",
        data_url(b"GIF89a" + bytes(10), "image/gif"): "not a JPEG or PNG",
        "data:image/png,rawbytes": "must be base64",
        data_url(JPEG + bytes(MAX_COVER_BYTES), "image/jpeg"): f"{MAX_COVER_BYTES:,}",
    }
    for cover, says in cases.items():
        answer = api.http.post("/v1/jobs", json={"text": "Hello.", "cover": cover}, headers=ALICE)
        assert answer.status_code == 422, cover[:40]
        assert says in detail_text(answer)


def test_an_empty_cover_file_part_is_no_cover(api):
    answer = api.http.post(
        "/v1/jobs",
        files={"file": ("b.txt", b"Hello there."), "cover": ("", b"", "application/octet-stream")},
        headers=ALICE,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["cover"] is None


# --- an EPUB's own details and cover --------------------------------------------------------------


def test_an_epub_3_gives_its_cover_and_details():
    book = read_epub(
        build_epub(
            cover=JPEG,
            details={
                "description": "<p>A town <b>by</b> the sea.</p><p>Its boats.</p>",
                "date": "2019-05-01",
                "identifier": "978-0-306-40615-7",
                "series": "Harbour Tales",
                "series_index": "3",
            },
        )
    )
    assert book.cover == JPEG
    assert book.description == "A town by the sea.\n\nIts boats."
    assert (book.year, book.isbn, book.series, book.series_index) == (
        2019,
        "9780306406157",
        "Harbour Tales",
        3.0,
    )
    assert [c.title for c in book.chapters] == ["The Harbour", "The Market", "The Night"]


def test_an_epub_2_names_its_cover_with_a_meta():
    metadata = (
        "<dc:title>Old Book</dc:title><dc:language>en</dc:language>"
        '<dc:identifier opf:scheme="ISBN" xmlns:opf="http://www.idpf.org/2007/opf">'
        "0-306-40615-2</dc:identifier>"
        "<dc:date>1999</dc:date>"
        '<meta name="cover" content="cover-image-id"/>'
    )
    data = raw_epub(
        {"a.xhtml": xhtml("<p>Hello world.</p>")},
        metadata=metadata,
        extra_items='<item id="cover-image-id" href="images/c.png" media-type="image/png"/>',
        extra_files={"images/c.png": PNG},
    )
    book = read_epub(data)
    assert book.cover == PNG
    assert (book.isbn, book.year) == ("0306406152", 1999)
    assert book.series is None and book.description is None


def test_an_epub_3_series_is_its_collection_with_its_position():
    metadata = (
        "<dc:title>New Book</dc:title><dc:language>en</dc:language>"
        '<meta property="belongs-to-collection" id="c01">The Long Road</meta>'
        '<meta refines="#c01" property="collection-type">series</meta>'
        '<meta refines="#c01" property="group-position">4.5</meta>'
    )
    book = read_epub(raw_epub({"a.xhtml": xhtml("<p>Hello world.</p>")}, metadata=metadata))
    assert (book.series, book.series_index) == ("The Long Road", 4.5)
    # An identifier that is no ISBN (a UUID, a bare number) is not taken for one
    plain = raw_epub({"a.xhtml": xhtml("<p>Hello.</p>")})  # dc:identifier kq-raw
    assert read_epub(plain).isbn is None


@pytest.mark.parametrize(
    "image", [b"GIF89a" + bytes(40), JPEG + bytes(MAX_COVER_BYTES)], ids=["gif", "too-large"]
)
def test_a_cover_that_cannot_be_used_is_left_out_and_the_book_read(image):
    data = raw_epub(
        {"a.xhtml": xhtml("<p>Hello world.</p>")},
        extra_items='<item id="c" href="c.jpg" media-type="image/jpeg" properties="cover-image"/>',
        extra_files={"c.jpg": image},
    )
    book = read_epub(data)
    assert book.cover is None and book.chapters


# --- a job shows its details; its cover is its key's ----------------------------------------


def test_a_job_shows_its_details_and_serves_its_cover_to_its_key_only(api):
    job = submit(api, **DETAILS, cover=data_url(PNG))
    assert {name: job[name] for name in DETAILS} == {**DETAILS, "isbn": "9780306406157"}
    assert job["narrator"] == job["voice"]
    assert job["cover"] == f"/v1/jobs/{job['id']}/cover"
    assert api.http.get(f"/v1/jobs/{job['id']}", headers=ALICE).json()["series"] == "Harbour Tales"

    mine = api.http.get(job["cover"], headers=ALICE)
    assert mine.status_code == 200 and mine.content == PNG
    assert mine.headers["content-type"] == "image/png"
    others = api.http.get(job["cover"], headers=BOB)
    assert others.status_code == 404 and "not found" in detail_text(others)
    assert api.http.get(job["cover"]).status_code == 401

    plain = submit(api)
    assert plain["cover"] is None and plain["series"] is None
    assert api.http.get(f"/v1/jobs/{plain['id']}/cover", headers=ALICE).status_code == 404

    # Deleting the job deletes its cover
    assert covers(api) == [f"{job['id']}.png"]
    assert api.http.delete(f"/v1/jobs/{job['id']}", headers=ALICE).status_code == 204
    assert covers(api) == []


def test_an_epub_upload_fills_what_the_form_does_not_give(api):
    epub = build_epub(
        cover=JPEG,
        details={"description": "<p>From the book.</p>", "date": "2019", "series": "Tales"},
    )
    answer = api.http.post(
        "/v1/jobs",
        files={"file": ("harbour.epub", epub, "application/epub+zip")},
        data={"series": "Form Series", "series_index": "7"},
        headers=ALICE,
    )
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["series"], job["series_index"], job["year"]) == ("Form Series", 7.0, 2019)
    assert job["description"] == "From the book."
    assert api.http.get(job["cover"], headers=ALICE).content == JPEG

    # A cover file of the form wins over the book's own
    answer = api.http.post(
        "/v1/jobs",
        files={"file": ("harbour.epub", epub), "cover": ("mine.png", PNG, "image/png")},
        headers=ALICE,
    )
    assert answer.status_code == 202, answer.text
    cover = api.http.get(answer.json()["cover"], headers=ALICE)
    assert cover.content == PNG and cover.headers["content-type"] == "image/png"


def test_a_revision_keeps_the_details_and_a_copy_of_the_cover(api):
    job = submit(api, **DETAILS, cover=data_url(JPEG, "image/jpeg"))
    answer = api.http.post(f"/v1/jobs/{job['id']}/revisions", json={"speed": 1.2}, headers=ALICE)
    assert answer.status_code == 202, answer.text
    revision = answer.json()
    assert revision["series"] == "Harbour Tales" and revision["isbn"] == "9780306406157"
    assert api.http.get(revision["cover"], headers=ALICE).content == JPEG
    # Each keeps its own: deleting the first leaves the revision's
    assert api.http.delete(f"/v1/jobs/{job['id']}", headers=ALICE).status_code == 204
    assert api.http.get(revision["cover"], headers=ALICE).content == JPEG
    assert covers(api) == [f"{revision['id']}.jpg"]


def test_a_job_that_is_not_stored_leaves_no_cover(tmp_path):
    with without_shell_settings():
        api = api_for(fast_settings(tmp_path))
    api.celery.broker_down = True
    answer = api.http.post("/v1/jobs", json={"text": "Hello.", "cover": data_url(PNG)})
    assert answer.status_code == 503
    assert covers(api) == []


# --- tags in the file ---------------------------------------------------------------------------

BOOK = BookTags(
    title="A Harbour Town",
    author="Ada Example",
    narrator="af_heart",
    series="Harbour Tales",
    series_index=2.0,
    description="A town by the sea.",
    year=2021,
    isbn="9780306406157",
    cover=CoverImage(PNG, "image/png"),
)


def encoded(tmp_path: Path, fmt: AudioFormat) -> Path:
    path = tmp_path / f"book.{fmt.extension}"
    tone = (np.sin(np.arange(12_000) / 8) * 0.3).astype(np.float32)
    encode_run(path, fmt, [(tone, 2400)])
    return path


def decoded(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])


def test_m4b_tags_and_cover(tmp_path):
    path = encoded(tmp_path, AudioFormat.M4B)
    before = decoded(path)
    write_book_tags(path, AudioFormat.M4B, BOOK)
    tags = MP4(path).tags
    assert tags["\xa9nam"] == ["A Harbour Town"] and tags["\xa9alb"] == ["A Harbour Town"]
    assert tags["\xa9ART"] == ["Ada Example"] and tags["aART"] == ["Ada Example"]
    assert tags["\xa9gen"] == ["Audiobook"] and tags["\xa9day"] == ["2021"]
    assert tags["desc"] == ["A town by the sea."] and tags["\xa9wrt"] == ["af_heart"]
    assert tags["\xa9mvn"] == ["Harbour Tales"] and tags["\xa9mvi"] == [2]
    assert bytes(tags["----:com.apple.iTunes:ISBN"][0]) == b"9780306406157"
    assert bytes(tags["----:com.apple.iTunes:SERIES-PART"][0]) == b"2"
    assert bytes(tags["covr"][0]) == PNG
    np.testing.assert_array_equal(decoded(path), before)  # the audio untouched


def test_mp3_tags_and_cover_keep_the_chapter_frames(tmp_path):
    path = encoded(tmp_path, AudioFormat.MP3)
    chapters = ID3()  # as a writer of chapter marks would add them
    chapters.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=["c0"],
        )
    )
    chapters.add(CHAP(element_id="c0", start_time=0, end_time=500, sub_frames=[TIT2(text=["One"])]))
    chapters.save(path)
    before = decoded(path)
    write_book_tags(path, AudioFormat.MP3, BOOK)
    tags = ID3(path)
    assert tags["TIT2"].text == ["A Harbour Town"] and tags["TALB"].text == ["A Harbour Town"]
    assert tags["TPE1"].text == ["Ada Example"] and tags["TCON"].text == ["Audiobook"]
    assert str(tags["TDRC"].text[0]) == "2021" and tags["TCOM"].text == ["af_heart"]
    assert tags["COMM::eng"].text == ["A town by the sea."]
    assert tags["TXXX:ISBN"].text == ["9780306406157"]
    assert tags["TXXX:SERIES"].text == ["Harbour Tales"] and tags["TIT1"].text == ["Harbour Tales"]
    picture = tags.getall("APIC")[0]
    assert (picture.type, picture.mime, picture.data) == (3, "image/png", PNG)
    assert tags["CHAP:c0"].sub_frames["TIT2"].text == ["One"]
    assert tags["CTOC:toc"].child_element_ids == ["c0"]
    np.testing.assert_array_equal(decoded(path), before)


@pytest.mark.parametrize("fmt", [AudioFormat.OPUS, AudioFormat.FLAC])
def test_vorbis_comment_tags_and_cover(tmp_path, fmt):
    path = encoded(tmp_path, fmt)
    write_book_tags(path, fmt, BOOK)
    if fmt is AudioFormat.OPUS:
        audio = OggOpus(path)
        block = base64.b64decode(audio.tags["METADATA_BLOCK_PICTURE"][0])
        from mutagen.flac import Picture

        picture = Picture(block)
    else:
        audio = FLAC(path)
        picture = audio.pictures[0]
    assert audio.tags["TITLE"] == ["A Harbour Town"] and audio.tags["ARTIST"] == ["Ada Example"]
    assert audio.tags["SERIES"] == ["Harbour Tales"] and audio.tags["SERIES-PART"] == ["2"]
    assert audio.tags["ISBN"] == ["9780306406157"] and audio.tags["NARRATOR"] == ["af_heart"]
    assert (picture.type, picture.mime, picture.data) == (3, "image/png", PNG)
    with av.open(str(path)) as container:  # FFmpeg reads the picture as an attached picture
        assert any(s.disposition & av.stream.Disposition.attached_pic for s in container.streams)


def test_a_wav_gets_no_tags(tmp_path):
    path = encoded(tmp_path, AudioFormat.WAV)
    before = path.read_bytes()
    write_book_tags(path, AudioFormat.WAV, BOOK)
    assert path.read_bytes() == before
