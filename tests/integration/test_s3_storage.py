"""Audio in an S3-compatible bucket: the store against a real S3 protocol server (moto's, over
HTTP on loopback), downloads through the API with Range and presigned redirects, and whole jobs
whose workers write nothing to local disk."""

import itertools
import re
import tempfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

import storage.s3
from api.downloads import audio_download
from core.text.sentences import normalize_text
from infra.settings import Settings
from storage.blob_store import (
    BlobNotFound,
    BlobStore,
    StorageError,
    chapter_audio_key,
    chunk_key,
    job_audio_key,
    job_prefix,
)
from storage.blobs import LocalBlobStore, blob_store
from storage.models import Chunk
from storage.s3 import S3BlobStore
from tests.audio_checks import assert_speech, read_audio
from tests.support.stack import free_port, running_stack, start_api, stop_process, wait_for

PREFIX = "kq/audio"
TEXT = (
    "The lighthouse keeper climbed the stairs at dusk. He wound the clockwork, trimmed the wick "
    "and wiped the salt from the glass. Far out at sea, a small boat turned towards the light. "
    "By midnight it was safe in the harbour, and the keeper wrote one more line in his log."
)


@pytest.fixture
def s3_env(monkeypatch, s3_server):
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server


@pytest.fixture
def store(s3_env) -> S3BlobStore:
    bucket = s3_env.new_bucket()
    settings = Settings(
        storage_url=f"s3://{bucket}/{PREFIX}/",
        s3_endpoint_url=s3_env.endpoint,
        s3_addressing_style="path",
    )
    made = blob_store(settings)
    assert isinstance(made, S3BlobStore) and isinstance(made, BlobStore)
    return made


# The store


def test_put_get_size_exists_read_and_overwrite(store, s3_env):
    key = chunk_key("abc", 7)
    assert not store.exists(key)
    store.put(key, b"first version")
    store.put(key, b"second")  # a re-run overwrites the same deterministic key
    assert store.get(key) == b"second"
    assert store.size(key) == 6 and store.exists(key)
    assert b"".join(store.read(key)) == b"second"
    assert b"".join(store.read(key, 1, 4)) == b"eco"
    assert b"".join(store.read(key, 2)) == b"cond"
    assert store.local_path(key) is None
    assert store.download_url(key, media_type="audio/flac", disposition="attachment") is None
    # Under the prefix of KQ_STORAGE_URL, as the key says
    assert s3_env.keys(store.bucket) == [f"{PREFIX}/chunks/abc/000007.flac"]


def test_a_failed_writer_block_uploads_nothing(store, s3_env):
    key = job_audio_key("j", "wav")
    store.put(key, b"complete")
    temporary: list[Path] = []
    with pytest.raises(RuntimeError), store.writer(key) as tmp:
        temporary.append(tmp)
        tmp.write_bytes(b"trunc")
        raise RuntimeError("encoder crashed halfway")
    # Readers still see the previous complete object; the temporary file is gone
    assert store.get(key) == b"complete"
    assert not temporary[0].exists()
    with pytest.raises(RuntimeError), store.writer(job_audio_key("new", "wav")) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("killed")
    assert not store.exists(job_audio_key("new", "wav"))
    assert s3_env.keys(store.bucket) == [f"{PREFIX}/{key}"]


def test_large_blobs_go_up_in_a_multipart_upload(store, s3_env, monkeypatch):
    monkeypatch.setattr(storage.s3, "MULTIPART_THRESHOLD", 1024)
    data = bytes(range(256)) * 40
    with store.writer("jobs/big/audio.wav") as tmp:
        tmp.write_bytes(data)
    with store.writer("jobs/small/audio.wav") as tmp:
        tmp.write_bytes(data[:1024])
    assert store.get("jobs/big/audio.wav") == data

    def etag(key: str) -> str:
        return s3_env.client().head_object(Bucket=store.bucket, Key=f"{PREFIX}/{key}")["ETag"]

    # S3 tags a multipart object "<md5 of the parts' md5s>-<parts>", a single PUT's "<md5>"
    assert re.fullmatch(r'"[0-9a-f]{32}-1"', etag("jobs/big/audio.wav"))
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag("jobs/small/audio.wav"))


