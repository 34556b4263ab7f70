"""Read-along EPUB 3: the builders of core/publish on a handmade timeline (ids, clips, durations,
well-formed documents, the zip's layout, EPUBCheck), and GET /v1/jobs/{id}/epub on the in-process
app (404, 409, built once and kept, Range, the transcode ordered once for other formats)."""

import io
import re
import struct
import zipfile
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import av
import numpy as np
import pytest
from sqlalchemy import select, update

from core.audio.formats import SAMPLE_RATE, AudioFormat
from core.audio.timeline import pause_samples, place
from core.jobs.states import ChunkStatus, JobStatus
from core.publish.epub3 import (
    ACTIVE_CLASS,
    STYLESHEET,
    BookInfo,
    MediaFile,
    book_documents,
    clock,
    image_type,
    xml_text,
)
from core.publish.epub_zip import StreamedFile, write_epub
from core.publish.read_along import ChunkText, chapter_read_along, milliseconds
from core.speech.word_timing import TimedWord, placed_words, shown_word
from core.text.chunk_plan import plan_chunks
from storage.blob_store import job_audio_key
from storage.blobs import blob_store
from storage.db import transaction
from storage.epub_cache import (
    EPUB_AUDIO_TASK,
    epub_key,
    record_failure,
    transcoded_audio_key,
)
from storage.jobs import NewJob, create_job
from storage.models import Chunk, Job
from tests.support.epubcheck import epubcheck, epubcheck_available

NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "s": "http://www.w3.org/ns/SMIL",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}textref"
XML_ID = "id"

# (chapter, written text, boundary after it, timed: words recorded for it)
CHUNKS = [
    (0, "He said: “Hello there, world.” It was — fine.", "paragraph", True),
    (0, "A second paragraph begins here,", "clause", True),
    (0, "and it runs on.", "chapter", True),
    (1, "No timings were kept for this one. Nor this.", "paragraph", False),
    (1, "Blink and you miss it.", "end", True),
]
SECONDS = [3.0, 2.0, 1.5, 2.5, 2.0]
TITLES = ["The <Harbour> & “Quay”", "Two"]


def chunk_words(text: str, samples: int, instant: str | None = None) -> list[TimedWord]:
    """A word for every said token (a lone dash is not said), evenly spread with short gaps;
    the word ``instant`` said in no time at all."""
    said = [shown_word(t) for t in text.split() if t != "—"]
    step = samples // (len(said) + 1)
    words = []
    for n, word in enumerate(said):
        start = step // 2 + n * step
        end = start if word == instant else start + step - 120
        words.append(TimedWord(word, start, end))
    return words


def handmade_chunks() -> list[ChunkText]:
    lengths = [round(s * SAMPLE_RATE) for s in SECONDS]
    slots = place(
        (chapter, length, pause_samples(pause))
        for (chapter, _, pause, _), length in zip(CHUNKS, lengths, strict=True)
    )
    return [
        ChunkText(
            index,
            text,
            slot,
            chunk_words(text, length, instant="it") if timed else [],
            pause,
        )
        for index, ((_, text, pause, timed), slot, length) in enumerate(
            zip(CHUNKS, slots, lengths, strict=True)
        )
    ]


def handmade_chapters(words: bool):
    chunks = handmade_chunks()
    return [
        chapter_read_along(
            number,
            TITLES[number],
            [c for c in chunks if c.slot.chapter == number],
            lang="en-us",
            words=words,
        )
        for number in range(len(TITLES))
    ]


BOOK = BookInfo(
    job_id="0123456789abcdef0123456789abcdef",
    title="Harbour & Quay <\x01\ud800>",
    author=None,
    language="en-us",
    narrator="af_heart",
    modified=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
)
AUDIO = MediaFile("audio.mp3", "audio/mpeg")


def documents(words: bool, cover: MediaFile | None = None) -> dict[str, bytes]:
    return dict(book_documents(BOOK, handmade_chapters(words), AUDIO, cover))


def total_ms() -> int:
    chunks = handmade_chunks()
    return milliseconds(chunks[-1].slot.end)


def parse_clock(value: str) -> int:
    hours, minutes, seconds = value.split(":")
    whole, millis = seconds.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(whole)) * 1000 + int(millis)


def text_ids(docs: dict[str, bytes]) -> dict[str, list[str]]:
    """Every id in each chapter document's body, in document order."""
    return {
        name.rsplit("/", 1)[1]: [
            e.get(XML_ID) for e in ElementTree.fromstring(data).iter() if e.get(XML_ID)
        ]
        for name, data in docs.items()
        if name.endswith(".xhtml") and "chapter-" in name
    }


