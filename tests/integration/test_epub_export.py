"""GET /v1/jobs/{id}/epub on the real stack: a three-chapter book synthesized as mp3 (its file
carried as it is) and as wav (transcoded to AAC by a worker), each EPUB valid to EPUBCheck, every
clip of its overlays the job's own word timings, and one chapter rendered in a real headless
Chromium with a sentence highlighted as a reading system highlights it (the docs' picture)."""

import io
import re
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import av
import pytest

from tests.support.epubcheck import epubcheck, is_about_media_overlays
from tests.support.web_browser import chromium, open_page, screenshot

# The database is not what this is about
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BOOK = {
    "title": "The Harbour Town",
    "author": "A. Writer",
    "chapters": [
        {
            "title": "The Harbour",
            "text": "The boats rocked against the quay while the gulls argued. A fisherman "
            "mended his nets in the early light.\n\nNobody spoke of the storm.",
        },
        {
            "title": "The Market",
            "text": "By noon the square was full of farmers and their carts. Apples, cheese "
            "and warm bread filled the air. A child laughed near the fountain.",
        },
        {
            "title": "The Lighthouse",
            "text": "At dusk the keeper climbed the narrow stairs. He lit the lamp, and its "
            "beam swept across the water.",
        },
    ],
}
SMIL = "{http://www.w3.org/ns/SMIL}"
TEXTREF = "{http://www.idpf.org/2007/ops}textref"
TRANSCODE_TIMEOUT_S = 180
TOLERANCE_S = 0.001


def parse_clock(value: str) -> float:
    hours, minutes, seconds = value.split(":")
    return (int(hours) * 60 + int(minutes)) * 60 + float(seconds)


def overlays(archive: zipfile.ZipFile) -> list[list[tuple[str, float, float, str | None]]]:
    """Each chapter's pars in order: (text id, begin s, end s, the id of the seq around it)."""
    chapters = []
    for name in sorted(n for n in archive.namelist() if n.endswith(".smil")):
        pars = []
        for element in ElementTree.fromstring(archive.read(name)).iter():
            if element.tag == f"{SMIL}seq":
                seq = element.get(TEXTREF).partition("#")[2]
                for par in element.iter(f"{SMIL}par"):
                    pars.append(_par(par, seq))
            elif element.tag == f"{SMIL}body":
                pars += [_par(par, None) for par in element.findall(f"{SMIL}par")]
        chapters.append(sorted(pars, key=lambda p: p[1]))
    return chapters


def _par(par, seq: str | None) -> tuple[str, float, float, str | None]:
    audio = par.find(f"{SMIL}audio")
    return (
        par.find(f"{SMIL}text").get("src").partition("#")[2],
        parse_clock(audio.get("clipBegin")),
        parse_clock(audio.get("clipEnd")),
        seq,
    )


def assert_valid(path: Path) -> None:
    findings = epubcheck(path)
    errors = [f for f in findings if f.severity in ("FATAL", "ERROR")]
    about_overlays = [f for f in findings if is_about_media_overlays(f)]
    assert errors == [] and about_overlays == [], "\n".join(map(str, findings))


def assert_clips_are_the_timings(words_epub: zipfile.ZipFile, sentences_epub, timings) -> None:
    """Every word clip runs from its word's start to the next word's of its chapter (the last
    to its own end), as /timings gives them; every sentence clip from its first word's to its
    last word's clip's end."""
    by_chapter: dict[int, list[dict]] = {}
    for word in timings["words"]:
        by_chapter.setdefault(word["chapter"], []).append(word)
    word_chapters = overlays(words_epub)
    assert len(word_chapters) == len(by_chapter) == 3
    for pars, (_, words) in zip(word_chapters, sorted(by_chapter.items()), strict=True):
        assert all("-w" in text_id for text_id, *_ in pars), "a chunk lost its word timings"
        expected = [
            (word["start"], following["start"] if following else word["end"])
            for word, following in zip(words, [*words[1:], None], strict=True)
        ]
        # A clip that would be empty is left out (a word said in under half a millisecond)
        expected = [(b, e) for b, e in expected if round(e * 1000) > round(b * 1000)]
        assert len(pars) == len(expected)
        for (text_id, begin, end, _), (start, stop) in zip(pars, expected, strict=True):
            assert abs(begin - start) <= TOLERANCE_S and abs(end - stop) <= TOLERANCE_S, text_id
    spans: dict[str, list[float]] = {}
    for pars in word_chapters:
        for _, begin, end, sentence in pars:
            spans.setdefault(sentence, [begin, end])[1] = end
    sentence_pars = [p for pars in overlays(sentences_epub) for p in pars]
    assert [p[0] for p in sentence_pars] == list(spans)
    for text_id, begin, end, _ in sentence_pars:
        assert (begin, end) == tuple(spans[text_id]), text_id


