"""Short speech requests from many clients at once, while a book is synthesized, against
kokoro-onnx served the usual way (one process, ``Kokoro.create`` under a lock), in one run.

(a) the service: a long job is submitted first and keeps running; then CLIENTS clients each send
    short ``POST /v1/audio/speech`` requests (a sentence or two, varied) back to back for
    ``--seconds``;
(b) the same clients and requests against benchmarks/locked_kokoro_server.py, with the same model,
    voices and voice. It gets no book: fed through one locked ``create`` a book would hold the
    lock for the whole window and no short request would be answered at all, so the baseline is
    measured at its best, with the machine to itself.

Reports requests/s and p50/p95/p99 time to the first audio byte and to the last byte; the figures
are (a) ÷ (b). Writes benchmarks/results/concurrent_speech.json and its table in docs/benchmarks.md.

    .venv/bin/python benchmarks/concurrent_speech.py            # 2 x 60 s of load
"""

import argparse
import asyncio
import itertools
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import onnxruntime  # noqa: E402

from benchmarks.throughput import (  # noqa: E402
    PROSE,
    ServiceUnderTest,
    _free_port,
    cores,
    save_results,
)
from core.audio.formats import SAMPLE_RATE  # noqa: E402
from core.text.sentences import normalize_text  # noqa: E402
from infra.model_files import default_voice, resolve_model_files  # noqa: E402
from infra.settings import Settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "concurrent_speech.json"
LOCKED_SERVER = ROOT / "benchmarks" / "locked_kokoro_server.py"
CLIENTS = 8
SECONDS = 60.0
BOOK_CHARS = 50_000  # about 15 minutes of synthesis on 2 cores: it outlasts the window
BYTES_PER_SECOND = 2 * SAMPLE_RATE  # 16-bit mono
WAV_HEADER_BYTES = 44  # the first audio byte is the one after the header
REQUEST_TIMEOUT_S = 600.0  # a queued request on the locked server waits for all before it
SERVER_START_TIMEOUT_S = 120.0
NO_ANSWER = 0  # the status recorded for a request that got no response (timeout, reset)
BOOK_POLL_S = 0.5
SERVICE_LABEL = "a. service, default settings, a book running"
LOCKED_LABEL = "b. kokoro-onnx, one process, create() under a lock, no book"
# What people send to a speech endpoint: a sentence or two, of varied length and content
INPUTS = (
    "Good morning. Your train leaves from platform four.",
    "The meeting has been moved to Thursday afternoon.",
    "Turn left at the next junction, then keep right.",
    "She opened the letter slowly, as if it might bite.",
    "Your order has shipped and should arrive within three days.",
    "Rain is expected this evening, so take an umbrella.",
    "He laughed, shook his head, and walked back into the house without another word.",
    "Press the green button to start. Press it again to pause.",
    "The museum is closed on Mondays but open late on Fridays.",
    "Welcome back. You have two new messages.",
    "Nobody in the village remembered who had planted the old oak by the bridge.",
    "Please remember to save your work before closing the window.",
    "The soup needs more salt, and perhaps a little pepper.",
    "At the end of the corridor there was a door, and behind it, a garden.",
    "Thank you for waiting. An assistant will be with you shortly.",
    "The library will return to its usual hours next week.",
)


@dataclass(frozen=True)
class Answer:
    ok: bool
    first_byte_s: float | None  # to the first byte after the WAV header
    last_byte_s: float
    status: int
    audio_bytes: int


# --- the load ---------------------------------------------------------------------------------


async def _client(
    http: httpx.AsyncClient, number: int, voice: str, deadline: float, answers: list[Answer]
) -> None:
    """Requests back to back until the deadline, each client starting at its own input."""
    inputs = itertools.islice(itertools.cycle(INPUTS), number, None)
    while time.perf_counter() < deadline:
        body = {"model": "kokoro", "input": next(inputs), "voice": voice, "response_format": "wav"}
        started = time.perf_counter()
        first = None
        received = 0
        status = NO_ANSWER
        try:
            async with http.stream("POST", "/v1/audio/speech", json=body) as response:
                status = response.status_code
                async for piece in response.aiter_bytes():
                    received += len(piece)
                    if first is None and received > WAV_HEADER_BYTES:
                        first = time.perf_counter() - started
        except httpx.HTTPError:  # counted as an error; the client goes on
            first = None
        answers.append(
            Answer(
                ok=status == 200 and first is not None,
                first_byte_s=first,
                last_byte_s=time.perf_counter() - started,
                status=status,
                audio_bytes=max(0, received - WAV_HEADER_BYTES),
            )
        )


async def _load(url: str, voice: str, clients: int, seconds: float) -> tuple[list[Answer], float]:
    answers: list[Answer] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as http:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(_client(http, n, voice, deadline, answers) for n in range(clients)))
        # Requests under way at the deadline are waited for: the wall time includes them
        wall = time.perf_counter() - started
    return answers, wall


def run_load(url: str, voice: str, clients: int, seconds: float) -> dict:
    answers, wall = asyncio.run(_load(url, voice, clients, seconds))
    return summarize(answers, wall)