def overlay(data: bytes) -> tuple[list[tuple[str, int, int]], list[str]]:
    """A SMIL's pars as (text src, begin ms, end ms), and its seqs' textrefs, in order."""
    root = ElementTree.fromstring(data)
    pars = [
        (
            par.find("s:text", NS).get("src"),
            parse_clock(par.find("s:audio", NS).get("clipBegin")),
            parse_clock(par.find("s:audio", NS).get("clipEnd")),
        )
        for par in root.iter(f"{{{NS['s']}}}par")
    ]
    seqs = [seq.get(EPUB_TYPE) for seq in root.iter(f"{{{NS['s']}}}seq")]
    return pars, seqs


def overlays(docs: dict[str, bytes]) -> dict[str, tuple[list, list]]:
    return {
        name.rsplit("/", 1)[1]: overlay(data)
        for name, data in docs.items()
        if name.endswith(".smil")
    }


# --- The builders ----------------------------------------------------------------------------


@pytest.mark.parametrize("words", [False, True])
def test_every_id_is_unique_and_played_by_exactly_one_overlay_entry(words):
    docs = documents(words)
    ids = text_ids(docs)
    every = [i for chapter in ids.values() for i in chapter]
    assert len(every) == len(set(every)) >= 7
    referred = Counter()
    for smil, (pars, seqs) in overlays(docs).items():
        for src in [p[0] for p in pars] + seqs:
            document, _, target = src.partition("#")
            assert document == smil.replace(".smil", ".xhtml")
            referred[(document, target)] += 1
    assert set(referred.values()) == {1}
    assert set(referred) == {(doc, i) for doc, chapter in ids.items() for i in chapter}
    word_ids = [i for i in every if "-w" in i]
    if words:
        # Words are played; a sentence groups them (a seq), except where the chunk had no
        # word timings: there the sentence is played whole
        assert word_ids
        pars = [p[0].partition("#")[2] for pars, _ in overlays(docs).values() for p in pars]
        assert {"c2-s1", "c2-s2"} <= set(pars)
        assert all("-w" in p for p in pars if p not in {"c2-s1", "c2-s2"})
    else:
        assert word_ids == []


@pytest.mark.parametrize("words", [False, True])
def test_clips_run_in_order_without_gaps_or_overlaps_within_the_audio(words):
    for pars, _ in overlays(documents(words)).values():
        assert pars
        for (_, begin, end), following in zip(pars, [*pars[1:], None], strict=True):
            assert 0 <= begin < end <= total_ms()
            if following is not None:
                assert end == following[1]  # gap-free: the next begins where this ends


def test_word_clips_are_the_words_timings():
    chunks = handmade_chunks()
    timed = placed_words((c.index, c.slot, c.words) for c in chunks)
    by_chapter: dict[int, list] = {}
    for word in timed:
        by_chapter.setdefault(word.chapter, []).append(word)
    # Gap-free: a word is heard until the next word of its chapter starts, the last until its
    # own end; a clip that would be empty (the book's last word, said in no time) is left out,
    # and its word keeps no id
    expected = []
    for words in by_chapter.values():
        for word, following in zip(words, [*words[1:], None], strict=True):
            clip = (
                milliseconds(word.start),
                milliseconds(following.start if following else word.end),
            )
            if clip[1] > clip[0]:
                expected.append(clip)
    assert len(expected) == len(timed) - 1
    docs = documents(words=True)
    pars = [p for name in sorted(overlays(docs)) for p in overlays(docs)[name][0]]
    assert [(b, e) for src, b, e in pars if "-w" in src] == expected
    chapter_2 = docs["EPUB/chapter-0002.xhtml"].decode()
    assert ">miss</span> it.</span>" in chapter_2


def test_a_sentence_clip_spans_its_words_clips():
    sentences = {
        p[0]: (p[1], p[2]) for pars, _ in overlays(documents(False)).values() for p in pars
    }
    words: dict[str, list[tuple[int, int]]] = {}
    for pars, _ in overlays(documents(True)).values():
        for src, begin, end in pars:
            sentence = re.sub(r"-w\d+$", "", src)
            words.setdefault(sentence, []).append((begin, end))
    assert sentences.keys() == words.keys()
    for src, (begin, end) in sentences.items():
        assert (begin, end) == (words[src][0][0], words[src][-1][1]), src


