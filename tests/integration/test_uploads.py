"""Book files through multipart: chapters found, synthesized in order. (Bad files, which need
no worker, are tests/fast/test_bad_input.py's.)"""

import re

import av
import numpy as np
import pytest
from sqlalchemy import create_engine, select

from core.audio.timeline import PAUSE_SECONDS
from core.text.sentences import split_sentences
from storage.models import Chunk
from tests.audio_checks import assert_speech, read_audio
from tests.epub_factory import CHAPTERS, build_epub

BOOK_MD = b"""# The Harbour
Boats rocked against the quay while the gulls argued.

# The Market
By noon the square was full of farmers and their carts.
"""

# Book files and their chapters; the database plays no part in what is read
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_markdown_book_becomes_chapters_in_order(stack):
    with stack.client() as http:
        response = http.post(
            "/v1/jobs",
            files={"file": ("harbour.md", BOOK_MD, "text/markdown")},
            data={"format": "flac", "speed": "1.0"},
        )
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["title"] == "harbour"
        assert job["chapters"] == ["The Harbour", "The Market"]
        finished = stack.wait_for_job(job["id"])
        assert finished["status"] == "succeeded", finished["error"]
        audio, rate = read_audio(http.get(f"/v1/jobs/{job['id']}/audio").content)
        chapters = http.get(f"/v1/jobs/{job['id']}/chapters").json()
        chapter_audio = [read_audio(http.get(c["audio"]).content)[0] for c in chapters]
        assert http.get(f"/v1/jobs/{job['id']}/chapters/2/audio").status_code == 404
        srt = http.get(f"/v1/jobs/{job['id']}/subtitles", params={"format": "srt"})
        vtt = http.get(f"/v1/jobs/{job['id']}/subtitles", params={"format": "vtt"})
        bad = http.get(f"/v1/jobs/{job['id']}/subtitles", params={"format": "ass"})
    assert bad.status_code == 422
    assert "'srt' or 'vtt'" in bad.text
    assert vtt.headers["content-type"].startswith("text/vtt") and vtt.text.startswith("WEBVTT")
    # One cue per sentence, in order; the last ends with the audio
    times = re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)", srt.text)
    seconds = [
        (int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000,
         int(h2) * 3600 + int(m2) * 60 + int(s2) + int(ms2) / 1000)
        for h, m, s, ms, h2, m2, s2, ms2 in times
    ]  # fmt: skip
    assert seconds == sorted(seconds)
    assert all(start < end for start, end in seconds)
    assert "Boats rocked against the" in srt.text and "farmers and their carts." in srt.text
    assert_speech(audio, rate, finished["progress"]["chars_total"])

    # Chapters in order, each exactly its stretch of the book's audio
    assert [c["title"] for c in chapters] == ["The Harbour", "The Market"]
    assert 0 == chapters[0]["start_seconds"] < chapters[0]["end_seconds"]
    assert chapters[0]["end_seconds"] < chapters[1]["start_seconds"] < chapters[1]["end_seconds"]
    assert abs(chapters[-1]["end_seconds"] - len(audio) / rate) < 0.001
    assert abs(seconds[-1][1] - len(audio) / rate) < 0.05
    for chapter, alone in zip(chapters, chapter_audio, strict=True):
        start, end = round(chapter["start_seconds"] * rate), round(chapter["end_seconds"] * rate)
        assert abs(len(alone) - (end - start)) <= 1
        np.testing.assert_allclose(alone[: end - start], audio[start:end], atol=1 / 32768)
    pause = chapters[1]["start_seconds"] - chapters[0]["end_seconds"]
    assert abs(pause - PAUSE_SECONDS["chapter"]) < 0.001
    total = sum(len(a) for a in chapter_audio) / rate
    assert abs(total + pause - len(audio) / rate) < 0.001  # the book is its chapters and pauses
    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        rows = db.execute(
            select(Chunk.chapter, Chunk.text, Chunk.pause_after)
            .where(Chunk.job_id == job["id"])
            .order_by(Chunk.index)
        ).all()
    engine.dispose()
    assert [r.chapter for r in rows] == sorted(r.chapter for r in rows)
    assert {r.chapter for r in rows} == {0, 1}
    assert "chapter" in [r.pause_after for r in rows]
    assert rows[0].text.startswith("Boats") and rows[-1].text.endswith("carts.")
    # A cue for every sentence of every chunk (a sentence cut across chunks gives two)
    assert len(seconds) == sum(len(split_sentences(r.text)) for r in rows)


