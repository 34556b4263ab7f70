"""Assembly at book scale: how long the last chunk of a book waits for its file, in every format.

Books of 1, 10 and 40 hours of synthetic speech-like chunk audio (written straight into storage
and the database: no synthesis), 20 chapters each, are assembled by a real stack (API, Redis,
a Celery worker with the default concurrency) exactly as a synthesized book is: every chunk is
recorded done through ``finish_chunk``, the chunk that completes a chapter plans its parts, and
their tasks go to the worker. Chapters 1-19 are finished first and assembled (as they are while
a real book is still being read), then the last chapter's chunks; the clock runs from the last
chunk's commit until the job is ``succeeded`` and its file downloadable (``tail``).

Every chapter holds the same chunks, so chapters 2-19 are the same parts as chapter 1: by
default chapter 1's encoded parts are linked in as theirs (recorded through ``finish_part``,
as their tasks would), which keeps a 40-hour run to minutes and changes nothing after the last
chunk; ``--encode-every-chapter`` encodes them all.

Also reported per run: the longest part task and the join (each against its time limit,
``KQ_ASSEMBLY_TIME_LIMIT_S``), the worker children's peak RSS (VmHWM, read from /proc) and the
file's size and decoded duration. Writes benchmarks/results/assembly.json and its block in
docs/benchmarks.md.

    .venv/bin/python benchmarks/assembly.py                        # 1, 10, 40 h x 5 formats
    .venv/bin/python benchmarks/assembly.py --hours 1 --formats wav,opus
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from benchmarks.throughput import ServiceUnderTest, cores, save_results  # noqa: E402
from core.audio.formats import SAMPLE_RATE, AudioFormat  # noqa: E402
from core.audio.loudness import Levels  # noqa: E402
from core.audio.stream import encode_chunk  # noqa: E402
from core.jobs.states import JobStatus  # noqa: E402
from core.text.chunk_plan import PlannedChunk  # noqa: E402
from infra.queue import make_celery, send_parts  # noqa: E402
from storage.blob_store import chunk_key, part_audio_key  # noqa: E402
from storage.db import session_factory, transaction, utcnow  # noqa: E402
from storage.jobs import ChunkTiming, NewJob, create_job, finish_chunk  # noqa: E402
from storage.models import Chunk, Job, JobPart  # noqa: E402
from storage.parts import finish_part  # noqa: E402
from worker.audio import fade_edges, levels_of  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "assembly.json"
HOURS = (1, 10, 40)
CHAPTERS = 20
CLIP_SECONDS = (12, 16, 20, 24)  # chunk lengths in turn: what a chunk of 150-300 tokens says
PARAGRAPH_EVERY = 6  # chunks
REPEAT = 12  # chunks per chapter are a multiple: clips and paragraphs fall alike in each chapter
POLL_S = 0.1
TAIL_TIMEOUT_S = 3600


# --- synthetic speech ------------------------------------------------------------------------


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Noise shaped like speech: syllables at about 4 Hz, words and short gaps, a crest factor
    like a narrator's (peaks 15-20 dB above the RMS)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    syllables = np.clip(np.sin(2 * np.pi * 4.1 * t + rng.uniform(0, 6)), 0, None) ** 2
    words = (np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)) > -0.6).astype(np.float32)
    voice = rng.standard_normal(n) * 0.08 * syllables * words
    return fade_edges(np.clip(voice, -0.95, 0.95).astype(np.float32))


def write_clips(workdir: Path) -> list[tuple[Path, int, float, float]]:
    """The chunk recordings every chunk is a hard link to: (file, samples, peak, sum of squares)."""
    clips = []
    for number, seconds in enumerate(CLIP_SECONDS):
        audio = speech_like(seconds, number)
        path = workdir / f"clip-{number}.flac"
        path.write_bytes(encode_chunk(audio))
        levels = levels_of(audio)
        clips.append((path, len(audio), levels.peak, levels.sum_squares))
    return clips


# --- one book --------------------------------------------------------------------------------


def plan(hours: float) -> list[PlannedChunk]:
    """Chunks enough for ``hours`` of audio (pauses included), spread over CHAPTERS chapters
    that all hold the same clips and pauses in the same order."""
    average = sum(CLIP_SECONDS) / len(CLIP_SECONDS) + 0.4
    total = max(CHAPTERS, round(hours * 3600 / average))
    per_chapter = max(REPEAT, total // CHAPTERS // REPEAT * REPEAT)
    chunks = []
    for index in range(per_chapter * CHAPTERS):
        chapter = index // per_chapter
        last_of_chapter = (index + 1) % per_chapter == 0
        paragraph = index % PARAGRAPH_EVERY == PARAGRAPH_EVERY - 1
        pause = "chapter" if last_of_chapter else "paragraph" if paragraph else "sentence"
        if index == per_chapter * CHAPTERS - 1:
            pause = "end"
        chunks.append(PlannedChunk(index, chapter, f"Sentence {index}.", 40, pause))
    return chunks


def store_book(service: ServiceUnderTest, fmt: AudioFormat, chunks, clips) -> tuple[str, list]:
    settings = service.settings
    spec = NewJob(
        voice="jf_alpha",
        speed=1.0,
        lang="en-us",
        format=fmt.value,
        queue=settings.queue,
        title="A Long Book",
        author="Benchmark",
        chapters=[f"Chapter {n + 1}" for n in range(CHAPTERS)],
    )
    with transaction(settings.sqlalchemy_url) as session:
        job, _ = create_job(session, spec, chunks)
        running = {"status": JobStatus.RUNNING, "started_at": utcnow()}
        session.execute(update(Job).where(Job.id == job.id).values(**running))
        ids = list(
            session.scalars(select(Chunk.id).where(Chunk.job_id == job.id).order_by(Chunk.index))
        )
    for index in range(len(chunks)):
        path = settings.storage_dir / chunk_key(job.id, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(clips[index % len(clips)][0], path)
    return job.id, ids


def finish(service, celery, job_id: str, chunk_ids: list[int], indices, clips) -> list:
    """Record chunks done as a worker does; send the parts of each chapter they complete, or
    with ``celery`` None return them."""
    settings = service.settings
    planned = []
    for index in indices:
        _, samples, peak, sum_squares = clips[index % len(clips)]
        timing = ChunkTiming(
            tokens=40,
            audio_key=chunk_key(job_id, index),
            audio_seconds=samples / SAMPLE_RATE,
            peak=peak,
            sum_squares=sum_squares,
            normalize_ms=0.0,
            phonemize_ms=0.0,
            inference_ms=0.0,
            encode_ms=0.0,
            worker_host="benchmark",
            worker_pid=os.getpid(),
            provider="none",
            worker_rss_mb=0.0,
        )
        with transaction(settings.sqlalchemy_url) as session:
            recorded = finish_chunk(session, chunk_ids[index], job_id, timing)
        if celery is None:
            planned += recorded.parts
        else:
            send_parts(celery, recorded.parts, settings.queue, settings)
    return planned


def link_parts(service, job_id: str, planned: list, fmt: AudioFormat) -> None:
    """Record chapters' parts done as the same parts of chapter 1, linked (they are the same)."""
    settings = service.settings
    with transaction(settings.sqlalchemy_url) as session:
        done = {
            part.number: part
            for part in session.scalars(
                select(JobPart).where(JobPart.job_id == job_id, JobPart.chapter == 0)
            )
        }
    for ref in planned:
        model = done[ref.number]
        key = part_audio_key(job_id, ref.chapter, ref.number, fmt.extension)
        os.link(settings.storage_dir / model.audio_key, settings.storage_dir / key)
        levels = Levels(model.samples, model.sum_squares, model.peak)
        with transaction(settings.sqlalchemy_url) as session:
            finish_part(session, ref, audio_key=key, levels=levels, gain=model.gain, encode_ms=0)