def test_a_chunk_without_word_timings_shares_its_audio_among_its_sentences():
    chunks = handmade_chunks()
    estimated = chunks[3]
    pars, _ = overlays(documents(False))["chapter-0002.smil"]
    first, second = pars[0], pars[1]
    assert first[0].endswith("#c2-s1") and second[0].endswith("#c2-s2")
    assert first[1] == milliseconds(estimated.slot.start)
    # Shared by estimated tokens: the first sentence is the longer by far (the second's clip
    # then runs on through the pause after the chunk)
    assert first[2] - first[1] > 2 * (milliseconds(estimated.slot.end) - first[2]) > 0
    assert second[2] == milliseconds(chunks[4].words[0].start + chunks[4].slot.start)


@pytest.mark.parametrize("words", [False, True])
def test_media_durations_are_the_sums_of_the_clips(words):
    docs = documents(words)
    package = ElementTree.fromstring(docs["EPUB/package.opf"])
    metas = package.findall("opf:metadata/opf:meta", NS)
    durations = {
        m.get("refines"): parse_clock(m.text)
        for m in metas
        if m.get("property") == "media:duration"
    }
    items = {i.get("id"): i for i in package.findall("opf:manifest/opf:item", NS)}
    per_overlay = {}
    for ref, value in durations.items():
        if ref is None:
            continue
        smil = items[ref.lstrip("#")]
        assert smil.get("media-type") == "application/smil+xml"
        pars, _ = overlay(docs[f"EPUB/{smil.get('href')}"])
        assert value == sum(end - begin for _, begin, end in pars)
        per_overlay[ref] = value
    assert len(per_overlay) == 2
    assert durations[None] == sum(per_overlay.values())
    # Each chapter names its overlay; the reading system is told the class to highlight with
    chapters = [i for i in items.values() if i.get("href").startswith("chapter-")]
    assert {f"#{i.get('media-overlay')}" for i in chapters if i.get("media-overlay")} == set(
        per_overlay
    )
    props = {m.get("property"): m.text for m in metas if m.get("refines") is None}
    assert props["media:active-class"] == ACTIVE_CLASS
    assert f".{ACTIVE_CLASS} {{" in STYLESHEET
    assert props["media:narrator"] == "af_heart"
    assert props["dcterms:modified"] == "2024-05-06T07:08:09Z"
    assert package.find("opf:metadata/dc:identifier", NS).text == (
        "urn:uuid:01234567-89ab-cdef-0123-456789abcdef"
    )


