"""A worker child's memory over a long book, with and without ONNX Runtime's arena shrinkage.

Two processes, started at the same moment so that they share the machine's conditions, each
build the engine exactly as a worker pool child does (worker/engine.py: the timed model, the
worker's session options, ``KQ_ONNX_THREADS``-sized) and read the same book chunk by chunk
through ``SynthesisEngine.synthesize``, one without and one with the run option
``memory.enable_memory_arena_shrinkage`` (worker/run_options.py) on every ``session.run``.
Each reports its RSS at rest (model loaded and warm), between chunks, at peak (the kernel's
high-water mark, VmHWM) and at rest after the book, and its characters per second. Beside them:
plain kokoro-onnx's peak, ``Kokoro(model, voices).create(text)`` on 4,000 characters.

Shrinkage is fit to be the default (``KQ_ONNX_ARENA_SHRINKAGE``) if it costs at most 2 % of
throughput. Linux only (it reads /proc/self/status). Writes benchmarks/results/worker_memory.json
and its table in docs/benchmarks.md.

    .venv/bin/python benchmarks/worker_memory.py                # 125,000 characters, ~1 h
    .venv/bin/python benchmarks/worker_memory.py --chars 20000  # a shorter book
"""

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import onnxruntime  # noqa: E402

from benchmarks.throughput import PROSE, cores, save_results  # noqa: E402
from core.text.chunking import chunk_chapters  # noqa: E402
from core.text.sentences import normalize_text  # noqa: E402
from infra.model_files import default_voice, resolve_model_files  # noqa: E402
from infra.settings import Settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "worker_memory.json"
BOOK_CHARS = 125_000  # two hours of audio with the embedded voices (measured 2 h 1 min)
PLAIN_CHARS = 4_000  # plain kokoro-onnx reads it in one create(): its batches of 510 tokens
MAX_COST_PERCENT = 2.0  # shrinkage may become the default only if it costs no more
PROGRESS_EVERY = 0.1  # of the book, between progress lines
RESULT_TIMEOUT_S = 6 * 3600
MODES = {"off": False, "on": True}  # label -> shrink the arena after each run


# --- memory of this process -------------------------------------------------------------------


