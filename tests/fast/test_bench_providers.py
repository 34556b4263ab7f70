"""``kokoro-queue bench --providers`` with fake engines and fake measurements: the table, the
configurations, a failed one, JSON. The real run (the embedded model, CPU) is not a fast test."""

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cli import bench_providers as bench
from cli.bench_providers import Configuration, Measurement
from cli.main import build_parser, main
from worker.providers import COREML, CPU, CUDA

pytestmark = pytest.mark.fast

INFO = {
    "platform": "macOS-14.5-arm64-arm-64bit",
    "system": "Darwin",
    "machine": "arm64",
    "processor": "Apple M2 Pro",
    "python": "3.11.7",
    "onnxruntime": "1.22.0",
    "available_providers": [COREML, CPU],
    "model": "kokoro-v1.0.int8.onnx",
    "threads": 8,
    "voice": "af_heart",
    "chunks": 10,
    "characters": 1066,
    "macos": "14.5",
}


def test_configurations_follow_the_available_providers():
    assert bench.configurations([CPU]) == [Configuration("CPU", CPU)]
    assert bench.configurations([COREML, CPU]) == [
        Configuration("CPU", CPU),
        Configuration("CoreML ALL", COREML, "ALL"),
        Configuration("CoreML CPUAndGPU", COREML, "CPUAndGPU"),
        Configuration("CoreML CPUAndNeuralEngine", COREML, "CPUAndNeuralEngine"),
    ]
    assert [c.name for c in bench.configurations([CUDA, CPU])] == ["CPU", "CUDA"]


def test_chunks_go_round_the_prose():
    texts = bench.chunk_texts(len(bench.CHUNKS) + 2)
    assert texts[: len(bench.CHUNKS)] == list(bench.CHUNKS)
    assert texts[-2:] == list(bench.CHUNKS[:2])
    assert all(20 <= len(text) <= 300 for text in bench.CHUNKS)  # sentence-sized


def test_p95_is_the_nearest_rank():
    assert bench.percentile([1.0], 0.95) == 1.0
    assert bench.percentile([3.0, 1.0], 0.95) == 3.0
    assert bench.percentile([float(n) for n in range(1, 21)], 0.95) == 19.0


def test_the_table_renders_from_fake_measurements_with_a_failed_configuration():
    results = [
        Measurement(
            "CPU", CPU, CPU, load_s=0.52, warmup_s=0.4, chunks=10, characters=1066,
            audio_s=70.0, mean_s=1.234, p95_s=2.0, chars_per_s=86.4, realtime_factor=0.176,
        ),
        Measurement(
            "CoreML ALL", COREML, COREML, load_s=41.0, cached_load_s=2.5, warmup_s=3.0,
            chunks=10, characters=1066, audio_s=70.0, mean_s=2.5, p95_s=4.1,
            chars_per_s=42.6, realtime_factor=0.357,
        ),
        Measurement(
            "CoreML CPUAndNeuralEngine", COREML,
            error="RuntimeError: got CPUExecutionProvider | instead of CoreMLExecutionProvider",
        ),
    ]  # fmt: skip
    table = bench.render_markdown(INFO, results)
    lines = table.splitlines()
    assert "- machine: macOS 14.5 (Darwin arm64), Apple M2 Pro" in lines
    assert "- onnxruntime 1.22.0: CoreMLExecutionProvider, CPUExecutionProvider" in lines
    assert "- model: kokoro-v1.0.int8.onnx; ONNX intra-op threads: 8; voice af_heart" in lines
    header = lines.index(
        "| configuration | provider | load s | cached load s | warm-up s | mean s/chunk "
        "| p95 s/chunk | chars/s | RTF |"
    )
    rows = lines[header + 2 : header + 5]
    assert (
        rows[0] == "| CPU | CPUExecutionProvider | 0.52 | – | 0.40 | 1.234 | 2.000 | 86.4 | 0.176 |"
    )
    assert rows[1].startswith("| CoreML ALL | CoreMLExecutionProvider | 41.00 | 2.50 |")
    # The error in its row, its pipe escaped so the table keeps its columns
    assert rows[2].startswith("| CoreML CPUAndNeuralEngine | failed: RuntimeError: got CPU")
    assert "\\| instead of" in rows[2]
    assert rows[2].replace("\\|", "").count("|") == rows[0].count("|")
    assert "RTF: seconds of synthesis per second of audio" in table


def test_linux_has_no_macos_version_in_the_table():
    info = {**INFO, "system": "Linux", "machine": "x86_64", "processor": "AMD EPYC"}
    del info["macos"]
    assert "- machine: Linux x86_64, AMD EPYC" in bench.render_markdown(info, []).splitlines()


