"""Execution provider choice: pure functions, no ONNX Runtime session needed."""

from pathlib import Path

import pytest

from infra.settings import Settings
from worker.providers import (
    COREML,
    CPU,
    CUDA,
    choose_providers,
    coreml_cache_dir,
    provider_options,
)

ALL = [COREML, CUDA, CPU]


@pytest.mark.parametrize(
    ("available", "system", "machine", "expected"),
    [
        ([CPU], "Linux", "x86_64", [CPU]),
        ([CUDA, CPU], "Linux", "x86_64", [CUDA, CPU]),
        ([COREML, CPU], "Darwin", "arm64", [COREML, CPU]),
        ([COREML, CPU], "Darwin", "x86_64", [CPU]),  # Intel Macs: CoreML is not worth it
        ([COREML, CPU], "Linux", "arm64", [CPU]),
        ([CPU, CUDA], "Linux", "aarch64", [CUDA, CPU]),
    ],
)
def test_automatic_choice(available, system, machine, expected):
    assert choose_providers(available, None, system, machine) == expected


def test_requested_providers_win_and_cpu_stays_last_resort():
    assert choose_providers(ALL, "CUDAExecutionProvider", "Linux", "x86_64") == [CUDA, CPU]
    assert choose_providers(ALL, f"{CPU}", "Darwin", "arm64") == [CPU]
    assert choose_providers([CPU], f"{CUDA}, {CPU}", "Linux", "x86_64") == [CPU]
    assert choose_providers([CPU], "NoSuchProvider", "Linux", "x86_64") == [CPU]


@pytest.mark.parametrize(("system", "pool"), [("Darwin", "processes"), ("Linux", "prefork")])
def test_macos_workers_are_processes_started_by_exec(monkeypatch, system, pool):
    monkeypatch.setattr("platform.system", lambda: system)
    monkeypatch.delenv("KQ_WORKER_POOL", raising=False)
    assert Settings().worker_pool == pool
    monkeypatch.setenv("KQ_WORKER_POOL", "prefork")
    assert Settings().worker_pool == "prefork"  # selectable everywhere


class _SessionThatFailsOn:
    """Stands in for onnxruntime.InferenceSession: refuses to build on the given providers."""

    def __init__(self, failing: set[str], attempts: list[list[str]]):
        self.failing, self.attempts = failing, attempts

    def __call__(self, path, sess_options=None, providers=()):
        names = [name for name, _options in providers]
        self.attempts.append(names)
        if names[0] in self.failing:
            raise RuntimeError(f"{names[0]} cannot run this model")
        return ("session", names)


def test_a_provider_that_fails_to_build_falls_back_to_the_next(monkeypatch, caplog):
    from worker import engine

    attempts: list[list[str]] = []
    monkeypatch.setattr(engine.ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(engine.ort, "InferenceSession", _SessionThatFailsOn({CUDA}, attempts))
    with caplog.at_level("WARNING"):
        session = engine.build_session("model.onnx", threads=1, requested=None)
    assert session == ("session", [CPU])
    assert attempts == [[CUDA, CPU], [CPU]]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and CUDA in warnings[0]


def test_no_provider_at_all_is_a_clear_error(monkeypatch):
    from worker import engine

    monkeypatch.setattr(engine.ort, "get_available_providers", lambda: [CPU])
    monkeypatch.setattr(engine.ort, "InferenceSession", _SessionThatFailsOn({CPU}, []))
    with pytest.raises(RuntimeError, match="no ONNX Runtime provider could load model.onnx"):
        engine.build_session("model.onnx", threads=1, requested=None)


def test_coreml_compiles_an_mlprogram_cached_in_the_data_dir(tmp_path):
    options = provider_options(
        COREML, "CPUAndNeuralEngine", tmp_path / "coreml-cache", model_print="m.onnx:1"
    )
    cache = Path(options.pop("ModelCacheDirectory"))
    assert options == {"ModelFormat": "MLProgram", "MLComputeUnits": "CPUAndNeuralEngine"}
    # One subdirectory per model file (tests/fast/test_coreml.py)
    assert cache.parent == tmp_path / "coreml-cache" and cache == coreml_cache_dir(
        tmp_path / "coreml-cache", "m.onnx:1"
    )
    assert provider_options(CPU, "ALL", tmp_path) == {}
    assert provider_options(CUDA, "ALL", tmp_path) == {"cudnn_conv_algo_search": "HEURISTIC"}
