"""Throughput benchmark: the whole service against plain kokoro-onnx, in one run.

(a) baseline: one process, ``kokoro_onnx.Kokoro(model, voices).create(text)`` with its defaults;
(b) raw layouts: P processes x T ONNX threads on our chunks, in-process, no queue (the best wins);
(c) the service: ``POST /v1/jobs`` to the finished file, default settings, warm workers;
then the time to first chunk stored for a 50,000-character job on idle workers.

Every figure is input characters per wall-second on the same text, so padding with silence
cannot help. Writes benchmarks/results/throughput.json and its table in docs/benchmarks.md.

    .venv/bin/python benchmarks/throughput.py            # or: make bench
"""

import argparse
import json
import multiprocessing
import os
import platform
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import onnxruntime  # noqa: E402

from core.text.chunking import chunk_chapters  # noqa: E402
from core.text.sentences import normalize_text  # noqa: E402
from infra.model_files import default_voice, resolve_model_files  # noqa: E402
from infra.settings import Settings  # noqa: E402
from storage.blob_store import chunk_key  # noqa: E402

PROSE = ROOT / "benchmarks" / "prose.txt"
RESULTS = ROOT / "benchmarks" / "results" / "throughput.json"
BENCHMARKS_DOC = ROOT / "docs" / "benchmarks.md"
SAMPLE_RATE = 24_000


def cores() -> int:
    return len(os.sched_getaffinity(0))


# --- (a) baseline -----------------------------------------------------------------------------


def _baseline(text: str, model: str, voices: str, voice: str, queue) -> None:
    from kokoro_onnx import Kokoro

    kokoro = Kokoro(model, voices)  # kokoro-onnx's own session defaults
    kokoro.create("Warm up.", voice=voice)
    started = time.perf_counter()
    audio, rate = kokoro.create(text, voice=voice)
    queue.put((time.perf_counter() - started, len(audio) / rate))


def measure_baseline(text: str, files, voice: str) -> dict:
    queue = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(
        target=_baseline, args=(text, str(files.model), str(files.voices), voice, queue)
    )
    process.start()
    wall, audio_seconds = queue.get(timeout=1800)
    process.join()
    return figures("a. kokoro-onnx create(text), defaults", text, wall, audio_seconds)


# --- (b) raw layouts --------------------------------------------------------------------------

_engine = None


def _init_layout(model: str, voices: str, threads: int, voice: str) -> None:
    global _engine
    from infra.model_files import ModelFiles
    from worker.engine import SynthesisEngine

    _engine = SynthesisEngine(ModelFiles(Path(model), Path(voices)), threads)
    _engine.warm_up(voice)


def _synthesize(args) -> float:
    text, voice = args
    return _engine.synthesize(text, voice, 1.0, "en-us").seconds


def measure_layout(text: str, files, voice: str, processes: int, threads: int, tokens: int) -> dict:
    chunks = chunk_chapters([normalize_text(text)], max_tokens=tokens)
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        processes, _init_layout, (str(files.model), str(files.voices), threads, voice)
    ) as pool:
        pool.map(_synthesize, [("Ready.", voice)] * processes)  # every process loaded and warm
        started = time.perf_counter()
        seconds = sum(pool.imap(_synthesize, [(c.text, voice) for c in chunks], chunksize=1))
        wall = time.perf_counter() - started
    label = f"b. {processes} proc x {threads} thr, {tokens}-token chunks"
    return figures(label, text, wall, seconds, layout=[processes, threads, tokens])


# --- (c) the service --------------------------------------------------------------------------