def test_a_missing_blob_is_blob_not_found(store):
    key = chunk_key("nothing", 0)
    with pytest.raises(BlobNotFound):
        store.get(key)
    with pytest.raises(BlobNotFound):
        store.size(key)
    with pytest.raises(BlobNotFound):
        store.read(key)
    assert not store.exists(key)


def test_delete_prefix_removes_one_job_in_batches_and_nothing_else(store, s3_env, monkeypatch):
    monkeypatch.setattr(storage.s3, "DELETE_BATCH", 2)  # several DeleteObjects calls
    for index in range(5):
        store.put(chapter_audio_key("abc", index, "wav"), b"chapter")
    store.put(job_audio_key("abc", "wav"), b"audio")
    store.put(job_audio_key("abcd", "wav"), b"another job")  # shares the first characters
    # Chunk audio lies outside any job's prefix: it goes when no job holds it any more
    store.put(chunk_key("abc", 0), b"chunk")
    store.delete_prefix(job_prefix("abc"))
    assert s3_env.keys(store.bucket) == [
        f"{PREFIX}/{chunk_key('abc', 0)}",
        f"{PREFIX}/jobs/abcd/audio.wav",
    ]
    store.delete_prefix(job_prefix("never-written"))  # nothing there: no error


def test_keys_cannot_escape_the_prefix(store):
    for key in ("../outside", "/absolute", "jobs/../../x"):
        with pytest.raises(ValueError):
            store.put(key, b"x")


def test_storage_errors_say_what_is_wrong(s3_env):
    missing = S3BlobStore("kq-no-such-bucket", endpoint_url=s3_env.endpoint)
    for action in (lambda: missing.put("jobs/j/audio.wav", b"x"), lambda: missing.get("k")):
        with pytest.raises(StorageError, match="bucket 'kq-no-such-bucket' does not exist"):
            action()
    writing = pytest.raises(StorageError, match="cannot write audio 'jobs/j/audio.wav'")
    with writing, missing.writer("jobs/j/audio.wav") as tmp:
        tmp.write_bytes(b"x")
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    unreachable = S3BlobStore("kq-bucket", endpoint_url=down, max_attempts=1)
    with pytest.raises(StorageError, match=f"cannot reach {down}.*KQ_S3_ENDPOINT_URL") as error:
        unreachable.put(chunk_key("j", 0), b"x")
    # An OSError: the chunk and assembly tasks retry it, then fail the job with this message
    assert isinstance(error.value, OSError)
    with pytest.raises(StorageError, match="cannot read audio"):
        unreachable.get(chunk_key("j", 0))
    unreachable.delete_prefix(job_prefix("j"))  # best effort: logged, not raised


def test_storage_url_must_name_a_bucket():
    assert Settings().s3_location is None
    assert Settings(storage_url="s3://bucket").s3_location == ("bucket", "")
    assert Settings(storage_url="s3://bucket/a/b/").s3_location == ("bucket", "a/b")
    for url in ("s3://", "s3:///prefix", "/var/audio", "gs://bucket"):
        with pytest.raises(ValueError, match="KQ_STORAGE_URL"):
            Settings(storage_url=url)


# Downloads: the bucket's answers are the local directory's, byte for byte


def download_app(stores: dict[str, BlobStore], key: str) -> FastAPI:
    app = FastAPI()

    @app.get("/{name}")
    def download(name: str, request: Request):
        return audio_download(
            stores[name],
            key,
            "audio/wav",
            "Der Löwe.wav",
            range_header=request.headers.get("range"),
            if_range=request.headers.get("if-range"),
        )

    return app


