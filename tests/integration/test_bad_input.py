"""Every bad input these endpoints document gets a clear 4xx and changes nothing."""

import json
import socket

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from storage.models import Chunk, Job

GOOD = {"text": "A perfectly good sentence."}
MISSING = "0" * 32


def row_counts(stack) -> tuple[int, int]:
    engine = create_engine(stack.database_url)
    with engine.connect() as db:
        counts = (
            db.scalar(select(func.count()).select_from(Job)),
            db.scalar(select(func.count()).select_from(Chunk)),
        )
    engine.dispose()
    return counts


def files_in(stack) -> set:
    root = stack.data_dir / "audio"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def unchanged(stack):
    """Asserts that the test created no job, chunk or audio file."""
    before = row_counts(stack), files_in(stack)
    yield
    assert (row_counts(stack), files_in(stack)) == before


BAD_BODIES = {
    "empty text": ({"text": ""}, 422, "empty"),
    "whitespace text": ({"text": "  \n\t  \n"}, 422, "empty"),
    "nothing speakable": ({"text": "!!! ... --- ?!"}, 422, "nothing speakable"),
    "neither text nor chapters": ({"voice": "jf_alpha"}, 422, "either"),
    "text and chapters": ({**GOOD, "chapters": [{"text": "More."}]}, 422, "either"),
    "empty chapter text": ({"chapters": [{"title": "One", "text": " "}]}, 422, "empty"),
    "unknown voice": ({**GOOD, "voice": "af_nobody"}, 422, "jf_alpha"),
    "speed too low": ({**GOOD, "speed": 0.49}, 422, "speed"),
    "speed too high": ({**GOOD, "speed": 2.01}, 422, "speed"),
    "speed not a number": ({**GOOD, "speed": "fast"}, 422, "speed"),
    "unknown format": ({**GOOD, "format": "aiff"}, 422, "format"),
    "unknown language": ({**GOOD, "lang": "xx-yy"}, 422, "lang"),
    "priority out of range": ({**GOOD, "priority": 10}, 422, "priority"),
    "unknown field": ({**GOOD, "colour": "blue"}, 422, "colour"),
    "text not a string": ({"text": 12}, 422, "text"),
    "body not an object": (["text"], 422, ""),
    "control character in title": ({**GOOD, "title": "a\u0000b"}, 422, "control"),
    "title too long": ({**GOOD, "title": "t" * 501}, 422, "title"),
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_bad_job_body_is_rejected(stack, unchanged, name):
    body, code, mentions = BAD_BODIES[name]
    with stack.client() as http:
        response = http.post("/v1/jobs", json=body)
    assert response.status_code == code, response.text
    assert mentions in json.dumps(response.json()["detail"])


def test_malformed_json_is_400(stack, unchanged):
    with stack.client() as http:
        response = http.post(
            "/v1/jobs", content=b'{"text": "unclosed', headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_body_over_the_size_limit_is_413_before_reading(stack, unchanged):
    limit = int(stack.env["KQ_MAX_REQUEST_BYTES"])
    # Declared too large: answered on the headers alone while the client has sent no body
    host, port = stack.api_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            b"POST /v1/jobs HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {limit + 1}\r\n\r\n".encode()
        )
        answer = b""
        while block := raw.recv(65536):  # the server closes the connection after answering
            answer += block
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert str(limit).encode() in answer
    # Streamed without a length: refused once the running count passes the limit
    with stack.client() as http:
        streamed = http.post(
            "/v1/jobs",
            content=iter([b'{"text": "', b"a" * (limit + 10), b'"}']),
            headers={"content-type": "application/json"},
        )
    assert streamed.status_code == 413
    assert str(limit) in streamed.json()["detail"]


def test_text_over_the_character_limit_is_413(stack, unchanged):
    limit = int(stack.env["KQ_MAX_TEXT_CHARS"])
    with stack.client() as http:
        response = http.post("/v1/jobs", json={"text": "word " * (limit // 5 + 1)})
    assert response.status_code == 413
    assert str(limit) in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/jobs/{MISSING}"),
        ("GET", f"/v1/jobs/{MISSING}/audio"),
        ("POST", f"/v1/jobs/{MISSING}/cancel"),
        ("DELETE", f"/v1/jobs/{MISSING}"),
    ],
)
def test_unknown_job_is_404(stack, unchanged, method, path):
    with stack.client() as http:
        response = http.request(method, path)
    assert response.status_code == 404
    assert MISSING in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "limit=ten", "status=sleeping", "cursor=not-a-cursor"],
)
def test_bad_list_query_is_4xx(stack, unchanged, query):
    with stack.client() as http:
        response = http.get(f"/v1/jobs?{query}")
    assert response.status_code in (400, 422)
    assert "detail" in response.json()


def test_wrong_content_type_is_4xx(stack, unchanged):
    with stack.client() as http:
        response = http.post(
            "/v1/jobs", content=b"just text", headers={"content-type": "text/plain"}
        )
    assert 400 <= response.status_code < 500


def test_audio_of_unfinished_job_is_409(stack):
    text = " ".join(["This sentence keeps the workers busy for a little while."] * 12)
    with stack.client() as http:
        job = http.post("/v1/jobs", json={"text": text}).json()
        response = http.get(f"/v1/jobs/{job['id']}/audio")
        assert response.status_code == 409
        assert "audio is available once it has succeeded" in response.json()["detail"]
        assert http.post(f"/v1/jobs/{job['id']}/cancel").status_code == 200


def test_no_route_answers_500_to_junk(stack):
    junk_paths = [
        "/v1/jobs/%00",
        "/v1/jobs/%00/audio",
        "/v1/jobs?cursor=MjAyNnwA",
        "/v1/jobs/" + "x" * 5000,
        "/v1/jobs/../../etc/passwd",
    ]
    with stack.client() as http:
        for path in junk_paths:
            response = http.get(path)
            assert response.status_code < 500, path
        response = http.post(
            "/v1/jobs", content=b"\xff\xfe\x00", headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
    with httpx.Client(base_url=stack.api_url) as http:
        assert http.get("/healthz").json()["status"] == "ok"