def cue_times(subtitles: str, separator: str) -> list[tuple[float, float]]:
    stamp = rf"(\d\d):(\d\d):(\d\d){re.escape(separator)}(\d\d\d)"
    seconds = []
    for match in re.finditer(rf"{stamp} --> {stamp}", subtitles):
        h, m, s, ms, h2, m2, s2, ms2 = map(int, match.groups())
        seconds.append((h * 3600 + m * 60 + s + ms / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000))
    return seconds


def test_epub_book_becomes_an_m4b_with_its_toc_chapters(stack, tmp_path):
    with stack.client() as http:
        response = http.post(
            "/v1/jobs",
            files={"file": ("harbour.epub", build_epub(), "application/epub+zip")},
            data={"format": "m4b"},
        )
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["title"] == "A Harbour Town"  # from the book, not the file name
        assert job["author"] == "Ada Example"
        assert job["chapters"] == [title for title, _ in CHAPTERS]  # no copyright page
        assert stack.wait_for_job(job["id"])["status"] == "succeeded"
        chapters = http.get(f"/v1/jobs/{job['id']}/chapters").json()
        book = http.get(f"/v1/jobs/{job['id']}/audio")
        alone = [http.get(c["audio"]).content for c in chapters]
        audio_seconds = http.get(f"/v1/jobs/{job['id']}").json()["audio_seconds"]
        subtitles = {
            fmt: http.get(f"/v1/jobs/{job['id']}/subtitles", params={"format": fmt}).text
            for fmt in ("srt", "vtt")
        }
    assert book.headers["content-type"] == "audio/mp4"
    (tmp_path / "book.m4b").write_bytes(book.content)
    with av.open(str(tmp_path / "book.m4b")) as container:
        markers = container.chapters()
        book_seconds = container.duration / 1_000_000
        assert container.metadata["title"] == "A Harbour Town"
        assert container.metadata["artist"] == "Ada Example"
    # Exactly the 3 chapters, titled from the TOC, starting where the API says, in order
    assert [m["metadata"]["title"] for m in markers] == job["chapters"]
    starts = [float(m["start"] * m["time_base"]) for m in markers]
    assert starts == sorted(starts) and len(set(starts)) == 3
    assert starts == pytest.approx([c["start_seconds"] for c in chapters], abs=0.001)
    # Chapters on their own add up to the book minus the pauses between them (AAC pads each
    # file by a frame or two)
    seconds = []
    for number, data in enumerate(alone):
        (tmp_path / f"{number}.m4b").write_bytes(data)
        with av.open(str(tmp_path / f"{number}.m4b")) as chapter:
            seconds.append(chapter.duration / 1_000_000)
    pauses = 2 * PAUSE_SECONDS["chapter"]
    assert abs(sum(seconds) + pauses - book_seconds) < 0.1 * len(seconds)
    # Subtitles: cues in order, the last ending with the audio (within 50 ms)
    for fmt, separator in (("srt", ","), ("vtt", ".")):
        cues = cue_times(subtitles[fmt], separator)
        assert len(cues) >= 3 and cues == sorted(cues)
        assert all(start < end for start, end in cues)
        assert abs(cues[-1][1] - audio_seconds) < 0.05, fmt
    assert subtitles["vtt"].startswith("WEBVTT")
