"""API keys: with keys every /v1 route needs one, each key sees only its own jobs (404 for the
rest), keys made by the CLI are stored hashed and can be revoked, per-key limits hold, and the
API will not listen beyond loopback without keys."""

import hashlib
import os
import re
import subprocess
import sys
import threading

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from storage.models import ApiKey, Job
from tests.support.stack import ROOT, postgres_database, running_stack
from tests.support.web_browser import render

KEY_A = "alice-key-0123456789abcdef"
KEY_B = "bob-key-0123456789abcdef"
TEXT = "Keys keep clients apart."


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def keyed_stack(tmp_path_factory, redis_url, database_url):
    # A database of the module's own: keys in it would lock out every other test's client
    data_dir = tmp_path_factory.mktemp("keys")
    if database_url.startswith("sqlite"):
        databases = iter([f"sqlite:///{data_dir / 'keys.db'}"])
    else:
        databases = postgres_database(os.environ["KQ_TEST_POSTGRES_URL"])
    for url in databases:
        keys = f"alice={KEY_A},bob={KEY_B}"
        with running_stack(data_dir, redis_url, url, KQ_API_KEYS=keys) as stack:
            yield stack


def cli(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_v1_route_needs_a_key(keyed_stack):
    with keyed_stack.client() as http:
        for method, path in [
            ("GET", "/v1/jobs"),
            ("POST", "/v1/jobs"),
            ("GET", "/v1/voices"),
            ("GET", "/v1/stats"),
            ("POST", "/v1/batches"),
            ("GET", "/v1/jobs/" + "0" * 32),
        ]:
            missing = http.request(method, path, json={"text": TEXT})
            assert missing.status_code == 401, (method, path)
            assert missing.headers["WWW-Authenticate"] == "Bearer"
            wrong = http.request(method, path, json={"text": TEXT}, headers=bearer("nope"))
            assert wrong.status_code == 401 and "unknown or revoked" in wrong.json()["detail"]
        assert http.get("/healthz").status_code == 200  # liveness stays open for probes
        assert http.get("/v1/voices", headers=bearer(KEY_A)).status_code == 200


def test_another_key_cannot_see_read_download_or_cancel_a_job(keyed_stack):
    with keyed_stack.client() as http:
        created = http.post("/v1/jobs", json={"text": TEXT}, headers=bearer(KEY_A))
        assert created.status_code == 202
        job_id = created.json()["id"]
        batch = http.post(
            "/v1/batches", json={"jobs": [{"text": TEXT}]}, headers=bearer(KEY_A)
        ).json()
        done = keyed_stack.wait_for_job(job_id, api_key=KEY_A)
        assert done["status"] == "succeeded"

        for method, path in [
            ("GET", f"/v1/jobs/{job_id}"),
            ("GET", f"/v1/jobs/{job_id}/audio"),
            ("GET", f"/v1/jobs/{job_id}/chapters"),
            ("GET", f"/v1/jobs/{job_id}/subtitles"),
            ("POST", f"/v1/jobs/{job_id}/cancel"),
            ("DELETE", f"/v1/jobs/{job_id}"),
            ("GET", f"/v1/batches/{batch['id']}"),
        ]:
            answer = http.request(method, path, headers=bearer(KEY_B))
            assert answer.status_code == 404, (method, path, answer.text)
            # The same answer as for a job that never existed: nothing to learn from it
            assert answer.json()["detail"].endswith("not found")
        listed = http.get("/v1/jobs", params={"limit": 200}, headers=bearer(KEY_B)).json()
        assert job_id not in {j["id"] for j in listed["jobs"]}
        stats = http.get("/v1/stats", headers=bearer(KEY_B)).json()
        assert job_id not in {j["id"] for j in stats["recent_jobs"]}

        # A still has it all, untouched by B's attempts
        mine = http.get("/v1/jobs", params={"limit": 200}, headers=bearer(KEY_A)).json()
        assert job_id in {j["id"] for j in mine["jobs"]}
        audio = http.get(f"/v1/jobs/{job_id}/audio", headers=bearer(KEY_A))
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        assert http.delete(f"/v1/jobs/{job_id}", headers=bearer(KEY_A)).status_code == 204


def test_idempotency_keys_belong_to_their_api_key(keyed_stack):
    body = {"text": "Once per client, however often it is sent."}
    with keyed_stack.client() as http:
        results: list[str] = []

        def submit():
            answer = http.post(
                "/v1/jobs", json=body, headers=bearer(KEY_A) | {"Idempotency-Key": "order-77"}
            )
            assert answer.status_code == 202, answer.text
            results.append(answer.json()["id"])

        threads = [threading.Thread(target=submit) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(results) == 6 and len(set(results)) == 1  # concurrent repeats: one job
        other = http.post(
            "/v1/jobs", json=body, headers=bearer(KEY_B) | {"Idempotency-Key": "order-77"}
        )
        assert other.status_code == 202 and other.json()["id"] != results[0]
        changed = http.post(
            "/v1/jobs",
            json={"text": "Something else."},
            headers=bearer(KEY_A) | {"Idempotency-Key": "order-77"},
        )
        assert changed.status_code == 409
    engine = create_engine(keyed_stack.database_url)
    with engine.connect() as db:
        count = db.scalar(select(func.count()).where(Job.idempotency_key == "order-77"))
    engine.dispose()
    assert count == 2


def test_cli_keys_are_hashed_limited_and_revocable(keyed_stack):
    made = cli(keyed_stack, "keys", "create", "carol", "--max-queued-jobs", "1")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("kq_") and len(key) > 40

    engine = create_engine(keyed_stack.database_url)
    with engine.connect() as db:
        row = db.execute(select(ApiKey).where(ApiKey.name == "carol")).one()
    engine.dispose()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    listing = cli(keyed_stack, "keys", "list")
    assert "carol" in listing.stdout and key not in listing.stdout and row.prefix in listing.stdout

    with keyed_stack.client() as http:
        long_job = {"text": " ".join(["A sentence that takes the worker a while."] * 40)}
        first_key = bearer(key) | {"Idempotency-Key": "carol-1"}
        first = http.post("/v1/jobs", json=long_job, headers=first_key)
        assert first.status_code == 202
        second = http.post("/v1/jobs", json={"text": TEXT}, headers=bearer(key))
        assert second.status_code == 429 and "unfinished" in second.json()["detail"]
        assert "Retry-After" in second.headers
        # A new job under an Idempotency-Key counts; a replay of the first one makes no job
        fresh = bearer(key) | {"Idempotency-Key": "carol-2"}
        assert http.post("/v1/jobs", json={"text": TEXT}, headers=fresh).status_code == 429
        replay = http.post("/v1/jobs", json=long_job, headers=first_key)
        assert replay.status_code == 202 and replay.json()["id"] == first.json()["id"]
        batch = http.post("/v1/batches", json={"jobs": [{"text": TEXT}]}, headers=bearer(key))
        assert batch.status_code == 429
        listed = http.get("/v1/jobs", headers=bearer(key)).json()["jobs"]
        assert [job["id"] for job in listed] == [first.json()["id"]]
        # Another key's quota is its own
        assert http.post("/v1/jobs", json={"text": TEXT}, headers=bearer(KEY_B)).status_code == 202
        assert http.post(f"/v1/jobs/{first.json()['id']}/cancel", headers=bearer(key)).is_success
        assert http.post("/v1/jobs", json={"text": TEXT}, headers=bearer(key)).status_code == 202

        revoked = cli(keyed_stack, "keys", "revoke", row.prefix)
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        answer = http.get("/v1/jobs", headers=bearer(key))
        assert answer.status_code == 401


def test_per_key_text_limit(keyed_stack):
    made = cli(keyed_stack, "keys", "create", "dave", "--max-text-chars", "100")
    key = made.stdout.strip().splitlines()[-1]
    with keyed_stack.client() as http:
        big = http.post("/v1/jobs", json={"text": "Words and words. " * 10}, headers=bearer(key))
        assert big.status_code == 413 and "limit is 100" in big.json()["detail"]
        small = http.post("/v1/jobs", json={"text": "Short."}, headers=bearer(key))
        assert small.status_code == 202


def test_api_refuses_to_listen_beyond_loopback_without_keys(tmp_path):
    env = {
        "KQ_DATA_DIR": str(tmp_path),
        "KQ_DATABASE_URL": f"sqlite:///{tmp_path / 'open.db'}",
        "PATH": "/usr/bin:/bin",
    }
    refused = subprocess.run(
        [sys.executable, "-m", "cli.main", "api", "--host", "0.0.0.0", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "refusing to listen on 0.0.0.0 without API keys" in refused.stderr
    assert "KQ_API_KEYS" in refused.stderr and "kokoro-queue keys create" in refused.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://127.0.0.1:1/healthz", timeout=2)


def test_dashboard_asks_for_a_key(keyed_stack):
    dom = render(f"{keyed_stack.api_url}/dashboard")
    form = re.search(r'<form id="key-form"[^>]*>', dom).group(0)
    assert "hidden" not in form  # shown, because /v1/stats answered 401
    assert "an API key is needed" in dom
    assert "no data yet" in re.search(r'<table id="recent-jobs">(.*?)</table>', dom, re.S).group(1)
