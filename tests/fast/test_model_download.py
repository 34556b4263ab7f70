"""`kokoro-queue models`: downloads from a local HTTP server of generated files, resumed after a
cut, refused on a wrong hash; the offline message; verify finding a flipped byte."""

import hashlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cli.main import main
from infra.model_download import DownloadError, download_files, part_path
from infra.model_files import (
    EMBEDDED_MODEL_NAME,
    KnownFile,
    assemble_embedded_model,
    check_installed,
)

FILE_BYTES = 3 * 1024 * 1024


@dataclass
class Release:
    """What the local server serves and what it was asked."""

    files: dict[str, bytes]
    url: str = ""
    # The first response is cut after this many bytes of its body: the connection drops
    cut_first_after: int | None = None
    # False: a server that answers every request with the whole file (200)
    honour_ranges: bool = True
    range_headers: list[str | None] = field(default_factory=list)


class ReleaseHandler(BaseHTTPRequestHandler):
    release: Release

    def do_GET(self):  # noqa: N802 (http.server's name)
        release = self.release
        asked = self.headers.get("Range")
        release.range_headers.append(asked)
        data = release.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404)
            return
        partial = asked is not None and release.honour_ranges
        start = int(re.fullmatch(r"bytes=(\d+)-", asked)[1]) if partial else 0
        if start >= len(data):
            self.send_error(416)
            return
        body = data[start:]
        self.send_response(206 if partial else 200)
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if release.cut_first_after is not None:
            body, release.cut_first_after = body[: release.cut_first_after], None
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def serve(release: Release) -> Iterator[Release]:
    handler = type("Handler", (ReleaseHandler,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    release.url = f"http://127.0.0.1:{server.server_address[1]}/release"
    try:
        yield release
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def known_file(name: str, data: bytes) -> KnownFile:
    return KnownFile(name, len(data), hashlib.sha256(data).hexdigest())


def release_of(name: str, data: bytes, **options) -> Release:
    return Release(files={f"release/{name}": data}, **options)


def test_a_full_download_is_verified_and_put_in_place(tmp_path):
    data = os.urandom(FILE_BYTES)
    known = known_file("kokoro-v1.0.onnx", data)
    models_dir = tmp_path / "models"
    seen = []

    def progress(file: KnownFile, done: int) -> None:
        seen.append(done)

    with serve(release_of(known.name, data)) as release:
        fetched = list(download_files(release.url, [known], models_dir, progress))
        again = list(download_files(release.url, [known], models_dir))
    assert fetched == [(known, True)]
    assert (models_dir / known.name).read_bytes() == data
    assert [p.name for p in models_dir.iterdir()] == [known.name]  # no .part left
    assert seen[-1] == len(data)
    assert again == [(known, False)]  # already installed: not fetched again
    assert release.range_headers == [None]


def test_a_cut_download_resumes_with_a_range_request(tmp_path):
    data = os.urandom(FILE_BYTES)
    half = len(data) // 2
    known = known_file("voices-v1.0.bin", data)
    models_dir = tmp_path / "models"
    with serve(release_of(known.name, data, cut_first_after=half)) as release:
        with pytest.raises(DownloadError, match="run the same command again to resume"):
            list(download_files(release.url, [known], models_dir))
        part = part_path(models_dir, known)
        assert part.stat().st_size == half  # what came before the cut is kept
        assert not (models_dir / known.name).exists()

        assert list(download_files(release.url, [known], models_dir)) == [(known, True)]
    assert release.range_headers == [None, f"bytes={half}-"]
    assert (models_dir / known.name).read_bytes() == data
    assert not part.exists()


def test_a_server_that_ignores_the_range_is_read_from_the_start(tmp_path):
    data = os.urandom(FILE_BYTES)
    known = known_file("voices-v1.0.bin", data)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    part_path(models_dir, known).write_bytes(b"x" * 1000)  # left by an earlier run
    with serve(release_of(known.name, data, honour_ranges=False)) as release:
        assert list(download_files(release.url, [known], models_dir)) == [(known, True)]
    assert release.range_headers == ["bytes=1000-"]
    assert (models_dir / known.name).read_bytes() == data  # the 200 replaced the part


@pytest.mark.parametrize("served", ["other bytes", "more bytes"])
def test_a_wrong_file_is_refused_and_nothing_is_left(tmp_path, served):
    expected = os.urandom(FILE_BYTES)
    data = os.urandom(FILE_BYTES) if served == "other bytes" else expected + b"extra"
    known = known_file("kokoro-v1.0.fp16.onnx", expected)
    models_dir = tmp_path / "models"
    refusal = pytest.raises(DownloadError, match="is not the published file")
    with serve(release_of(known.name, data)) as release, refusal as refused:
        list(download_files(release.url, [known], models_dir))
    assert "\n" not in str(refused.value)
    assert list(models_dir.iterdir()) == []  # neither the file nor its .part


def test_no_network_is_one_line_and_exit_code_1(tmp_path, monkeypatch, capsys):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("KQ_MODEL_BASE_URL", f"http://127.0.0.1:{port}/release")
    code = main(["models", "download", "--variant", "fp16", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"could not reach http://127.0.0.1:{port}/release" in err
    for way_out in ("KQ_MODEL_BASE_URL", "KOKORO_MODEL_PATH", "KOKORO_VOICES_PATH"):
        assert way_out in err
    models_dir = tmp_path / "models"
    assert not models_dir.exists() or list(models_dir.iterdir()) == []


def flip_a_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_verify_finds_a_flipped_byte(tmp_path):
    data = os.urandom(FILE_BYTES)
    known = known_file("voices-v1.0.bin", data)
    path = tmp_path / known.name
    path.write_bytes(data)
    assert check_installed(tmp_path, [known]) == [(path, None)]
    flip_a_byte(path, len(data) // 3)
    [(checked, problem)] = check_installed(tmp_path, [known])
    assert checked == path and problem.startswith("sha256 ")


def test_models_verify_checks_the_assembled_model(tmp_path, capsys):
    model = assemble_embedded_model(tmp_path / "models")
    assert main(["models", "verify", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK") and EMBEDDED_MODEL_NAME in out

    flip_a_byte(model, 12_345_678)
    assert main(["models", "verify", "--data-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("MISMATCH") and EMBEDDED_MODEL_NAME in captured.out
    assert "models download" in captured.err