RANGES = [
    None,
    "bytes=0-0",
    "bytes=100-199",
    "bytes=1000-",
    "bytes=-50",
    "bytes=-5000",
    "bytes=0-99999",
    "bytes=4095-4095",
    "bytes=4096-",
    "bytes=5000-6000",
    "bytes=200-100",
    "bytes=0-9, 20-29",
    "bytes=0-9,5-15",
    "bytes=abc",
    "bytes=",
    "items=0-1",
    "garbage",
]


def media_type(answer: httpx.Response) -> str:
    return answer.headers["content-type"].split(";")[0]


def byte_range_parts(answer: httpx.Response) -> list[bytes]:
    """The parts of a multipart/byteranges body, without its random boundary."""
    boundary = answer.headers["content-type"].split("boundary=")[1]
    return answer.content.split(f"--{boundary}".encode())


def test_range_answers_from_a_bucket_match_a_local_file(store, tmp_path):
    data = bytes(itertools.islice(itertools.cycle(range(251)), 4096))
    key = job_audio_key("ranges", "wav")
    store.put(key, data)
    local = LocalBlobStore(tmp_path)
    local.put(key, data)
    with TestClient(download_app({"s3": store, "local": local}, key)) as http:
        for header in RANGES:
            headers = {"Range": header} if header else {}
            answers = {name: http.get(f"/{name}", headers=headers) for name in ("s3", "local")}
            s3, file = answers["s3"], answers["local"]
            assert s3.status_code == file.status_code, header
            for name in ("content-range", "content-length", "accept-ranges"):
                assert s3.headers.get(name) == file.headers.get(name), (header, name)
            assert media_type(s3) == media_type(file), header
            if media_type(s3) == "multipart/byteranges":
                assert byte_range_parts(s3) == byte_range_parts(file), header
            else:
                assert s3.content == file.content, header
            if s3.status_code in (200, 206):
                assert s3.headers["content-disposition"] == file.headers["content-disposition"]
        assert http.get("/s3", headers={"Range": "bytes=100-199"}).content == data[100:200]
        beyond = http.get("/s3", headers={"Range": "bytes=4096-"})
        assert beyond.status_code == 416 and beyond.headers["content-range"] == "bytes */4096"
        # An If-Range that cannot be checked gets the whole file (RFC 9110)
        whole = http.get("/s3", headers={"Range": "bytes=0-9", "If-Range": '"some-etag"'})
        assert whole.status_code == 200 and whole.content == data


def test_a_download_when_the_bucket_is_unreachable_is_a_503(s3_env):
    down = S3BlobStore("kq-bucket", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1)
    with TestClient(download_app({"down": down}, "jobs/x/audio.wav")) as http:
        answer = http.get("/down")
    assert answer.status_code == 503
    assert answer.json() == {"detail": "audio storage is unavailable; try again later"}


# Whole jobs through the real API and worker processes


@pytest.fixture(scope="module")
def s3_stack(tmp_path_factory, redis_url, database_url, s3_server):
    bucket = s3_server.new_bucket()
    data_dir = tmp_path_factory.mktemp("s3-stack")
    with running_stack(
        data_dir,
        redis_url,
        database_url,
        KQ_STORAGE_URL=f"s3://{bucket}/{PREFIX}",
        # Parts are kept for revisions, and chunk audio is shared, only where reuse is on
        KQ_CHUNK_REUSE="owner",
        **s3_server.env,
    ) as stack:
        yield stack, bucket


def local_audio_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "audio").rglob("*") if p.is_file()]