@dataclass
class FakeSynthesis:
    audio: np.ndarray


class FakeEngine:
    """Stands in for SynthesisEngine: 100 samples of audio per character."""

    made: list[tuple[str, str | None, Path | None]] = []

    def __init__(self, config: Configuration, cache_dir: Path | None, provider: str):
        FakeEngine.made.append((config.name, config.compute_units, cache_dir))
        self.provider = provider
        self.load_ms = self.warmup_ms = 0.0

    def warm_up(self, voice):
        pass

    def synthesize(self, text, voice, speed, lang):
        return FakeSynthesis(np.zeros(100 * len(text), dtype=np.float32))


def fake_factory(config: Configuration, cache_dir: Path | None):
    if config.compute_units == "CPUAndNeuralEngine":
        raise RuntimeError("CoreML could not compile the model")
    if config.compute_units == "CPUAndGPU":  # ONNX Runtime fell back to the CPU
        import logging

        logging.getLogger("worker.engine").warning("provider %s failed: no GPU", COREML)
        return FakeEngine(config, cache_dir, CPU)
    return FakeEngine(config, cache_dir, config.provider)


@pytest.fixture
def fake_files(monkeypatch, tmp_path):
    import infra.model_files

    model = tmp_path / "kokoro-v1.0.int8.onnx"
    files = infra.model_files.ModelFiles(model=model, voices=tmp_path / "voices.npz")
    monkeypatch.setattr(infra.model_files, "resolve_model_files", lambda settings: files)
    monkeypatch.setattr(infra.model_files, "default_voice", lambda settings: "af_heart")
    FakeEngine.made = []


def test_a_whole_run_measures_every_configuration_and_reports_failures(fake_files):
    from infra.settings import Settings

    out = io.StringIO()
    code = bench.run_bench(
        Settings(), chunks=3, out=out, make_engine=fake_factory, available=[COREML, CPU]
    )
    assert code == 0
    table = out.getvalue()
    rows = {line.split(" | ")[0][2:]: line for line in table.splitlines() if line.startswith("| ")}
    assert rows["CPU"].startswith("| CPU | CPUExecutionProvider |")
    assert rows["CoreML ALL"].startswith("| CoreML ALL | CoreMLExecutionProvider |")
    assert "failed: RuntimeError: got CPUExecutionProvider instead of" in rows["CoreML CPUAndGPU"]
    assert "no GPU" in rows["CoreML CPUAndGPU"]  # the reason ONNX Runtime gave
    assert "failed: RuntimeError: CoreML could not compile" in rows["CoreML CPUAndNeuralEngine"]
    # CoreML: loaded twice, into a fresh cache then from it; CPU: once, with no cache
    loads = [(name, cache is not None) for name, _units, cache in FakeEngine.made]
    assert loads[:3] == [("CPU", False), ("CoreML ALL", True), ("CoreML ALL", True)]
    assert FakeEngine.made[1][2] == FakeEngine.made[2][2]


def test_json_instead_of_the_table(fake_files):
    from infra.settings import Settings

    out = io.StringIO()
    bench.run_bench(
        Settings(), chunks=2, as_json=True, out=out, make_engine=fake_factory, available=[CPU]
    )
    report = json.loads(out.getvalue())
    assert report["machine"]["model"] == "kokoro-v1.0.int8.onnx"
    assert "onnxruntime" in report["machine"] and "processor" in report["machine"]
    (cpu,) = report["results"]
    assert cpu["configuration"] == "CPU" and cpu["error"] is None
    assert cpu["chunks"] == 2 and cpu["characters"] == sum(map(len, bench.CHUNKS[:2]))
    assert cpu["audio_s"] == pytest.approx(100 * cpu["characters"] / 24000)
    assert cpu["chars_per_s"] > 0 and cpu["p95_s"] >= cpu["mean_s"] > 0


def test_the_command_line(monkeypatch):
    args = build_parser().parse_args(["bench", "--providers", "--chunks", "3", "--json"])
    assert (args.providers, args.chunks, args.json) == (True, 3, True)
    assert build_parser().parse_args(["bench", "--providers"]).chunks is None  # DEFAULT_CHUNKS
    called = []
    monkeypatch.setattr(bench, "run_bench", lambda settings, **kw: called.append(kw) or 0)
    assert main(["bench", "--providers", "--chunks", "2"]) == 0
    assert called == [{"chunks": 2, "as_json": False}]
    assert main(["bench"]) == 2  # nothing chosen to measure
    assert main(["bench", "--providers", "--chunks", "0"]) == 2
