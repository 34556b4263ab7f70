"""Hostile and careless inputs against a real API process (uvicorn) with the default limits:
each is answered with a 2xx or a 4xx (a refusal within 3.5 s), and while it is being answered
another client's ``GET /healthz`` keeps answering within 250 ms.

The API runs without a worker on a queue of its own (jobs it accepts stay queued and go with the
queue), on SQLite: what is tested is the API process, not the database.
"""

import io
import json
import threading
import time
import uuid
import zipfile
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.queues import drop_queue
from tests.support.stack import free_port, stack_env, start_api, stop_process, wait_until_answers

# A refusal comes before the costly part: within this, on a busy 2-core machine
REFUSED_WITHIN_S = 3.5
# A job of the whole text limit (2,000,000 characters) is read, planned and stored in 3-4 s on a
# 2-core machine; this bound is for a cost that runs away (a regex that backtracks on 2 MB runs
# for minutes), not a speed test: the API answers others meanwhile, which is what is timed
ACCEPTED_WITHIN_S = 12
HEALTHZ_WITHIN_S = 0.25
HEALTHZ_EVERY_S = 0.05


@dataclass(frozen=True)
class Hostile:
    """One request: method, path, and httpx keyword arguments."""

    name: str
    method: str
    path: str
    kwargs: dict


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip", zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _opf(manifest: list[tuple[str, str]], spine: list[str]) -> bytes:
    items = "".join(
        f'<item id="{i}" href="{href}" media-type="application/xhtml+xml"/>' for i, href in manifest
    )
    refs = "".join(f'<itemref idref="{i}"/>' for i in spine)
    return (
        '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="3.0" unique-identifier="id"><metadata '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
        "<dc:title>Hostile</dc:title><dc:language>en</dc:language></metadata>"
        f"<manifest>{items}</manifest><spine>{refs}</spine></package>"
    ).encode()


def _chapter(body: str) -> bytes:
    return f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>'.encode()