def test_documents_are_well_formed_with_any_title():
    docs = documents(True, MediaFile("cover.png", "image/png"))
    for name, data in docs.items():
        if name.endswith((".xhtml", ".smil", ".opf", ".xml")):
            ElementTree.fromstring(data)  # raises on anything not well-formed
    package = ElementTree.fromstring(docs["EPUB/package.opf"])
    # Characters XML cannot hold are dropped, markup characters escaped
    assert package.find("opf:metadata/dc:title", NS).text == "Harbour & Quay <>"
    assert package.find("opf:metadata/dc:creator", NS).text == "Unknown"
    nav = ElementTree.fromstring(docs["EPUB/nav.xhtml"])
    assert [a.text for a in nav.iter(f"{{{NS['x']}}}a")] == TITLES
    cover = package.find("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert cover.get("href") == "cover.png"
    chapter = ElementTree.fromstring(docs["EPUB/chapter-0001.xhtml"])
    assert chapter.find(".//x:h1", NS).text == TITLES[0]
    assert len(chapter.findall(".//x:p", NS)) == 2  # a chunk cut at a clause runs on
    text = "".join(chapter.find(".//x:p", NS).itertext())
    assert text == "He said: “Hello there, world.” It was — fine."


def test_xml_text_and_clock_values():
    assert xml_text('a<b>&"c"\x00\x1f\ud83d\tok\n') == "a&lt;b&gt;&amp;&quot;c&quot;\tok\n"
    assert clock(0) == "0:00:00.000"
    assert clock(3_723_004) == "1:02:03.004"
    assert clock(25 * 3_600_000) == "25:00:00.000"
    assert image_type(b"\xff\xd8\xff\xe0rest") == ("image/jpeg", "jpg")
    assert image_type(png_bytes()[:8]) == ("image/png", "png")
    assert image_type(b"RIFF....WEBP") is None


def write(words: bool, audio: bytes, cover: bytes | None = None) -> bytes:
    media = [StreamedFile("EPUB/audio.mp3", len(audio), lambda: iter([audio[:1000], audio[1000:]]))]
    cover_file = None
    if cover is not None:
        cover_file = MediaFile("cover.png", "image/png")
        media.append(StreamedFile("EPUB/cover.png", len(cover), lambda: iter([cover])))
    out = io.BytesIO()
    write_epub(
        out, book_documents(BOOK, handmade_chapters(words), AUDIO, cover_file), media, BOOK.modified
    )
    return out.getvalue()


def assert_epub_layout(data: bytes) -> zipfile.ZipFile:
    # The first bytes say what it is: a local header for "mimetype", stored, no extra field
    assert data[:4] == b"PK\x03\x04"
    assert data[30:58] == b"mimetypeapplication/epub+zip"
    archive = zipfile.ZipFile(io.BytesIO(data))
    first = archive.infolist()[0]
    assert (first.filename, first.compress_type, first.extra) == (
        "mimetype",
        zipfile.ZIP_STORED,
        b"",
    )
    names = archive.namelist()
    assert "META-INF/container.xml" in names and "EPUB/package.opf" in names
    for info in archive.infolist():
        media = info.filename.endswith((".mp3", ".m4a", ".png", ".jpg", ".gif"))
        assert info.compress_type == (zipfile.ZIP_STORED if media else zipfile.ZIP_DEFLATED) or (
            info.filename == "mimetype"
        )
    assert archive.testzip() is None
    return archive


def test_zip_layout_mimetype_first_and_stored_media_copied_whole():
    audio = mp3_bytes(total_ms() / 1000)
    data = write(False, audio, png_bytes())
    archive = assert_epub_layout(data)
    assert archive.read("EPUB/audio.mp3") == audio
    assert archive.read("EPUB/cover.png") == png_bytes()


def test_a_medium_that_changed_while_copied_is_refused():
    media = [StreamedFile("EPUB/audio.mp3", 10, lambda: iter([b"12345"]))]
    with pytest.raises(ValueError, match="expected 10 bytes, copied 5"):
        write_epub(io.BytesIO(), [], media, BOOK.modified)


@pytest.mark.skipif(not epubcheck_available(), reason="needs EPUBCheck: make epubcheck")
def test_epubcheck_finds_nothing_to_report(tmp_path):
    # With words: both kinds of overlay entry (a sentence's words in a seq, and a sentence
    # played whole where its chunk had no word timings); one Java start (seconds)
    path = tmp_path / "book.epub"
    path.write_bytes(write(True, mp3_bytes(total_ms() / 1000), png_bytes()))
    findings = epubcheck(path)
    assert findings == [], "\n".join(map(str, findings))


# --- GET /v1/jobs/{id}/epub ----------------------------------------------------------------

BOOK_CHAPTERS = [
    "The boats rocked against the quay. The gulls argued overhead.",
    "By noon the square was full. Farmers shouted their prices.",
    "Night fell on the harbour. Everyone went home.",
]


def finished_job(settings, fmt: str, audio: bytes, cover: bytes | None = None) -> Job:
    """A succeeded job as a worker leaves it: chunks with their audio lengths and word timings,
    the book's file in storage (and a cover)."""
    chunks = plan_chunks(BOOK_CHAPTERS, lang="en-us", markup="none", check_voice=str, max_tokens=40)
    spec = NewJob(
        voice="af_heart", speed=1.0, lang="en-us", format=fmt, queue="kokoro",
        title="The Harbour", author="A. Writer", chapters=["One", "Two", "Three"],
    )  # fmt: skip
    store = blob_store(settings)
    with transaction(settings.sqlalchemy_url) as session:
        job, _ = create_job(session, spec, chunks)
        for row in session.scalars(select(Chunk).where(Chunk.job_id == job.id)):
            samples = SAMPLE_RATE * 2
            row.status = ChunkStatus.DONE
            row.audio_seconds = samples / SAMPLE_RATE
            row.words = [w.as_row() for w in chunk_words(row.text, samples)]
        key = job_audio_key(job.id, AudioFormat(fmt).extension)
        cover_key = f"covers/{job.id}.png" if cover else None
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(
                status=JobStatus.SUCCEEDED,
                audio_key=key,
                cover_key=cover_key,
                finished_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            )
        )
    store.put(key, audio)
    if cover:
        store.put(cover_key, cover)
    with transaction(settings.sqlalchemy_url) as session:
        job = session.get(Job, job.id)
        session.expunge(job)
    return job


def test_unknown_and_unfinished_jobs(api):
    assert api.http.get(f"/v1/jobs/{'0' * 32}/epub").status_code == 404
    assert api.http.get("/v1/jobs/not-an-id/epub").status_code == 404
    submitted = api.http.post("/v1/jobs", json={"text": "Not made yet.", "format": "mp3"})
    assert submitted.status_code == 202
    job_id = submitted.json()["id"]
    assert submitted.json()["links"]["epub"] == f"/v1/jobs/{job_id}/epub"
    unfinished = api.http.get(f"/v1/jobs/{job_id}/epub")
    assert unfinished.status_code == 409
    assert "once it has succeeded" in unfinished.json()["detail"]
    assert api.http.get(f"/v1/jobs/{job_id}/epub", params={"words": "maybe"}).status_code == 422