def fetch_epub(http, job_id: str, words: bool) -> bytes:
    """The job's EPUB, asking again while its audio is transcoded (202 + Retry-After)."""
    deadline = time.monotonic() + TRANSCODE_TIMEOUT_S
    while True:
        response = http.get(f"/v1/jobs/{job_id}/epub", params={"words": str(words).lower()})
        if response.status_code != 202:
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/epub+zip"
            return response.content
        assert time.monotonic() < deadline, f"the EPUB was not ready in {TRANSCODE_TIMEOUT_S} s"
        time.sleep(min(int(response.headers["retry-after"]), 2))


def audio_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
        return samples / container.streams.audio[0].sample_rate


def test_a_synthesized_book_as_a_read_along_epub(stack, tmp_path):
    with stack.client(timeout_s=120) as http:
        jobs = {}
        for fmt in ("mp3", None):  # None: the default format (wav), transcoded for the EPUB
            body = BOOK | ({"format": fmt} if fmt else {})
            response = http.post("/v1/jobs", json=body)
            assert response.status_code == 202, response.text
            jobs[fmt or "wav"] = response.json()["id"]
        for fmt, job_id in jobs.items():
            job = stack.wait_for_job(job_id)
            assert job["status"] == "succeeded", job["error"]
            assert job["links"]["epub"] == f"/v1/jobs/{job_id}/epub"
            timings = http.get(f"/v1/jobs/{job_id}/timings").json()
            assert not timings["estimated"]
            made = {}
            for words in (False, True):
                data = fetch_epub(http, job_id, words)
                path = tmp_path / f"{fmt}-{'words' if words else 'sentences'}.epub"
                path.write_bytes(data)
                assert_valid(path)
                made[words] = zipfile.ZipFile(io.BytesIO(data))
            assert_clips_are_the_timings(made[True], made[False], timings)
            # Kept: asked again, the same file
            assert (
                http.get(f"/v1/jobs/{job_id}/epub").content
                == path.with_name(f"{fmt}-sentences.epub").read_bytes()
            )
            book_audio = http.get(f"/v1/jobs/{job_id}/audio").content
            names = made[False].namelist()
            if fmt == "mp3":
                assert made[False].read("EPUB/audio.mp3") == book_audio
            else:
                assert "EPUB/audio.m4a" in names
                transcoded = made[False].read("EPUB/audio.m4a")
                # The same length to within a codec frame: positions did not move
                assert abs(audio_seconds(transcoded) - audio_seconds(book_audio)) < 0.05
            package = made[False].read("EPUB/package.opf").decode()
            assert "<dc:title>The Harbour Town</dc:title>" in package
            assert "<dc:creator>A. Writer</dc:creator>" in package
            narrator = re.search(r'property="media:narrator">([^<]+)<', package).group(1)
            assert narrator == job["voice"]
    render_read_along(made_mp3_words=tmp_path / "mp3-words.epub", workdir=tmp_path / "book")


# What a reading system adds around the text (margins, a book face); the highlight is the
# EPUB's own stylesheet, the class the one its package names
READER_STYLE = "body { max-width: 34em; margin: 2.5em auto; font: 20px/1.6 Georgia, serif; }"
HIGHLIGHT = "rgb(255, 224, 102)"


def render_read_along(made_mp3_words: Path, workdir: Path) -> None:
    with zipfile.ZipFile(made_mp3_words) as archive:
        archive.extractall(workdir)
        package = archive.read("EPUB/package.opf").decode()
    active = re.search(r'property="media:active-class">([^<]+)<', package).group(1)
    chapter = (workdir / "EPUB" / "chapter-0001.xhtml").as_uri()
    with (
        chromium() as browser,
        open_page(browser, chapter, viewport={"width": 760, "height": 420}) as watched,
    ):
        page = watched.page
        page.goto(chapter)
        page.add_style_tag(content=READER_STYLE)
        page.evaluate(
            "([id, name]) => document.getElementById(id).classList.add(name)", ["c1-s2", active]
        )
        colour = page.evaluate(
            "(id) => getComputedStyle(document.getElementById(id)).backgroundColor", "c1-s2"
        )
        assert colour == HIGHLIGHT
        assert "fisherman" in page.inner_text("#c1-s2")
        screenshot(page, "epub-read-along")