def _status_mb(field: str) -> float:
    """A ``/proc/self/status`` size (VmRSS: now, VmHWM: the peak so far) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)  # the kernel gives kB
    raise RuntimeError(f"/proc/self/status has no {field}: this benchmark needs Linux")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


# --- one worker child, one mode ---------------------------------------------------------------


class _SessionWithRunOptions:
    """The engine's session, given ``run_options`` on every run: kokoro-onnx and the timed
    synthesis call ``session.run(outputs, inputs)`` without any. Options a caller passes win."""

    def __init__(self, session, options):
        self._session = session
        self._options = options

    def run(self, output_names, input_feed, run_options=None):
        return self._session.run(output_names, input_feed, run_options or self._options)

    def __getattr__(self, name):
        return getattr(self._session, name)


def _worker_child(
    label: str, shrink: bool, data_dir: str, model: str, voices: str, voice: str,
    threads: int, chunks: list[str], start, queue,
) -> None:  # fmt: skip
    # The engine reads the data dir (the timed model's home) and, once it applies the setting
    # itself, KQ_ONNX_ARENA_SHRINKAGE, from the environment, as a worker child does
    os.environ["KQ_DATA_DIR"] = data_dir
    os.environ["KQ_ONNX_ARENA_SHRINKAGE"] = "true" if shrink else "false"
    from infra.model_files import ModelFiles
    from worker.engine import SynthesisEngine
    from worker.run_options import run_options

    engine = SynthesisEngine(ModelFiles(Path(model), Path(voices)), threads)
    engine.kokoro.sess = _SessionWithRunOptions(
        engine.kokoro.sess, run_options(shrink, engine.provider)
    )
    engine.warm_up(voice)
    at_rest = rss_mb()
    start.wait()  # both modes begin together
    between, audio_seconds = [], 0.0
    total = sum(len(c) for c in chunks)
    done, next_report = 0, PROGRESS_EVERY
    started = time.perf_counter()
    for text in chunks:
        audio_seconds += engine.synthesize(text, voice, 1.0, "en-us").seconds
        between.append(rss_mb())
        done += len(text)
        if done / total >= next_report:
            print(f"  shrinkage {label}: {done / total:.0%}, RSS {between[-1]} MB", flush=True)
            while next_report <= done / total:
                next_report += PROGRESS_EVERY
    wall = time.perf_counter() - started
    queue.put(
        {
            "label": label,
            "shrinkage": shrink,
            "provider": engine.provider,
            "threads": threads,
            "chunks": len(chunks),
            "wall_seconds": round(wall, 2),
            "audio_seconds": round(audio_seconds, 2),
            "chars_per_second": round(total / wall, 2),
            "rss_at_rest_mb": at_rest,
            "rss_between_chunks_median_mb": round(statistics.median(between), 1),
            "rss_between_chunks_max_mb": max(between),
            "rss_peak_mb": peak_rss_mb(),
            "rss_at_rest_after_mb": rss_mb(),
        }
    )


def measure_modes(data_dir: Path, files, voice: str, threads: int, chunks: list[str]) -> dict:
    context = multiprocessing.get_context("spawn")
    start, queue = context.Barrier(len(MODES)), context.Queue()
    processes = [
        context.Process(
            target=_worker_child,
            args=(
                label,
                shrink,
                str(data_dir),
                str(files.model),
                str(files.voices),
                voice,
                threads,
                chunks,
                start,
                queue,
            ),
        )  # fmt: skip
        for label, shrink in MODES.items()
    ]
    for process in processes:
        process.start()
    try:
        results = [queue.get(timeout=RESULT_TIMEOUT_S) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    for process in processes:
        if process.exitcode:
            raise RuntimeError(f"a worker child exited with {process.exitcode}")
    return {r["label"]: r for r in results}


# --- plain kokoro-onnx ------------------------------------------------------------------------


def _plain_child(text: str, model: str, voices: str, voice: str, queue) -> None:
    from kokoro_onnx import Kokoro

    kokoro = Kokoro(model, voices)  # kokoro-onnx's own session defaults
    kokoro.create("Warm up.", voice=voice)
    at_rest = rss_mb()
    started = time.perf_counter()
    kokoro.create(text, voice=voice)
    wall = time.perf_counter() - started
    queue.put(
        {
            "chars": len(text),
            "wall_seconds": round(wall, 2),
            "rss_at_rest_mb": at_rest,
            "rss_peak_mb": peak_rss_mb(),
        }
    )


def measure_plain(text: str, files, voice: str) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(
        target=_plain_child, args=(text, str(files.model), str(files.voices), voice, queue)
    )
    process.start()
    result = queue.get(timeout=RESULT_TIMEOUT_S)
    process.join()
    return result


# --- reporting --------------------------------------------------------------------------------


def readme_table(result: dict) -> str:
    off, on, plain = result["modes"]["off"], result["modes"]["on"], result["plain"]
    rows = [
        "| run | at rest MB | between chunks, median MB | max MB | peak MB | after the book MB "
        "| chars/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in (("worker child, no shrinkage", off), ("worker child, shrinkage", on)):
        rows.append(
            f"| {label} | {r['rss_at_rest_mb']} | {r['rss_between_chunks_median_mb']} | "
            f"{r['rss_between_chunks_max_mb']} | **{r['rss_peak_mb']}** | "
            f"{r['rss_at_rest_after_mb']} | {r['chars_per_second']} |"
        )
    rows.append(
        f"| plain kokoro-onnx, create() of {plain['chars']:,} characters | "
        f"{plain['rss_at_rest_mb']} | | | **{plain['rss_peak_mb']}** | | |"
    )
    cost = result["shrinkage_cost_percent"]
    verdict = "within" if cost <= MAX_COST_PERCENT else "over"
    return "\n".join(
        [
            f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
            f"onnxruntime {result['onnxruntime']}, the embedded int8 model: a "
            f"{result['book_chars']:,}-character book ({result['chunks']} chunks of at most "
            f"{result['chunk_tokens']} tokens) read by two worker children at once, "
            f"{off['threads']} ONNX thread(s) each, one without and one with arena shrinkage "
            "(`KQ_ONNX_ARENA_SHRINKAGE`); RSS from /proc (peak: VmHWM).",
            "",
            *rows,
            "",
            f"- shrinkage costs **{cost} %** of throughput ({verdict} the {MAX_COST_PERCENT:g} % "
            f"allowed for a default) and saves {result['peak_saved_mb']} MB of peak, "
            f"{result['between_saved_mb']} MB between chunks (median)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=BOOK_CHARS, help="the book's length")
    parser.add_argument("--plain-chars", type=int, default=PLAIN_CHARS)
    parser.add_argument("--text", type=Path, default=PROSE, help="repeated up to --chars")
    parser.add_argument("--no-readme", action="store_true", help="keep docs/benchmarks.md as is")
    args = parser.parse_args(argv)

    prose = normalize_text(args.text.read_text(encoding="utf-8"))
    book = ((prose + "\n\n") * (args.chars // len(prose) + 1))[: args.chars]
    settings = Settings()
    chunks = [c.text for c in chunk_chapters([book], max_tokens=settings.chunk_tokens)]
    with tempfile.TemporaryDirectory(prefix="kq-memory-") as tmp:
        data_dir = Path(tmp)
        files = resolve_model_files(Settings(data_dir=data_dir))
        voice = default_voice(Settings(data_dir=data_dir))
        plain_text = book[: args.plain_chars]
        print(f"plain kokoro-onnx on {len(plain_text):,} characters", flush=True)
        plain = measure_plain(plain_text, files, voice)
        print(plain, flush=True)
        print(
            f"{len(book):,} characters in {len(chunks)} chunks, {cores()} cores, "
            f"{settings.threads_per_child} thread(s) per worker child",
            flush=True,
        )
        modes = measure_modes(data_dir, files, voice, settings.threads_per_child, chunks)
        for mode in modes.values():
            print(mode, flush=True)

    off, on = modes["off"], modes["on"]
    result = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cores": cores(),
        "onnxruntime": onnxruntime.__version__,
        "book_chars": len(book),
        "chunks": len(chunks),
        "chunk_tokens": settings.chunk_tokens,
        "modes": modes,
        "plain": plain,
        "shrinkage_cost_percent": round(
            100 * (1 - on["chars_per_second"] / off["chars_per_second"]), 2
        ),
        "peak_saved_mb": round(off["rss_peak_mb"] - on["rss_peak_mb"], 1),
        "between_saved_mb": round(
            off["rss_between_chunks_median_mb"] - on["rss_between_chunks_median_mb"], 1
        ),
        "max_cost_percent_for_default": MAX_COST_PERCENT,
    }
    result["fit_for_default"] = result["shrinkage_cost_percent"] <= MAX_COST_PERCENT
    table = readme_table(result)
    print(table)
    save_results(result, RESULTS, "memory", table, readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
