"""Flower watches the real workers: behind basic auth, with our tasks readable in its API."""

import re
import secrets
import subprocess
import sys

import httpx
import pytest

from tests.support.stack import ROOT, free_port, stop_process, wait_for, wait_until_answers
from tests.support.web_browser import render

# Flower reads the broker and task events, not the database
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def flower(stack):
    port = free_port()
    password = secrets.token_urlsafe(12)
    env = {**stack.env, "KQ_FLOWER_PORT": str(port), "KQ_FLOWER_PASSWORD": password}
    log = stack.data_dir / f"flower-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "flower"], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_answers(process, f"{url}/healthcheck", log, "Flower")
    try:
        yield url, ("kq", password), process
    finally:
        stop_process(process)


def test_flower_needs_credentials(flower):
    url, (user, password), process = flower
    for path in ("/api/workers", "/api/tasks", "/", "/tasks"):
        assert httpx.get(f"{url}{path}", timeout=10).status_code == 401, path
        wrong = httpx.get(f"{url}{path}", auth=(user, "wrong"), timeout=10)
        assert wrong.status_code == 401, path
    assert httpx.get(f"{url}/api/workers", auth=(user, password), timeout=10).status_code == 200
    # The password travels in the environment, never on a command line `ps` shows
    assert password not in " ".join(process.args)
    cmdline = (f"/proc/{process.pid}/cmdline", "r")
    with open(*cmdline) as f:
        assert password not in f.read()


def test_flower_lists_the_worker_and_every_chunk_task_as_succeeded(flower, stack):
    url, auth, _ = flower
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": "Flower sees this job. It has two parts."})
        job = stack.wait_for_job(job.json()["id"])
    assert job["status"] == "succeeded"

    with httpx.Client(base_url=url, auth=auth, timeout=10) as api:
        workers = api.get("/api/workers", params={"status": "true"}).json()
        assert any(online for online in workers.values()), workers

        def chunk_tasks():
            tasks = api.get("/api/tasks", params={"taskname": "kq.synthesize_chunk"}).json()
            mine = [t for t in tasks.values() if job["id"] in str(t.get("args"))]
            done = [t for t in mine if t["state"] == "SUCCESS"]
            return mine if len(done) == job["progress"]["chunks_total"] else None

        mine = wait_for(chunk_tasks, 30, "Flower to show the chunk tasks")
    # Arguments are readable ids, never the text
    for task in mine:
        assert re.fullmatch(rf"\[\d+, '{job['id']}', \d+\]", task["args"]), task["args"]
        assert task["worker"] in workers


def test_flower_dashboard_shows_the_worker_row(flower):
    url, (user, password), _ = flower
    with httpx.Client(base_url=url, auth=(user, password), timeout=10) as api:
        names = list(api.get("/api/workers", params={"status": "true"}).json())
    dom = render(f"{url}/workers", credentials=(user, password))
    assert 'id="workers-table"' in dom
    assert any(name in dom for name in names), "no worker row on Flower's dashboard"