def test_a_job_stores_its_audio_in_the_bucket_only(s3_stack, s3_server):
    stack, bucket = s3_stack
    temporary_before = set(Path(tempfile.gettempdir()).glob("kq-s3-*"))
    with stack.client() as http:
        response = http.post("/v1/jobs", json={"text": TEXT, "format": "wav", "title": "Keeper"})
        assert response.status_code == 202, response.text
        job = stack.wait_for_job(response.json()["id"])
        assert job["status"] == "succeeded", job["error"]
        download = http.get(f"/v1/jobs/{job['id']}/audio")
    assert download.status_code == 200
    assert download.headers["content-type"] == "audio/wav"
    assert download.headers["content-disposition"] == 'attachment; filename="Keeper.wav"'
    assert download.headers["accept-ranges"] == "bytes"
    assert int(download.headers["content-length"]) == len(download.content)
    audio, rate = read_audio(download.content)
    assert_speech(audio, rate, len(normalize_text(TEXT)))
    assert abs(len(audio) / rate - job["audio_seconds"]) < 0.01

    # Every chunk and the final file are objects in the bucket, under the prefix
    with create_engine(stack.database_url).connect() as db:
        rows = db.execute(select(Chunk).where(Chunk.job_id == job["id"])).all()
    assert len(rows) >= 2 and all(row.status == "done" for row in rows)
    objects, parts = s3_server.job_objects(bucket, PREFIX, job["id"])
    expected = {chunk_key(job["id"], row.index) for row in rows}
    expected.add(job_audio_key(job["id"], "wav"))
    assert objects == expected and parts  # the parts stay for a revision to join again
    final = s3_server.client().get_object(
        Bucket=bucket, Key=f"{PREFIX}/{job_audio_key(job['id'], 'wav')}"
    )
    assert final["Body"].read() == download.content
    # Nothing on local disk: no audio in the data dir, no temporary file left behind
    assert local_audio_files(stack.data_dir) == []
    assert set(Path(tempfile.gettempdir()).glob("kq-s3-*")) <= temporary_before


