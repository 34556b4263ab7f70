"""Batches: many jobs or book files in one request, one status for all."""

from tests.epub_factory import build_epub
from tests.support.stack import wait_for


def test_json_batch_runs_every_job_under_one_status(stack):
    texts = ["The first job of the batch.", "The second one, a little longer than the first."]
    with stack.client() as http:
        response = http.post("/v1/batches", json={"jobs": [{"text": t} for t in texts]})
        assert response.status_code == 202, response.text
        batch = response.json()
        assert response.headers["Location"] == f"/v1/batches/{batch['id']}"
        totals = [j["progress"]["chars_total"] for j in batch["jobs"]]
        assert all(t - 2 <= n <= t for n, t in zip(totals, map(len, texts), strict=True))
        assert batch["progress"]["chars_total"] == sum(totals)

        def finished():
            current = http.get(f"/v1/batches/{batch['id']}").json()
            return current if current["status"] not in ("queued", "running") else None

        done = wait_for(finished, 300, "the batch to finish", interval_s=0.5)
    assert done["status"] == "succeeded"
    assert done["progress"]["percent"] == 100.0
    assert [j["status"] for j in done["jobs"]] == ["succeeded", "succeeded"]
    assert [j["id"] for j in done["jobs"]] == [j["id"] for j in batch["jobs"]]


def test_multipart_batch_makes_one_job_per_file(stack):
    files = [
        ("file", ("one.md", b"# One\nA chapter in Markdown.", "text/markdown")),
        (
            "file",
            ("two.epub", build_epub([("Only", "A chapter in an EPUB.")]), "application/epub+zip"),
        ),
    ]
    with stack.client() as http:
        response = http.post("/v1/batches", files=files, data={"format": "flac"})
        assert response.status_code == 202, response.text
        batch = response.json()
        for job in batch["jobs"]:
            http.post(f"/v1/jobs/{job['id']}/cancel")  # the jobs themselves are tested elsewhere
    assert [j["title"] for j in batch["jobs"]] == ["one", "A Harbour Town"]
    assert [j["format"] for j in batch["jobs"]] == ["flac", "flac"]
    assert [j["chapters"] for j in batch["jobs"]] == [["One"], ["Only"]]