def _percentiles(values: list[float]) -> dict:
    if len(values) < 2:
        only = round(values[0], 3) if values else None
        return {"p50_s": only, "p95_s": only, "p99_s": only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_s": round(cuts[49], 3), "p95_s": round(cuts[94], 3), "p99_s": round(cuts[98], 3)}


def summarize(answers: list[Answer], wall: float) -> dict:
    good = [a for a in answers if a.ok]
    return {
        "requests": len(answers),
        "errors": len(answers) - len(good),
        "error_statuses": sorted({a.status for a in answers if not a.ok}),
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(len(good) / wall, 3),
        "audio_seconds": round(sum(a.audio_bytes for a in good) / BYTES_PER_SECOND, 1),
        "first_byte": _percentiles([a.first_byte_s for a in good]),
        "last_byte": _percentiles([a.last_byte_s for a in good]),
    }


# --- (a) the service, with a book running -----------------------------------------------------


def _book(chars: int) -> str:
    prose = normalize_text(PROSE.read_text(encoding="utf-8"))
    return ((prose + "\n\n") * (chars // len(prose) + 1))[:chars]


def measure_service(
    data_dir: Path, redis_url: str, voice: str, clients: int, seconds: float, book_chars: int
) -> dict:
    service = ServiceUnderTest(data_dir, redis_url)
    try:
        warm = {"model": "kokoro", "input": INPUTS[0], "voice": voice, "response_format": "wav"}
        service.http.post("/v1/audio/speech", json=warm).raise_for_status()  # warm paths
        book = service.http.post("/v1/jobs", json={"text": _book(book_chars), "voice": voice})
        book.raise_for_status()
        book_id = book.json()["id"]
        while (job := service.http.get(f"/v1/jobs/{book_id}").json())["status"] != "running":
            if job["status"] in ("succeeded", "failed", "cancelled"):
                raise RuntimeError(f"the book ended before the load began: {job['status']}")
            time.sleep(BOOK_POLL_S)
        before = job["progress"]["chars_done"]
        figures = run_load(service.url, voice, clients, seconds)
        job = service.http.get(f"/v1/jobs/{book_id}").json()
        figures["book"] = {
            "chars": book_chars,
            "status_after": job["status"],
            "ran_throughout": job["status"] == "running",
            "chars_done_during_load": job["progress"]["chars_done"] - before,
        }
        service.http.post(f"/v1/jobs/{book_id}/cancel")
        return figures
    finally:
        service.stop()


# --- (b) kokoro-onnx behind a lock ------------------------------------------------------------


def measure_locked(files, voice: str, clients: int, seconds: float, log: Path) -> dict:
    port = _free_port()
    command = [
        sys.executable, str(LOCKED_SERVER), "--port", str(port),
        "--model", str(files.model), "--voices", str(files.voices), "--voice", voice,
    ]  # fmt: skip
    with log.open("a") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answers(server, url, log)
        return run_load(url, voice, clients, seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_answers(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the locked server exited ({server.returncode}); see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the locked server did not answer within {SERVER_START_TIMEOUT_S:.0f} s")


# --- reporting --------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def readme_table(result: dict) -> str:
    rows = [
        "| run | requests/s | TTFB p50 s | p95 s | p99 s | last byte p50 s | p95 s | p99 s "
        "| requests | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in result["runs"].items():
        first, last = r["first_byte"], r["last_byte"]
        rows.append(
            f"| {label} | {r['requests_per_second']} | {first['p50_s']} | {first['p95_s']} | "
            f"{first['p99_s']} | {last['p50_s']} | {last['p95_s']} | {last['p99_s']} | "
            f"{r['requests']} | {r['errors']} |"
        )
    ratios, book = result["ratios"], result["runs"][SERVICE_LABEL]["book"]
    return "\n".join(
        [
            f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
            f"onnxruntime {result['onnxruntime']}, {result['clients']} clients each sending "
            f"short `POST /v1/audio/speech` requests (wav, one of {len(INPUTS)} inputs of a "
            f"sentence or two) back to back for {result['seconds']:g} s; the same voice "
            f"({result['voice']}), model and voices files for both.",
            "",
            *rows,
            "",
            f"- service ÷ locked kokoro-onnx: **{ratios['requests_per_second']}×** the "
            f"requests/s, **{ratios['first_byte_p95']}×** the p95 time to first audio byte "
            f"(below 1 is better)",
            f"- the service carried a {book['chars']:,}-character book meanwhile "
            f"({book['chars_done_during_load']:,} characters of it read during the load; "
            f"{'running throughout' if book['ran_throughout'] else 'it ended: rerun longer'}); "
            "the locked server had no book: one locked `create` of a book would hold the lock "
            "for the whole window",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS, help="load per run")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--book-chars", type=int, default=BOOK_CHARS)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kq-concurrent-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        files = resolve_model_files(settings)
        voice = default_voice(settings)
        print(f"{args.clients} clients, {args.seconds:g} s per run, {cores()} cores", flush=True)
        service = measure_service(
            data_dir, args.redis_url, voice, args.clients, args.seconds, args.book_chars
        )
        print("service", service, flush=True)
        locked = measure_locked(files, voice, args.clients, args.seconds, data_dir / "locked.log")
        print("locked", locked, flush=True)

    result = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cores": cores(),
        "onnxruntime": onnxruntime.__version__,
        "clients": args.clients,
        "seconds": args.seconds,
        "voice": voice,
        "inputs": list(INPUTS),
        "runs": {SERVICE_LABEL: service, LOCKED_LABEL: locked},
        "ratios": {
            "requests_per_second": _ratio(
                service["requests_per_second"], locked["requests_per_second"]
            ),
            "first_byte_p95": _ratio(service["first_byte"]["p95_s"], locked["first_byte"]["p95_s"]),
            "last_byte_p95": _ratio(service["last_byte"]["p95_s"], locked["last_byte"]["p95_s"]),
        },
    }
    table = readme_table(result)
    print(table)
    save_results(result, RESULTS, "concurrent-speech", table, readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
