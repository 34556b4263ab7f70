"""``kokoro-queue bench --providers``: which execution provider is fastest on this machine.

Each configuration ONNX Runtime offers here is measured in turn with the service's own engine
(``worker.engine.SynthesisEngine``: the same model file, threads, spoken form and synthesis
path as a worker): CPU always; CoreML with MLComputeUnits ALL, CPUAndGPU and
CPUAndNeuralEngine where the installed ONNX Runtime has CoreML; CUDA where it has CUDA. For
each: the session's load time (CoreML: with its compile, into a fresh cache, then once more
from that cache), the warm-up, and over the same sentence-sized chunks of English prose the
mean and 95th percentile seconds per chunk, the characters per second and the real-time
factor. A configuration that fails to build, or that ONNX Runtime quietly moves to another
provider, is reported in its row; the others are still measured.

The result is a Markdown table to paste into an issue (``--json``: the same as JSON).
"""

import gc
import json
import logging
import math
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from worker.providers import COREML, CPU, CUDA, provider_options

if TYPE_CHECKING:
    from infra.settings import Settings

DEFAULT_CHUNKS = 10
SPEED = 1.0
LANG = "en-us"
# Sentence-sized chunks of plain English prose, of several lengths (so several input shapes);
# more chunks than these go round them again
CHUNKS = (
    "The lighthouse keeper climbed the stairs at dusk, as he had done every evening for "
    "thirty years.",
    "Nobody in the village remembered a night when the lamp had failed.",
    "He wound the clockwork, trimmed the wick and polished the great lens until the brass "
    "around it shone like a second, smaller moon.",
    "Outside, the wind was rising.",
    "Far below, the sea threw itself against the rocks with a patience that never seemed to "
    "tire, and the spray rose almost to the gallery rail.",
    "By midnight the rain had come, slanting and cold, and the windows rattled in their frames.",
    "He made tea on the little stove and wrote the hour, the weather and the ships he had seen "
    "in the logbook, in the same careful hand his father had taught him.",
    "A single light moved on the horizon.",
    "It was a fishing boat, late and low in the water, and it was heading straight for the "
    "reef that had broken a dozen hulls before it.",
    "The keeper watched it for a long minute, then reached for the signal lamp and began to "
    "flash the old warning, three long and one short, again and again.",
    "At last the light turned away towards the harbour.",
    "In the morning he found a basket of fresh fish on the bottom step, and no note at all.",
)
MAX_ERROR_CHARS = 300

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Configuration:
    """One way to run the model: the providers to ask for and, for CoreML, its compute units."""

    name: str
    provider: str
    compute_units: str | None = None


@dataclass
class Measurement:
    """What one configuration measured, or why it could not (``error``)."""

    configuration: str
    requested: str
    provider: str | None = None  # the provider the session got
    load_s: float | None = None  # session load, with CoreML's compile into an empty cache
    cached_load_s: float | None = None  # CoreML: a second load, from the compiled cache
    warmup_s: float | None = None
    chunks: int = 0
    characters: int = 0
    audio_s: float | None = None
    mean_s: float | None = None  # seconds per chunk
    p95_s: float | None = None
    chars_per_s: float | None = None
    realtime_factor: float | None = None  # seconds of synthesis per second of audio
    error: str | None = None


class Engine(Protocol):
    """What the bench uses of ``worker.engine.SynthesisEngine``."""

    provider: str
    load_ms: float
    warmup_ms: float

    def warm_up(self, voice: str) -> None: ...

    def synthesize(self, text: str, voice: str, speed: float, lang: str) -> Any: ...


# (configuration, CoreML cache directory or None) -> a loaded engine
EngineFactory = Callable[[Configuration, Path | None], Engine]


def configurations(available: Sequence[str]) -> list[Configuration]:
    """The configurations to measure with these ONNX Runtime providers available."""
    found = [Configuration("CPU", CPU)]
    if COREML in available:
        found += [
            Configuration(f"CoreML {units}", COREML, units)
            for units in ("ALL", "CPUAndGPU", "CPUAndNeuralEngine")
        ]
    if CUDA in available:
        found.append(Configuration("CUDA", CUDA))
    return found