def wait_for(predicate, what: str, timeout_s: float = TAIL_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(POLL_S)


def pool_children(service: ServiceUnderTest) -> list[int]:
    (worker,) = [p for name, p in service.stack.children if name == "worker"]
    children = []
    for task in Path(f"/proc/{worker.pid}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return children


def peak_rss_mb(pids: list[int]) -> float:
    peaks = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return round(max(peaks), 1)


def decoded_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        return round(container.duration / 1_000_000, 2)


def run_book(service, celery, hours: float, fmt: AudioFormat, clips, every: bool) -> dict:
    settings = service.settings
    sessions = session_factory(settings.sqlalchemy_url)
    chunks = plan(hours)
    job_id, chunk_ids = store_book(service, fmt, chunks, clips)
    first = [c.index for c in chunks if c.chapter == 0]
    middle = [c.index for c in chunks if 0 < c.chapter < CHAPTERS - 1]
    last_chapter = [c.index for c in chunks if c.chapter == CHAPTERS - 1]

    def parts_done() -> bool:
        with sessions() as session:
            return not session.scalar(
                select(func.count()).where(JobPart.job_id == job_id, JobPart.status != "done")
            )

    started = time.perf_counter()
    finish(service, celery, job_id, chunk_ids, first + (middle if every else []), clips)
    wait_for(parts_done, "the first chapters assembled")
    if not every:
        link_parts(service, job_id, finish(service, None, job_id, chunk_ids, middle, clips), fmt)
    before_tail = time.perf_counter() - started
    finish(service, celery, job_id, chunk_ids, last_chapter, clips)
    last_chunk = time.perf_counter()

    def succeeded() -> bool:
        status = service.http.get(f"/v1/jobs/{job_id}").json()["status"]
        if status in ("failed", "cancelled"):
            raise RuntimeError(service.http.get(f"/v1/jobs/{job_id}").json()["error"])
        return status == "succeeded"

    wait_for(succeeded, "the job's file")
    tail = time.perf_counter() - last_chunk
    job = service.http.get(f"/v1/jobs/{job_id}").json()
    with sessions() as session:
        parts = session.execute(
            select(JobPart.encode_ms, JobPart.finished_at).where(JobPart.job_id == job_id)
        ).all()
        finished_at = session.scalar(select(Job.finished_at).where(Job.id == job_id))
        audio_key = session.scalar(select(Job.audio_key).where(Job.id == job_id))
    join_s = (finished_at - max(p.finished_at for p in parts)).total_seconds()
    path = settings.storage_dir / audio_key
    result = {
        "hours": hours,
        "format": fmt.value,
        "chunks": len(chunks),
        "parts": len(parts),
        "tail_s": round(tail, 1),
        "before_tail_s": round(before_tail, 1),
        "longest_part_s": round(max(p.encode_ms for p in parts) / 1000, 1),
        "join_s": round(join_s, 1),
        "time_limit_s": settings.assembly_time_limit_s,
        "worker_peak_rss_mb": peak_rss_mb(pool_children(service)),
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "file_seconds": decoded_seconds(path),
        "job_seconds": job["audio_seconds"],
        "header": path.open("rb").read(4).decode("latin-1"),
    }
    if fmt in (AudioFormat.WAV, AudioFormat.FLAC):
        # libsndfile reads every sample the timeline holds (RF64 past 4 GB, FLAC's STREAMINFO)
        result["libsndfile_samples_match"] = sf.info(path).frames == round(
            job["audio_seconds"] * SAMPLE_RATE
        )
    service.http.delete(f"/v1/jobs/{job_id}")  # and its audio: 40 hours of WAV is 7 GB
    return result


def readme_table(result: dict) -> str:
    lines = [
        f"Assembly of books of synthetic speech, 20 chapters, on {result['cores']} cores "
        f"({result['date']}, `benchmarks/assembly.py`): time from the last chunk to the file "
        "being downloadable (tail), the longest part task and the join against their limit "
        f"({result['time_limit_s']} s), the worker children's peak RSS.",
        "",
        "| book | format | tail | longest part | join | peak RSS | file |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for run in result["runs"]:
        lines.append(
            f"| {run['hours']:g} h | {run['format']} | {run['tail_s']:.1f} s | "
            f"{run['longest_part_s']:.1f} s | {run['join_s']:.1f} s | "
            f"{run['worker_peak_rss_mb']:.0f} MB | {run['file_mb']:,.0f} MB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", default=",".join(str(h) for h in HOURS))
    parser.add_argument("--formats", default=",".join(f.value for f in AudioFormat))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite the docs block")
    parser.add_argument(
        "--encode-every-chapter",
        action="store_true",
        help="encode chapters 2-19 too, instead of linking chapter 1's parts as theirs",
    )
    args = parser.parse_args(argv)
    hours = [float(h) for h in args.hours.split(",")]
    formats = [AudioFormat(f) for f in args.formats.split(",")]

    runs = []
    with tempfile.TemporaryDirectory(prefix="kq-assembly-") as tmp:
        clips = write_clips(Path(tmp))
        for size in hours:
            for fmt in formats:
                # A fresh stack per book: the children's peak RSS is this book's alone
                data_dir = Path(tmp) / f"{size:g}h-{fmt.value}"
                data_dir.mkdir()
                service = ServiceUnderTest(data_dir, args.redis_url)
                try:
                    celery = make_celery(service.settings)
                    run = run_book(service, celery, size, fmt, clips, args.encode_every_chapter)
                finally:
                    service.stop()
                print(run, flush=True)
                runs.append(run)
    result = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cores": cores(),
        "time_limit_s": runs[0]["time_limit_s"] if runs else None,
        "runs": runs,
    }
    table = readme_table(result)
    print(table)
    save_results(result, RESULTS, "assembly", table, readme=not args.no_readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
