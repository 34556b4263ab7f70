"""Which ONNX Runtime execution providers to try, in order."""

import platform
from pathlib import Path

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
COREML = "CoreMLExecutionProvider"

# Every chunk has its own length, so the model's convolutions meet new input shapes all the
# time; ONNX Runtime's default cuDNN algorithm search (EXHAUSTIVE) times every candidate again
# for each new shape. The heuristic picks an algorithm without running them.
CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC"}


def choose_providers(
    available: list[str],
    requested: str | None = None,
    system: str | None = None,
    machine: str | None = None,
) -> list[str]:
    """Providers to try in order, always ending with CPU as the last resort.

    ``requested`` (``KQ_PROVIDERS``, comma-separated) wins; unknown ones are dropped with the
    rest kept. Otherwise CoreML on Apple Silicon, CUDA where the GPU build is installed, CPU.
    """
    system = system or platform.system()
    machine = machine or platform.machine()
    if requested:
        wanted = [p.strip() for p in requested.split(",") if p.strip()]
        chosen = [p for p in wanted if p in available]
    else:
        chosen = []
        if system == "Darwin" and machine == "arm64" and COREML in available:
            chosen.append(COREML)
        if CUDA in available:
            chosen.append(CUDA)
    if CPU not in chosen:
        chosen.append(CPU)
    return chosen


def pool_for_platform(system: str | None = None) -> str:
    """Prefork everywhere but macOS, where forking after CoreML/objc init crashes."""
    return "threads" if (system or platform.system()) == "Darwin" else "prefork"


def provider_options(provider: str, coreml_compute_units: str, cache_dir: Path) -> dict[str, str]:
    """Options for one provider. CoreML compiles to an MLProgram (the format that supports this
    model's ops) and caches the compiled model in the data dir, so only the first start pays.
    CUDA: ``CUDA_OPTIONS``."""
    if provider == CUDA:
        return dict(CUDA_OPTIONS)
    if provider == COREML:
        return {
            "ModelFormat": "MLProgram",
            "MLComputeUnits": coreml_compute_units,
            "ModelCacheDirectory": str(cache_dir),
        }
    return {}
