"""Loudness for audiobooks, on a real synthesized book: an ``acx`` m4b whose every chapter, in
the book's file and in its own file, meets ACX's limits (RMS -23 to -18 dBFS, peaks at or below
-3 dBFS) and opens and closes on the room tone ACX asks for (0.5-1 s, 1-5 s), measured here
independently (PyAV decode, numpy), not read back from what the service stored; and the job
shows figures that agree with that measurement."""

import io

import av
import numpy as np
import pytest

pytestmark = pytest.mark.integration

# Public-domain prose (Jane Austen, Charles Dickens, Herman Melville), a chapter each
CHAPTERS = [
    {
        "title": "Netherfield",
        "text": "It is a truth universally acknowledged, that a single man in possession of a "
        "good fortune, must be in want of a wife. However little known the feelings or views of "
        "such a man may be on his first entering a neighbourhood, this truth is so well fixed in "
        "the minds of the surrounding families, that he is considered the rightful property of "
        "some one or other of their daughters.",
    },
    {
        "title": "The Fog",
        "text": "Fog everywhere. Fog up the river, where it flows among green aits and meadows; "
        "fog down the river, where it rolls defiled among the tiers of shipping and the "
        "waterside pollutions of a great and dirty city. Fog on the Essex marshes, fog on the "
        "Kentish heights!",
    },
    {
        "title": "Loomings",
        "text": "Call me Ishmael. Some years ago, never mind how long precisely, having little or "
        "no money in my purse, and nothing particular to interest me on shore, I thought I would "
        "sail about a little and see the watery part of the world. It is a way I have of driving "
        "off the spleen, and regulating the circulation.",
    },
]
ACX_RMS_DBFS = (-23.0, -18.0)
ACX_PEAK_DBFS = -3.0
ACX_NOISE_FLOOR_DBFS = -60.0
AGREEMENT_DB = 0.5  # the job's figures and this test's measurement of the same file


def decoded(data: bytes) -> tuple[np.ndarray, list[tuple[float, float]], int]:
    """Samples (float, mono), chapter (start, end) seconds and the stream's sample rate."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        frames = [frame.to_ndarray() for frame in container.decode(stream)]
        chapters = [
            (float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]))
            for c in container.chapters()
        ]
    planar = np.concatenate(frames, axis=-1).astype(np.float64)
    return planar.mean(axis=0) if planar.ndim > 1 else planar, chapters, rate


def dbfs(value: float) -> float:
    return 20 * np.log10(max(value, 1e-12))


def levels(audio: np.ndarray) -> tuple[float, float]:
    """(RMS dBFS over every sample, pauses included, as ACX measures a file; peak dBFS)."""
    return dbfs(np.sqrt(np.mean(np.square(audio)))), dbfs(np.abs(audio).max())


def room_tone_seconds(audio: np.ndarray, rate: int) -> tuple[float, float]:
    """Seconds before the first and after the last sample louder than ACX's noise floor."""
    loud = np.flatnonzero(np.abs(audio) > 10 ** (ACX_NOISE_FLOOR_DBFS / 20))
    return loud[0] / rate, (len(audio) - 1 - loud[-1]) / rate


def assert_acx(rms_db: float, peak_db: float, where: str) -> None:
    low, high = ACX_RMS_DBFS
    assert low <= rms_db <= high, f"{where}: RMS {rms_db:.2f} dBFS"
    assert peak_db <= ACX_PEAK_DBFS, f"{where}: peak {peak_db:.2f} dBFS"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # loudness, not the database
def test_an_acx_m4b_meets_acx_in_every_chapter(stack):
    with stack.client(timeout_s=120) as http:
        created = http.post(
            "/v1/jobs",
            json={"chapters": CHAPTERS, "format": "m4b", "loudness": "acx", "title": "Openings"},
        )
        assert created.status_code == 202, created.text
        assert created.json()["loudness"] == "acx"
        job = stack.wait_for_job(created.json()["id"], timeout_s=600)
        assert job["status"] == "succeeded", job["error"]

        book, spans, rate = decoded(http.get(f"/v1/jobs/{job['id']}/audio").content)
        assert len(spans) == len(CHAPTERS)
        for number, (start, end) in enumerate(spans):
            rms_db, peak_db = levels(book[int(start * rate) : int(end * rate)])
            assert_acx(rms_db, peak_db, f"chapter {number + 1} of the book's file")

        shown = job["levels"]
        assert [level["chapter"] for level in shown] == list(range(len(CHAPTERS)))
        for number in range(len(CHAPTERS)):
            response = http.get(f"/v1/jobs/{job['id']}/chapters/{number}/audio")
            assert response.status_code == 200
            audio, _, _ = decoded(response.content)
            rms_db, peak_db = levels(audio)
            assert_acx(rms_db, peak_db, f"chapter {number + 1}'s own file")
            head, tail = room_tone_seconds(audio, rate)
            assert 0.5 <= head <= 1.0, f"chapter {number + 1} opens on {head:.2f} s of room tone"
            assert 1.0 <= tail <= 5.0, f"chapter {number + 1} closes on {tail:.2f} s of room tone"
            assert abs(shown[number]["rms_dbfs"] - rms_db) < AGREEMENT_DB
            assert abs(shown[number]["peak_dbfs"] - peak_db) < AGREEMENT_DB
            assert shown[number]["title"] == CHAPTERS[number]["title"]
