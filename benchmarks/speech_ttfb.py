"""Time to first audio byte of ``POST /v1/audio/speech``, against baselines measured
in the same run on the same machine.

For a two-sentence input on idle workers:
(a) plain kokoro-onnx in-process, warm: ``create()`` until the whole audio is there (a caller
    without streaming gets its first byte no sooner);
(b) the service without streaming: ``POST /v1/jobs`` and poll until the finished file downloads;
(c) the service streaming: ``POST /v1/audio/speech`` until the first audio byte, and the last.

Writes benchmarks/results/speech_ttfb.json and its table in docs/benchmarks.md.

    .venv/bin/python benchmarks/speech_ttfb.py
"""

import argparse
import json
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

from benchmarks.throughput import ServiceUnderTest, cores, save_results  # noqa: E402
from infra.model_files import default_voice, resolve_model_files  # noqa: E402
from infra.settings import Settings  # noqa: E402

TEXT = "The queue answered before the job was done. Playback started with the first sentence."
RESULTS = ROOT / "benchmarks" / "results" / "speech_ttfb.json"
IDLE_PAUSE_S = 1.0  # between runs: the previous job's assembly is done, the workers idle


def summary(values: list[float]) -> dict:
    return {
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
        "runs": len(values),
    }


def plain_kokoro(files, voice: str, runs: int) -> list[float]:
    from kokoro_onnx import Kokoro

    kokoro = Kokoro(str(files.model), str(files.voices))
    kokoro.create("Warm up.", voice=voice)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        kokoro.create(TEXT, voice=voice)
        times.append(time.perf_counter() - started)
    return times


def service_job(service: ServiceUnderTest, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        time.sleep(IDLE_PAUSE_S)
        wall, job, _ = service.run_job(TEXT)
        assert job["status"] == "succeeded", job
        times.append(wall)
    return times


def service_speech(service: ServiceUnderTest, runs: int, fmt: str) -> tuple[list, list]:
    first, last = [], []
    body = {"model": "tts-1", "voice": "alloy", "input": TEXT, "response_format": fmt}
    for _ in range(runs):
        time.sleep(IDLE_PAUSE_S)
        started = time.perf_counter()
        received = 0
        with service.http.stream("POST", "/v1/audio/speech", json=body) as response:
            assert response.status_code == 200, response.read()
            for piece in response.iter_bytes():
                if piece and not received:
                    first.append(time.perf_counter() - started)
                received += len(piece)
        last.append(time.perf_counter() - started)
        assert received > 24_000, received
    return first, last


def readme_table(result: dict) -> str:
    rows = ["| run | median s | min s | max s |", "|---|---:|---:|---:|"]
    for label, figures in result["runs"].items():
        rows.append(
            f"| {label} | {figures['median_s']} | {figures['min_s']} | {figures['max_s']} |"
        )
    return "\n".join(
        [
            f"Measured {result['date']} on {result['machine']}, {result['cores']} cores, "
            f"onnxruntime {result['onnxruntime']}, {result['runs_each']} runs each, idle "
            f"workers, the input: “{TEXT}”",
            "",
            *rows,
            "",
            f"- first audio byte of `/v1/audio/speech` (pcm) ÷ plain kokoro-onnx's whole "
            f"answer: **{result['ratios']['speech_first_byte_vs_plain']}**",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kq-ttfb-") as tmp:
        data_dir = Path(tmp)
        files = resolve_model_files(Settings(data_dir=data_dir))
        voice = default_voice(Settings(data_dir=data_dir))
        plain = plain_kokoro(files, voice, args.runs)
        print("plain", summary(plain), flush=True)
        service = ServiceUnderTest(data_dir, args.redis_url)
        try:
            service_speech(service, 1, "pcm")  # the workers' first request warms their paths
            job = service_job(service, args.runs)
            print("job", summary(job), flush=True)
            pcm_first, pcm_last = service_speech(service, args.runs, "pcm")
            print("speech pcm", summary(pcm_first), summary(pcm_last), flush=True)
            mp3_first, _ = service_speech(service, args.runs, "mp3")
            print("speech mp3", summary(mp3_first), flush=True)
        finally:
            service.stop()

    result = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}".strip(),
        "cores": cores(),
        "onnxruntime": onnxruntime.__version__,
        "text": TEXT,
        "runs_each": args.runs,
        "runs": {
            "a. plain kokoro-onnx, warm, whole audio": summary(plain),
            "b. POST /v1/jobs → finished file downloaded": summary(job),
            "c. POST /v1/audio/speech, first audio byte (pcm)": summary(pcm_first),
            "c. POST /v1/audio/speech, first audio byte (mp3)": summary(mp3_first),
            "c. POST /v1/audio/speech, last byte (pcm)": summary(pcm_last),
        },
        "ratios": {
            "speech_first_byte_vs_plain": round(
                statistics.median(pcm_first) / statistics.median(plain), 2
            )
        },
    }
    save_results(result, RESULTS, "speech", readme_table(result), readme=not args.no_readme)
    print(json.dumps(result["ratios"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
