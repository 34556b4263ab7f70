"""The job resource beyond the happy path: caching, listing, idempotency, delete, Range."""

import uuid

from tests.audio_checks import read_audio, rms

SHORT = "Polling clients should not download the same status twice."
LONG = " ".join(
    f"Sentence number {n} keeps the queue busy while the test looks at the job." for n in range(40)
)


def test_status_supports_etag_and_retry_after(stack):
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": SHORT}).json()
        first = http.get(f"/v1/jobs/{job['id']}")
        if first.json()["status"] not in ("succeeded", "failed"):
            assert first.headers["Retry-After"] == "2"
        done = stack.wait_for_job(job["id"])
        assert done["status"] == "succeeded"
        settled = http.get(f"/v1/jobs/{job['id']}")
        assert "Retry-After" not in settled.headers
        tag = settled.headers["ETag"]
        cached = http.get(f"/v1/jobs/{job['id']}", headers={"If-None-Match": tag})
        assert cached.status_code == 304 and cached.content == b""
        stale = http.get(f"/v1/jobs/{job['id']}", headers={"If-None-Match": '"other"'})
        assert stale.status_code == 200 and stale.json()["id"] == job["id"]
        assert first.headers["ETag"] != tag  # the tag changed as the job progressed


def test_list_is_newest_first_with_cursor_and_status_filter(stack):
    with stack.client() as http:
        ids = [
            http.post("/v1/jobs", json={"text": f"{SHORT} Number {n}."}).json()["id"]
            for n in range(3)
        ]
        page1 = http.get("/v1/jobs", params={"limit": 2}).json()
        assert [j["id"] for j in page1["jobs"]] == ids[::-1][:2]
        page2 = http.get("/v1/jobs", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
        assert page2["jobs"][0]["id"] == ids[0]
        for job_id in ids:
            stack.wait_for_job(job_id)
        succeeded = http.get("/v1/jobs", params={"status": "succeeded", "limit": 200}).json()
        assert set(ids) <= {j["id"] for j in succeeded["jobs"]}
        assert all(j["status"] == "succeeded" for j in succeeded["jobs"])
        queued = http.get("/v1/jobs", params={"status": "queued", "limit": 200}).json()
        assert not set(ids) & {j["id"] for j in queued["jobs"]}


def test_idempotency_key_returns_the_same_job(stack):
    key = uuid.uuid4().hex
    with stack.client() as http:
        first = http.post("/v1/jobs", json={"text": SHORT}, headers={"Idempotency-Key": key})
        again = http.post("/v1/jobs", json={"text": SHORT}, headers={"Idempotency-Key": key})
        other = http.post("/v1/jobs", json={"text": "Else."}, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Location"] == f"/v1/jobs/{first.json()['id']}"
    assert other.status_code == 409
    stack.wait_for_job(first.json()["id"])


def test_delete_removes_job_and_audio_and_range_requests_work(stack):
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": SHORT, "format": "flac"}).json()
        assert stack.wait_for_job(job["id"])["status"] == "succeeded"
        full = http.get(f"/v1/jobs/{job['id']}/audio")
        assert full.headers["content-type"] == "audio/flac"
        audio, rate = read_audio(full.content)
        assert rate == 24_000 and len(audio) > rate
        part = http.get(f"/v1/jobs/{job['id']}/audio", headers={"Range": "bytes=10-109"})
        assert part.status_code == 206
        assert part.content == full.content[10:110]
        assert stack.job_files(job["id"])

        assert http.delete(f"/v1/jobs/{job['id']}").status_code == 204
        assert http.get(f"/v1/jobs/{job['id']}").status_code == 404
        assert stack.job_files(job["id"]) == set()


def test_voices_lists_the_voices_file(stack):
    with stack.client() as http:
        voices = http.get("/v1/voices").json()
    names = [v["name"] for v in voices]
    assert names == ["jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]
    assert [v["name"] for v in voices if v["default"]] == ["jf_alpha"]
    assert {v["language"] for v in voices} == {"ja"}


def test_every_format_is_real_audio(stack):
    expected_types = {"wav": "audio/wav", "mp3": "audio/mpeg", "opus": "audio/ogg"}
    with stack.client() as http:
        jobs = {
            fmt: http.post("/v1/jobs", json={"text": SHORT, "format": fmt}).json()["id"]
            for fmt in expected_types
        }
        seconds = {}
        for fmt, job_id in jobs.items():
            assert stack.wait_for_job(job_id)["status"] == "succeeded"
            response = http.get(f"/v1/jobs/{job_id}/audio")
            assert response.headers["content-type"] == expected_types[fmt]
            audio, rate = read_audio(response.content)
            assert rate == 24_000 and rms(audio) > 0.01
            seconds[fmt] = len(audio) / rate
    # The same text in every container: the same speech, give or take codec padding
    assert 2.0 < seconds["wav"] < 10.0
    for fmt in ("mp3", "opus"):
        assert abs(seconds[fmt] - seconds["wav"]) < 0.1, seconds
