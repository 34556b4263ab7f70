"""An Audiobookshelf stand-in: a real HTTP server on loopback with the upload API as
Audiobookshelf documents it.

``POST /api/upload`` with ``Authorization: Bearer <token>`` and a multipart form: ``title``,
``author`` and ``series`` (optional), ``library`` and ``folder`` (ids), and files under any
field name. It answers 401 to a missing or wrong token, 404 to a library or folder it does not
have, 500 when no file came, and 200 otherwise; ``fail_next`` makes it answer 500 that many
times first (a server restarting). Every upload it accepted is kept, files and all.
"""

import email
import email.policy
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Upload:
    fields: dict[str, str]
    files: list[UploadedFile]


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], list[UploadedFile]]:
    """The text fields and files of a multipart/form-data body."""
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body,
        policy=email.policy.HTTP,
    )
    if not message.is_multipart():
        raise ValueError(f"not a multipart body: {content_type}")
    fields, files = {}, []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode()
        else:
            files.append(UploadedFile(name, filename, part.get_content_type(), data))
    return fields, files


@dataclass
class Audiobookshelf:
    token: str = "abs-test-token-0123456789"
    library: str = "lib_c1u6t4p45c35rf0nzd"
    folder: str = "fol_bev1zuxhb0j0s1wehr"
    fail_next: int = 0
    uploads: list[Upload] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # every status it answered, in order

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def start(self) -> "Audiobookshelf":
        shelf = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                code = shelf.answer(self.path, self.headers, body)
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def answer(self, path: str, headers, body: bytes) -> int:
        with self.lock:
            code = self._answer(path, headers, body)
            self.answers.append(code)
            return code

    def _answer(self, path: str, headers, body: bytes) -> int:
        if path != "/api/upload":
            return 404
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401
        if self.fail_next > 0:
            self.fail_next -= 1
            return 500
        fields, files = parse_form(headers.get("Content-Type", ""), body)
        if fields.get("library") != self.library or fields.get("folder") != self.folder:
            return 404
        if not files or not fields.get("title"):
            return 500
        self.uploads.append(Upload(fields, files))
        return 200

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self, **changes) -> dict:
        """The delivery settings of a job (``deliver.audiobookshelf``) for this server."""
        return {
            "url": self.url,
            "token": self.token,
            "library": self.library,
            "folder": self.folder,
        } | changes

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