class ServiceUnderTest:
    """A stack started the way `kokoro-queue up` starts it, with default settings: on
    ``database_url`` (default: SQLite in ``data_dir``), with ``settings`` (e.g. ``api_workers``)
    overriding defaults, and without the worker when ``worker`` is False (then ready once the
    API answers)."""

    def __init__(
        self,
        data_dir: Path,
        redis_url: str,
        *,
        database_url: str | None = None,
        worker: bool = True,
        settings: dict | None = None,
    ):
        from cli.embedded_redis import redis_answers, start_embedded_redis
        from cli.stack import (
            Stack,
            api_command,
            prepare,
            settings_env,
            worker_command,
            worker_process_command,
        )

        port = _free_port()
        self.settings = Settings(
            data_dir=data_dir,
            port=port,
            redis_url=redis_url,
            queue=f"kq-bench-{uuid.uuid4().hex[:6]}",
            database_url=database_url,
            **(settings or {}),
        )
        self.stack = Stack(self.settings)
        if not redis_answers(redis_url):
            self.stack.children.append(("redis", start_embedded_redis(redis_url, data_dir)))
        prepare(self.settings, say=lambda _: None)
        env = settings_env(self.settings)
        log = (data_dir / "stack.log").open("a")
        self.stack.spawn("api", api_command(self.settings), env=env, stdout=log, stderr=log)
        if worker:
            self.stack.spawn(
                "worker",
                worker_command(self.settings, loglevel="WARNING")
                if self.settings.worker_pool == "prefork"
                else worker_process_command(self.settings),
                env=env,
                stdout=log,
                stderr=log,
            )
        self.url = f"http://127.0.0.1:{port}"
        from cli.stack import wait_until_ready

        if worker:
            wait_until_ready(self.stack, self.url)
        else:
            self._wait_for_api()
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def _wait_for_api(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if failure := self.stack.failed_child():
                raise RuntimeError(failure)
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the API did not answer within {timeout_s:.0f} s")

    def run_job(self, text: str) -> tuple[float, dict, bytes]:
        started = time.perf_counter()
        job = self.http.post("/v1/jobs", json={"text": text}).json()
        while True:
            job = self.http.get(f"/v1/jobs/{job['id']}").json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.2)  # a tighter poll takes CPU from the workers it measures
        audio = self.http.get(f"/v1/jobs/{job['id']}/audio").content
        return time.perf_counter() - started, job, audio

    def first_chunk_seconds(self, text: str) -> float:
        """Submit to the first chunk's audio stored, then cancel the rest."""
        store = self.settings.storage_dir
        started = time.perf_counter()
        job = self.http.post("/v1/jobs", json={"text": text}).json()
        first = store / chunk_key(job["id"], 0)
        while not first.exists():
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        self.http.post(f"/v1/jobs/{job['id']}/cancel")
        return elapsed

    def stop(self) -> None:
        self.http.close()
        self.stack.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- reporting --------------------------------------------------------------------------------


def figures(label: str, text: str, wall: float, audio_seconds: float, **extra) -> dict:
    return {
        "label": label,
        "wall_seconds": round(wall, 2),
        "audio_seconds": round(audio_seconds, 2),
        "chars_per_second": round(len(text) / wall, 1),
        "x_realtime": round(audio_seconds / wall, 2),
        **extra,
    }