def epub_one_chapter_many_times(copies: int = 100, chapter_bytes: int = 2_000_000) -> bytes:
    """One chapter file listed ``copies`` times in the manifest and the spine."""
    manifest = [(f"c{n}", "big.xhtml") for n in range(copies)]
    chapter = _chapter("<p>" + "word " * (chapter_bytes // 5) + "</p>")
    return _zip(
        {"OEBPS/content.opf": _opf(manifest, [i for i, _ in manifest]), "OEBPS/big.xhtml": chapter}
    )


def epub_many_items(count: int = 10_000) -> bytes:
    manifest = [(f"c{n}", "one.xhtml") for n in range(count)]
    return _zip(
        {
            "OEBPS/content.opf": _opf(manifest, [i for i, _ in manifest]),
            "OEBPS/one.xhtml": _chapter("<p>One short chapter.</p>"),
        }
    )


def epub_one_text_node(chars: int = 9_000_000) -> bytes:
    return _zip(
        {
            "OEBPS/content.opf": _opf([("c", "text.xhtml")], ["c"]),
            "OEBPS/text.xhtml": _chapter("<p>" + "Word and word. " * (chars // 15) + "</p>"),
        }
    )


def _upload(path: str, name: str, data: bytes, **fields: str) -> Hostile:
    return Hostile(
        f"{path} {name} ({len(data):,} bytes)",
        "POST",
        path,
        {"files": {"file": (name, data)}, "data": fields},
    )


def _json(path: str, name: str, body: dict, **kwargs) -> Hostile:
    return Hostile(name, "POST", path, {"json": body, **kwargs})


def _get(name: str, path: str, **kwargs) -> Hostile:
    return Hostile(name, "GET", path, kwargs)


def hostile_inputs() -> list[Hostile]:
    heading = ("# a" + " " * 3000 + "b\n").encode()
    brackets = ("[" * 40_000).encode()
    naive_cursor = urlsafe_b64encode(b"2026-01-01T00:00:00|" + b"0" * 26).decode().rstrip("=")
    ssml = (
        '<?xml version="1.0" encoding="{}"?><speak version="1.0" '
        'xmlns="http://www.w3.org/2001/10/synthesis">Café au lait.</speak>'
    )
    cases = []
    for path in ("/v1/text/preview", "/v1/jobs", "/v1/batches"):
        cases += [
            _upload(path, "heading.md", heading * 3),
            _upload(path, "links.md", brackets),
            _upload(path, "brackets-10MiB.md", b"[" * (10 * 1024 * 1024 - 4096)),
        ]
    cases += [
        _upload("/v1/jobs", "dup-manifest.epub", epub_one_chapter_many_times()),
        _upload("/v1/jobs", "many-items.epub", epub_many_items()),
        _upload("/v1/text/preview", "one-text-node.epub", epub_one_text_node()),
        _json("/v1/jobs", "a run of 80,000 )", {"text": "Hello " + ")" * 80_000}),
        _json("/v1/jobs", "a run of 80,000 ]", {"text": "Hello " + "]" * 80_000}),
        _json("/v1/jobs", "2,000,000 characters of )", {"text": ")" * 1_999_999}),
        _json("/v1/jobs", "600,000 one-letter paragraphs", {"text": "a\n\n" * 600_000}),
        _json(
            "/v1/jobs",
            "100,000 pauses",
            {"text": "Hello." + "[pause:10s]" * 100_000, "markup": "tags"},
        ),
        _json(
            "/v1/jobs",
            "80,000 chapters",
            {"chapters": [{"title": "t", "text": "a"} for _ in range(80_000)]},
        ),
        _json(
            "/v1/text/preview",
            "long pronunciation phrases",
            {
                "text": "The quick brown fox jumps over the lazy dog. " * 600,
                "pronunciations": {
                    **{f"word{n}": "wˈɜːd" for n in range(1000)},
                    " ".join(["the quick brown fox"] * 12): "fˈɑks",
                },
            },
        ),
    ]
    for encoding in ("UTF-7", "utf-32", "shift_jis", "no-such-encoding", "ISO-8859-1"):
        cases.append(
            _json(
                "/v1/text/preview",
                f"SSML declaring {encoding}",
                {"text": ssml.format(encoding), "markup": "ssml"},
            )
        )
    cases += [
        _get("a cursor with a naive time", f"/v1/jobs?cursor={naive_cursor}"),
        _get("stats since year 1 +14:00", "/v1/stats?since=0001-01-01T00:00:00%2B14:00"),
        _get("stats until year 9999 -14:00", "/v1/stats?until=9999-12-31T23:59:59-14:00"),
        _get("stats until year 1", "/v1/stats?until=0001-01-01T00:30:00Z"),
        _get("rebinding Host", "/v1/jobs", headers={"Host": "rebind.evil.example"}),
        _json(
            "/v1/jobs",
            "cross-site submission",
            {"text": "Hello from another site."},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        ),
    ]
    return cases


@pytest.fixture(scope="module")
def api_url(tmp_path_factory, redis_url) -> Iterator[str]:
    """An API process with the default size limits, and no worker."""
    from storage.migrate import upgrade

    data_dir = tmp_path_factory.mktemp("hostile")
    database_url = f"sqlite:///{data_dir / 'kq.db'}"
    queue = f"kq-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = stack_env(data_dir, redis_url, database_url, queue, port)
    # The defaults, not the tests'
    for name in ("KQ_MAX_REQUEST_BYTES", "KQ_MAX_TEXT_CHARS", "KQ_API_READER_PROCESSES"):
        env.pop(name)
    upgrade(database_url)
    api = start_api(env, data_dir / "api.log")
    url = f"http://127.0.0.1:{port}"
    wait_until_answers(api, f"{url}/healthz", data_dir / "api.log", "the API")
    try:
        yield url
    finally:
        stop_process(api)
        drop_queue(redis_url, queue)


class HealthProbe:
    """Asks ``/healthz`` every 50 ms on a connection of its own, recording each answer's time."""

    def __init__(self, url: str):
        self.url = url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    status = http.get("/healthz").status_code
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                else:
                    if status != 200:
                        self.failures.append(f"status {status}")
                self.latencies.append(time.perf_counter() - started)
                self._stop.wait(HEALTHZ_EVERY_S)

    def __enter__(self) -> "HealthProbe":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("hostile", hostile_inputs(), ids=lambda h: h.name)
def test_a_hostile_input_is_answered_quickly_and_does_not_stall_the_api(api_url, hostile):
    with httpx.Client(base_url=api_url, timeout=30) as http:
        request = http.build_request(hostile.method, hostile.path, **hostile.kwargs)
        with HealthProbe(api_url) as probe:
            time.sleep(0.2)  # the probe's connection is open before the hostile request goes
            started = time.perf_counter()
            response = http.send(request)
            answered_s = time.perf_counter() - started
            time.sleep(0.1)
    detail = response.text[:300]
    assert 200 <= response.status_code < 500, f"{response.status_code}: {detail}"
    if response.status_code >= 400:  # a 4xx says why, as JSON
        assert json.loads(response.text)["detail"], detail
    within_s = REFUSED_WITHIN_S if response.status_code >= 400 else ACCEPTED_WITHIN_S
    assert answered_s < within_s, f"answered in {answered_s:.2f} s ({response.status_code})"
    assert not probe.failures, probe.failures
    assert probe.latencies, "the health probe never answered"
    slowest = max(probe.latencies)
    assert slowest < HEALTHZ_WITHIN_S, (
        f"/healthz took {slowest * 1000:.0f} ms while this was answered "
        f"({response.status_code} in {answered_s:.2f} s)"
    )


@pytest.mark.parametrize(
    "last_event_id", ["\xb2", "9" * 20], ids=["superscript two", "twenty nines"]
)
def test_a_bad_last_event_id_is_a_400_at_once(api_url, last_event_id):
    with httpx.Client(base_url=api_url, timeout=10) as http:
        job = http.post("/v1/jobs", json={"text": "A job to follow."})
        assert job.status_code == 202, job.text
        response = http.get(
            f"/v1/jobs/{job.json()['id']}/events",
            headers={"Last-Event-ID": last_event_id.encode("latin-1")},
        )
    assert response.status_code == 400, response.text