def test_range_requests_on_a_bucket_download(s3_stack):
    stack, _ = s3_stack
    with stack.client() as http:
        job_id = http.post("/v1/jobs", json={"text": "A short one. Then another."}).json()["id"]
        assert stack.wait_for_job(job_id)["status"] == "succeeded"
        url = f"/v1/jobs/{job_id}/audio"
        whole = http.get(url).content
        part = http.get(url, headers={"Range": "bytes=1000-2999"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 1000-2999/{len(whole)}"
        assert part.content == whole[1000:3000]
        tail = http.get(url, headers={"Range": "bytes=-100"})
        assert tail.status_code == 206 and tail.content == whole[-100:]
        beyond = http.get(url, headers={"Range": f"bytes={len(whole)}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{len(whole)}"


def test_chapters_download_from_the_bucket_and_delete_removes_the_objects(s3_stack, s3_server):
    stack, bucket = s3_stack
    chapters = [
        {"title": "Morning", "text": "The sun rose over the hills. Birds began to sing."},
        {"title": "Evening", "text": "The lamps were lit one by one. Then the town slept."},
    ]
    with stack.client() as http:
        job_id = http.post("/v1/jobs", json={"chapters": chapters, "format": "flac"}).json()["id"]
        assert stack.wait_for_job(job_id)["status"] == "succeeded"
        second = http.get(f"/v1/jobs/{job_id}/chapters/1/audio")
        assert second.status_code == 200
        assert second.headers["content-type"] == "audio/flac"
        # As FileResponse writes it for a local file: a space is quoted
        assert (
            second.headers["content-disposition"]
            == "attachment; filename*=utf-8''02%20Evening.flac"
        )
        audio, rate = read_audio(second.content)
        assert_speech(audio, rate, len(chapters[1]["text"]))
        key = f"{PREFIX}/{chapter_audio_key(job_id, 1, 'flac')}"
        assert s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read() == (
            second.content
        )
        assert s3_server.job_objects(bucket, PREFIX, job_id)[1]  # parts, kept for revisions
        assert http.delete(f"/v1/jobs/{job_id}").status_code == 204
    # Its own files, its chunks and its parts: nothing is left in the bucket
    assert s3_server.job_objects(bucket, PREFIX, job_id) == (set(), set())


def test_revisions_share_chunk_audio_in_the_bucket_until_both_are_deleted(s3_stack, s3_server):
    stack, bucket = s3_stack
    chapters = [
        {"title": "Dusk", "text": "The lamp was lit at dusk. Nobody spoke at supper."},
        {"title": "Night", "text": "Rain fell on the roof all night. Nobody came to the door."},
    ]
    with stack.client() as http:
        book = http.post("/v1/jobs", json={"chapters": chapters, "format": "flac"}).json()
        assert stack.wait_for_job(book["id"])["status"] == "succeeded"
        change = {"chapters": {"1": chapters[1]["text"].replace("Nobody came", "No one came")}}
        made = http.post(f"/v1/jobs/{book['id']}/revisions", json=change)
        assert made.status_code == 202, made.text
        revision = stack.wait_for_job(made.json()["id"])
        assert revision["status"] == "succeeded" and revision["chunks_to_make"] == 1
        before = http.get(f"/v1/jobs/{revision['id']}/audio").content

        # The first goes: the chunks the revision reused stay in the bucket, and it still plays
        assert http.delete(f"/v1/jobs/{book['id']}").status_code == 204
        first_left, _ = s3_server.job_objects(bucket, PREFIX, book["id"])
        assert first_left and all(key.startswith("chunks/") for key in first_left), first_left
        assert http.get(f"/v1/jobs/{revision['id']}/audio").content == before
        assert http.delete(f"/v1/jobs/{revision['id']}").status_code == 204
    # Both gone: no chunk audio, part or file of either is left
    for job_id in (book["id"], revision["id"]):
        assert s3_server.job_objects(bucket, PREFIX, job_id) == (set(), set())


def test_presigned_downloads_redirect_to_the_bucket(s3_stack, s3_server):
    stack, _ = s3_stack
    with stack.client() as http:
        job_id = http.post("/v1/jobs", json={"text": "Fetch me from the bucket."}).json()["id"]
        assert stack.wait_for_job(job_id)["status"] == "succeeded"
        direct = http.get(f"/v1/jobs/{job_id}/audio").content
    port = free_port()
    env = stack.env | {"KQ_PORT": str(port), "KQ_S3_PRESIGNED_DOWNLOADS": "true"}
    api = start_api(env, stack.data_dir / "api-presigned.log")
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 60, "the presigning API to answer")
        redirect = httpx.get(f"{url}/v1/jobs/{job_id}/audio", timeout=30)
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert location.startswith(s3_server.endpoint) and "X-Amz-Signature=" in location
        fetched = httpx.get(location, timeout=30)  # no credentials: the signature is the access
        assert fetched.status_code == 200 and fetched.content == direct
        assert fetched.headers["content-type"] == "audio/wav"
        assert fetched.headers["content-disposition"] == f'attachment; filename="{job_id}.wav"'
        part = httpx.get(location, headers={"Range": "bytes=10-19"}, timeout=30)
        assert part.status_code == 206 and part.content == direct[10:20]
    finally:
        stop_process(api)


def test_a_job_fails_with_the_reason_when_the_bucket_is_gone(s3_stack, s3_server):
    """Chunk writes raise StorageError; the task retries, then fails the job saying why."""
    stack, bucket = s3_stack
    client = s3_server.client()
    for key in s3_server.keys(bucket):
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)
    try:
        with stack.client() as http:
            job_id = http.post("/v1/jobs", json={"text": "Nowhere to put this."}).json()["id"]
        job = stack.wait_for_job(job_id, timeout_s=180)
        assert job["status"] == "failed"
        assert f"the bucket {bucket!r} does not exist" in job["error"], job["error"]
        assert local_audio_files(stack.data_dir) == []
    finally:
        client.create_bucket(Bucket=bucket)  # for the tests that may run after this one