def readme_table(result: dict) -> str:
    rows = [
        "| run | chars/s | × realtime | wall s | audio s |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in [result["baseline"], *result["layouts"], result["service"]]:
        rows.append(
            f"| {r['label']} | {r['chars_per_second']} | {r['x_realtime']} | "
            f"{r['wall_seconds']} | {r['audio_seconds']} |"
        )
    ratios = result["ratios"]
    return "\n".join(
        [
            f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
            f"onnxruntime {result['onnxruntime']}, the embedded int8 model, "
            f"{result['text_chars']} characters of prose (`benchmarks/prose.txt`).",
            "",
            *rows,
            "",
            f"- service ÷ baseline (c/a): **{ratios['service_vs_baseline']}** "
            f"(target ≥ 1.15); service ÷ best raw layout (c/b): "
            f"**{ratios['service_vs_best_layout']}** (target ≥ 0.95)",
            f"- `/v1/stats` over the service run: {result['stats']['chars_per_second']} chars/s, "
            f"{result['stats']['difference_percent']} % from the benchmark's own clock",
            f"- time to first chunk stored, 50,000-character job, idle workers: "
            f"**{result['first_chunk_seconds']} s** (target ≤ 2 s)",
            f"- peak worker child RSS: {result['peak_child_rss_mb']} MB "
            f"(cap `KQ_WORKER_MAX_MEMORY_MB` = {result['rss_cap_mb']} MB)",
        ]
    )


def write_block(name: str, table: str) -> None:
    """Replace the ``<!-- bench:NAME -->`` block of docs/benchmarks.md with ``table``."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    path = BENCHMARKS_DOC
    text = path.read_text()
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = re.sub(rf"{re.escape(start)}.*?{re.escape(end)}", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def save_results(result: dict, path: Path, block: str, table: str, readme: bool) -> None:
    """Write ``result`` to ``path`` (JSON) and, if ``readme``, ``table`` to ``block`` in
    docs/benchmarks.md."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    if readme:
        write_block(block, table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=PROSE)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--layouts",
        default="2x1x250,2x1x120,1x2x250",
        help="raw layouts to try, processes x threads x chunk tokens, comma-separated",
    )
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args(argv)

    text = normalize_text(args.text.read_text(encoding="utf-8"))
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="kq-bench-") as tmp:
        data_dir = Path(tmp)
        files = resolve_model_files(Settings(data_dir=data_dir))
        voice = default_voice(settings)

        print(f"{len(text)} characters, {cores()} cores", flush=True)
        baseline = measure_baseline(text, files, voice)
        print(json.dumps(baseline), flush=True)
        layouts = []
        for spec in args.layouts.split(","):
            processes, threads, tokens = (int(x) for x in spec.split("x"))
            layouts.append(measure_layout(text, files, voice, processes, threads, tokens))
            print(json.dumps(layouts[-1]), flush=True)

        service = ServiceUnderTest(data_dir, args.redis_url)
        try:
            since = datetime.now(UTC)
            wall, job, _ = service.run_job(text)
            until = datetime.now(UTC) + timedelta(milliseconds=1)
            stats = service.http.get(
                "/v1/stats", params={"since": since.isoformat(), "until": until.isoformat()}
            ).json()
            service_figures = figures(
                "c. service: POST /v1/jobs → finished file, defaults",
                text,
                wall,
                job["audio_seconds"],
            )
            print(json.dumps(service_figures), flush=True)
            long_text = (text + "\n\n") * (50_000 // len(text) + 1)
            first_chunk = service.first_chunk_seconds(long_text[:50_000])
        finally:
            service.stop()

    best = max(layouts, key=lambda r: r["chars_per_second"])
    rss = [w["peak_rss_mb"] for w in stats["workers"] if w["peak_rss_mb"]]
    result = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cores": cores(),
        "onnxruntime": onnxruntime.__version__,
        "text_chars": len(text),
        "baseline": baseline,
        "layouts": layouts,
        "best_layout": best["label"],
        "service": service_figures,
        "service_defaults": {
            "worker_concurrency": settings.worker_concurrency,
            "onnx_threads": settings.threads_per_child,
            "chunk_tokens": settings.chunk_tokens,
            "first_chunk_tokens": settings.first_chunk_tokens,
        },
        "ratios": {
            "service_vs_baseline": round(
                service_figures["chars_per_second"] / baseline["chars_per_second"], 3
            ),
            "service_vs_best_layout": round(
                service_figures["chars_per_second"] / best["chars_per_second"], 3
            ),
        },
        "stats": {
            "chars_per_second": stats["chars_per_second"],
            "difference_percent": round(
                100 * abs(stats["chars_per_second"] / service_figures["chars_per_second"] - 1), 2
            ),
        },
        "first_chunk_seconds": round(first_chunk, 3),
        "peak_child_rss_mb": max(rss) if rss else None,
        "rss_cap_mb": settings.worker_max_memory_mb,
    }
    table = readme_table(result)
    print(table)
    save_results(result, RESULTS, "throughput", table, readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