def chunk_texts(count: int) -> list[str]:
    """``count`` chunks of prose, going round ``CHUNKS``."""
    return [CHUNKS[n % len(CHUNKS)] for n in range(count)]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.95: the 95th) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _error_text(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class _Warnings(logging.Handler):
    """Keeps the warnings of the engine's provider fallback while a session loads."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _load(
    config: Configuration, make_engine: EngineFactory, cache_dir: Path | None
) -> tuple[Engine, float]:
    """An engine of ``config`` and its load seconds; RuntimeError when its session did not get
    the configuration's provider (ONNX Runtime fell back), with the reason it logged."""
    warnings = _Warnings()
    engine_log = logging.getLogger("worker.engine")
    engine_log.addHandler(warnings)
    try:
        started = time.perf_counter()
        engine = make_engine(config, cache_dir)
        seconds = time.perf_counter() - started
    finally:
        engine_log.removeHandler(warnings)
    if engine.provider != config.provider:
        reason = "; ".join(warnings.messages) or "no reason logged"
        raise RuntimeError(f"got {engine.provider} instead of {config.provider}: {reason}")
    return engine, seconds


def measure(
    config: Configuration,
    make_engine: EngineFactory,
    texts: Sequence[str],
    voice: str,
    sample_rate: int,
) -> Measurement:
    """Load, warm up and time one configuration; its error in the result if it fails."""
    result = Measurement(configuration=config.name, requested=config.provider)
    engine = None
    with tempfile.TemporaryDirectory(prefix="kq-bench-coreml-") as temporary:
        cache_dir = Path(temporary) if config.provider == COREML else None
        try:
            engine, result.load_s = _load(config, make_engine, cache_dir)
            result.provider = engine.provider
            if cache_dir is not None:
                # The compiled model is in the cache now: what every later start pays
                engine = None
                gc.collect()
                engine, result.cached_load_s = _load(config, make_engine, cache_dir)
            started = time.perf_counter()
            engine.warm_up(voice)
            result.warmup_s = time.perf_counter() - started
            seconds, samples = [], 0
            for text in texts:
                started = time.perf_counter()
                synthesis = engine.synthesize(text, voice, SPEED, LANG)
                seconds.append(time.perf_counter() - started)
                samples += len(synthesis.audio)
        except Exception as error:  # ORT's errors are untyped; any failure goes in the row
            result.error = _error_text(error)
            return result
        finally:
            engine = None
            gc.collect()
    total = sum(seconds)
    result.chunks = len(texts)
    result.characters = sum(len(text) for text in texts)
    result.audio_s = samples / sample_rate
    result.mean_s = total / len(seconds)
    result.p95_s = percentile(seconds, 0.95)
    result.chars_per_s = result.characters / total if total > 0 else None
    result.realtime_factor = total / result.audio_s if result.audio_s else None
    return result


def _processor() -> str:
    """The CPU's name: sysctl's brand string on macOS, /proc/cpuinfo's model name on Linux."""
    if platform.system() == "Darwin":
        try:
            done = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            if done.returncode == 0 and done.stdout.strip():
                return done.stdout.strip()
        except OSError:
            pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(model: str, threads: int, voice: str, texts: Sequence[str]) -> dict[str, Any]:
    """What the table's numbers were measured on and with."""
    import onnxruntime

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "system": platform.system(),
        "machine": platform.machine(),
        "processor": _processor(),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "available_providers": list(onnxruntime.get_available_providers()),
        "model": model,
        "threads": threads,
        "voice": voice,
        "chunks": len(texts),
        "characters": sum(len(text) for text in texts),
    }
    if info["system"] == "Darwin":
        info["macos"] = platform.mac_ver()[0]
    return info


def _cell(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _escaped(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(info: dict[str, Any], results: Sequence[Measurement]) -> str:
    """The results as Markdown: what was measured on, then one row per configuration."""
    system = f"{info['system']} {info['machine']}"
    if info.get("macos"):
        system = f"macOS {info['macos']} ({system})"
    lines = [
        "### kokoro-queue bench --providers",
        "",
        f"- machine: {system}, {info['processor']}",
        f"- platform: {info['platform']}, Python {info['python']}",
        f"- onnxruntime {info['onnxruntime']}: {', '.join(info['available_providers'])}",
        f"- model: {info['model']}; ONNX intra-op threads: {info['threads']}; "
        f"voice {info['voice']}",
        f"- {info['chunks']} chunks, {info['characters']} characters",
        "",
        "| configuration | provider | load s | cached load s | warm-up s | mean s/chunk "
        "| p95 s/chunk | chars/s | RTF |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for result in results:
        if result.error is not None:
            failed = f"failed: {_escaped(result.error)}"
            lines.append(f"| {result.configuration} | {failed} | – | – | – | – | – | – | – |")
            continue
        cells = [
            result.configuration,
            result.provider or "–",
            _cell(result.load_s),
            _cell(result.cached_load_s),
            _cell(result.warmup_s),
            _cell(result.mean_s, 3),
            _cell(result.p95_s, 3),
            _cell(result.chars_per_s, 1),
            _cell(result.realtime_factor, 3),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "load: the session (CoreML: with its compile, into an empty cache); cached load: CoreML "
        "again from that cache, as every later worker start; RTF: seconds of synthesis per "
        "second of audio (below 1 is faster than real time).",
    ]
    return "\n".join(lines) + "\n"


def service_engine_factory(settings: "Settings", files, threads: int) -> EngineFactory:
    """Engines as a worker makes them, on one configuration each."""
    from worker.engine import SynthesisEngine

    def make(config: Configuration, cache_dir: Path | None) -> Engine:
        units = config.compute_units or settings.coreml_compute_units

        def options(provider: str) -> dict[str, str]:
            return provider_options(
                provider, units, cache_dir or Path(), model_print=files.model.name
            )

        return SynthesisEngine(files, threads, config.provider, options)

    return make


def run_bench(
    settings: "Settings",
    chunks: int = DEFAULT_CHUNKS,
    as_json: bool = False,
    *,
    out: TextIO = sys.stdout,
    make_engine: EngineFactory | None = None,
    available: Sequence[str] | None = None,
) -> int:
    """Measure every configuration available here and print the table (or JSON)."""
    import onnxruntime

    from core.audio.formats import SAMPLE_RATE
    from infra.model_files import default_voice, resolve_model_files

    files = resolve_model_files(settings)
    threads = settings.threads_per_child
    voice = default_voice(settings)
    texts = chunk_texts(chunks)
    if make_engine is None:
        from worker.timed_model import timed_model

        # The derived model is made once, here, so that no row's load time includes it
        timed_model(files.model, settings.models_dir)
        make_engine = service_engine_factory(settings, files, threads)
    found = configurations(
        onnxruntime.get_available_providers() if available is None else available
    )
    results = []
    for config in found:
        print(f"measuring {config.name} …", file=sys.stderr, flush=True)
        results.append(measure(config, make_engine, texts, voice, SAMPLE_RATE))
    info = machine_info(files.model.name, threads, voice, texts)
    if as_json:
        out.write(json.dumps({"machine": info, "results": [asdict(r) for r in results]}, indent=2))
        out.write("\n")
    else:
        out.write(render_markdown(info, results))
    return 0