def test_an_mp3_job_is_built_once_kept_and_served_with_ranges(api):
    audio = mp3_bytes(12.0)
    job = finished_job(api.settings, "mp3", audio, cover=png_bytes())
    first = api.http.get(f"/v1/jobs/{job.id}/epub")
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/epub+zip"
    assert "The%20Harbour.epub" in first.headers["content-disposition"]
    archive = assert_epub_layout(first.content)
    assert archive.read("EPUB/audio.mp3") == audio
    assert archive.read("EPUB/cover.png") == png_bytes()
    docs = {n: archive.read(n) for n in archive.namelist()}
    assert len([n for n in docs if n.endswith(".smil")]) == 3
    assert text_ids(docs)["chapter-0001.xhtml"][:2] == ["c1-s1", "c1-s2"]
    # Kept: a second request downloads the same file, not built again
    kept = Path(api.settings.storage_dir) / epub_key(job, False)
    built_at = kept.stat().st_mtime_ns
    again = api.http.get(f"/v1/jobs/{job.id}/epub")
    assert again.content == first.content and kept.stat().st_mtime_ns == built_at
    part = api.http.get(f"/v1/jobs/{job.id}/epub", headers={"Range": "bytes=30-57"})
    assert part.status_code == 206 and part.content == b"mimetypeapplication/epub+zip"
    # With words: another file, an id on every word
    words = api.http.get(f"/v1/jobs/{job.id}/epub", params={"words": "true"})
    assert words.status_code == 200 and words.content != first.content
    word_docs = {n: zipfile.ZipFile(io.BytesIO(words.content)).read(n) for n in docs}
    assert "c1-s1-w1" in text_ids(word_docs)["chapter-0001.xhtml"]
    assert api.celery.sent_named(EPUB_AUDIO_TASK) == []


def test_another_format_is_transcoded_once_by_a_worker(api):
    job = finished_job(api.settings, "wav", b"RIFF not decoded here")
    url = f"/v1/jobs/{job.id}/epub"
    pending = api.http.get(url)
    assert pending.status_code == 202, pending.text
    assert int(pending.headers["retry-after"]) >= 2
    assert pending.json()["status"] == "preparing"
    assert "transcoded to AAC" in pending.json()["message"]
    assert api.celery.sent_named(EPUB_AUDIO_TASK) == [(EPUB_AUDIO_TASK, [job.id], "kokoro")]
    assert api.http.get(url).status_code == 202
    assert len(api.celery.sent_named(EPUB_AUDIO_TASK)) == 1  # ordered once
    # A failed transcode is told once; asking again orders another
    store = blob_store(api.settings)
    record_failure(store, job.id, "InvalidDataError: not audio")
    failed = api.http.get(url)
    assert failed.status_code == 503 and "not audio" in failed.json()["detail"]
    assert api.http.get(url).status_code == 202
    assert len(api.celery.sent_named(EPUB_AUDIO_TASK)) == 2
    # What the worker leaves: the EPUB then carries AAC in MP4
    aac = m4a_bytes(6.0)
    store.put(transcoded_audio_key(job.id), aac)
    done = api.http.get(url)
    assert done.status_code == 200, done.text
    archive = assert_epub_layout(done.content)
    assert archive.read("EPUB/audio.m4a") == aac
    assert b'href="audio.m4a" media-type="audio/mp4"' in archive.read("EPUB/package.opf")


# --- Media for the tests ---------------------------------------------------------------------


def encoded(seconds: float, muxer: str, codec: str, suffix: str) -> bytes:
    samples = np.sin(np.arange(round(seconds * SAMPLE_RATE)) * 0.05).astype(np.float32) * 0.1
    buffer = io.BytesIO()
    buffer.name = f"audio.{suffix}"
    with av.open(buffer, "w", format=muxer) as container:
        stream = container.add_stream(codec, rate=SAMPLE_RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def mp3_bytes(seconds: float) -> bytes:
    return encoded(seconds, "mp3", "libmp3lame", "mp3")


def m4a_bytes(seconds: float) -> bytes:
    return encoded(seconds, "ipod", "aac", "m4a")


def png_bytes() -> bytes:
    """A real 2x2 PNG (EPUBCheck reads image headers)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
