"""The CoreML path on Apple Silicon, on any machine: the platform, ONNX Runtime's providers and
its sessions are faked. This project's CI has not run the CoreML path on a Mac.

The engine (ONNX Runtime, Kokoro, espeak) is imported in the tests that use it, not here: the
processes of the lock test import this module, and start in a fraction of a second."""

import fcntl
import hashlib
import multiprocessing
import threading
import time
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from infra.settings import COREML_COMPUTE_UNITS, Settings
from worker import providers
from worker.providers import (
    COREML,
    COREML_LOCK_NAME,
    CPU,
    CUDA,
    coreml_cache_dir,
    coreml_cache_key,
    coreml_compile_lock,
    provider_options,
)

pytestmark = pytest.mark.fast

PRINT = "kokoro-v1.0.int8.onnx:6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"


@pytest.fixture
def engine():
    from worker import engine

    return engine


@pytest.fixture
def apple_silicon(monkeypatch, engine):
    """macOS on arm64, with an ONNX Runtime that lists CoreML."""
    monkeypatch.setattr("platform.system", lambda: "Darwin")
    monkeypatch.setattr("platform.machine", lambda: "arm64")
    monkeypatch.setattr(engine.ort, "get_available_providers", lambda: [COREML, CPU])


def held_by_someone(cache_dir: Path) -> bool:
    """Whether the compile lock of ``cache_dir`` is held (tried through an open of our own)."""
    with open(cache_dir / COREML_LOCK_NAME, "a+b") as other:
        try:
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
        return False


class FakeSession:
    """Stands in for onnxruntime.InferenceSession: records what it was given, and whether the
    CoreML compile lock was held meanwhile; refuses the providers in ``failing``."""

    made: list[dict] = []
    failing: set[str] = set()

    def __init__(self, path, sess_options=None, providers=()):
        self.providers = [name for name, _options in providers]
        options = dict(providers)
        cache = options.get(COREML, {}).get("ModelCacheDirectory")
        FakeSession.made.append(
            {
                "providers": list(providers),
                "lock_held": held_by_someone(Path(cache)) if cache else None,
            }
        )
        if self.providers[0] in FakeSession.failing:
            raise RuntimeError(f"{self.providers[0]} cannot run this model")

    def get_providers(self):
        return self.providers


@pytest.fixture
def fake_sessions(monkeypatch, engine):
    FakeSession.made, FakeSession.failing = [], set()
    monkeypatch.setattr(engine.ort, "InferenceSession", FakeSession)
    return FakeSession


def coreml_options(tmp_path, units="CPUAndGPU"):
    return lambda provider: provider_options(
        provider, units, tmp_path / "coreml-cache", model_print=PRINT
    )


# Provider order and options


def test_apple_silicon_tries_coreml_first_then_cpu(apple_silicon, fake_sessions, tmp_path, engine):
    session = engine.build_session("model.onnx", 4, None, coreml_options(tmp_path))
    assert session.get_providers() == [COREML, CPU]
    assert [name for name, _ in fake_sessions.made[0]["providers"]] == [COREML, CPU]


def test_the_exact_coreml_options(apple_silicon, fake_sessions, tmp_path, engine):
    import onnxruntime

    engine.build_session("model.onnx", 4, None, coreml_options(tmp_path, "CPUAndNeuralEngine"))
    key = hashlib.sha256(
        f"{PRINT}\0timed-1\0onnxruntime-{onnxruntime.__version__}".encode()
    ).hexdigest()[:16]
    assert fake_sessions.made[0]["providers"] == [
        (
            COREML,
            {
                "ModelFormat": "MLProgram",
                "MLComputeUnits": "CPUAndNeuralEngine",
                "ModelCacheDirectory": str(tmp_path / "coreml-cache" / key),
            },
        ),
        (CPU, {}),
    ]
    assert "RequireStaticInputShapes" not in fake_sessions.made[0]["providers"][0][1]


def test_the_session_is_made_under_the_compile_lock(apple_silicon, fake_sessions, tmp_path, engine):
    engine.build_session("model.onnx", 4, None, coreml_options(tmp_path))
    cache = Path(fake_sessions.made[0]["providers"][0][1]["ModelCacheDirectory"])
    assert fake_sessions.made[0]["lock_held"] is True
    assert not held_by_someone(cache)  # and released afterwards


def test_coreml_that_fails_falls_back_to_cpu_without_the_lock(
    apple_silicon, fake_sessions, tmp_path, caplog, engine
):
    fake_sessions.failing = {COREML}
    with caplog.at_level("WARNING"):
        session = engine.build_session("model.onnx", 4, None, coreml_options(tmp_path))
    assert session.get_providers() == [CPU]
    assert [m["lock_held"] for m in fake_sessions.made] == [True, None]
    assert any(COREML in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("available", [[CPU], [CUDA, CPU]])
def test_cpu_and_cuda_sessions_take_no_lock(
    monkeypatch, fake_sessions, tmp_path, available, engine
):
    def no_lock(*_args, **_kwargs):
        raise AssertionError("a session without CoreML took the CoreML compile lock")

    asked = []
    monkeypatch.setattr(engine, "coreml_compile_lock", no_lock)
    monkeypatch.setattr(engine.ort, "get_available_providers", lambda: available)
    monkeypatch.setattr("platform.system", lambda: "Linux")
    engine.build_session(
        "model.onnx", 4, None, lambda p: asked.append(p) or coreml_options(tmp_path)(p)
    )
    assert COREML not in asked
    assert not (tmp_path / "coreml-cache").exists()


def test_a_compile_lock_timeout_falls_back_to_cpu(apple_silicon, fake_sessions, tmp_path, engine):
    def busy(cache_dir):
        raise TimeoutError(f"another process held the CoreML compile lock of {cache_dir}")

    from unittest.mock import patch

    with patch.object(engine, "coreml_compile_lock", busy):
        session = engine.build_session("model.onnx", 4, None, coreml_options(tmp_path))
    assert session.get_providers() == [CPU]


# The cache directory: one per model file


def test_each_model_has_its_own_cache_directory(tmp_path):
    root = tmp_path / "coreml-cache"
    one = coreml_cache_dir(root, PRINT)
    assert one.parent == root and len(one.name) == 16 and int(one.name, 16) >= 0
    assert coreml_cache_dir(root, PRINT) == one  # stable: every process of the host agrees
    assert coreml_cache_dir(root, "kokoro-v1.0.fp16.onnx:c1610a85") != one
    assert coreml_cache_dir(root, "my-model.onnx:325532387:1700000000") != one
    # A new ONNX Runtime compiles again rather than trusting an older one's cache
    assert coreml_cache_key(PRINT, "1.22.0") != coreml_cache_key(PRINT, "1.23.0")


def test_the_cache_directory_follows_the_model_the_service_loads(monkeypatch, tmp_path):
    import infra.model_files

    monkeypatch.setattr(infra.model_files, "model_print", lambda settings: PRINT)
    options = provider_options(COREML, "ALL", tmp_path)
    assert options["ModelCacheDirectory"] == str(coreml_cache_dir(tmp_path, PRINT))
    monkeypatch.setattr(infra.model_files, "model_print", lambda settings: "other.onnx:1:2")
    assert provider_options(COREML, "ALL", tmp_path)["ModelCacheDirectory"] != str(
        coreml_cache_dir(tmp_path, PRINT)
    )


# MLComputeUnits


def test_compute_units_default_to_cpu_and_gpu(monkeypatch):
    monkeypatch.delenv("KQ_COREML_COMPUTE_UNITS", raising=False)
    assert Settings().coreml_compute_units == "CPUAndGPU"


def test_settings_and_providers_agree_on_the_compute_units():
    field = Settings.model_fields["coreml_compute_units"]
    assert set(get_args(field.annotation)) == set(COREML_COMPUTE_UNITS)


@pytest.mark.parametrize(
    ("given", "units"),
    [("ALL", "ALL"), ("cpuonly", "CPUOnly"), (" CPUAndNeuralEngine ", "CPUAndNeuralEngine")],
)
def test_compute_units_are_read_in_any_case(monkeypatch, given, units):
    monkeypatch.setenv("KQ_COREML_COMPUTE_UNITS", given)
    assert Settings().coreml_compute_units == units
    assert provider_options(COREML, given, Path("/c"), model_print=PRINT)["MLComputeUnits"] == (
        units
    )


@pytest.mark.parametrize("given", ["GPU", "NeuralEngine", "CPU_AND_GPU", ""])
def test_invalid_compute_units_are_a_clear_error(monkeypatch, given):
    monkeypatch.setenv("KQ_COREML_COMPUTE_UNITS", given)
    with pytest.raises(ValidationError) as raised:
        Settings()
    message = str(raised.value)
    assert "KQ_COREML_COMPUTE_UNITS" in message
    assert "ALL, CPUOnly, CPUAndGPU, CPUAndNeuralEngine" in message
    with pytest.raises(ValueError, match="set it to one of ALL, CPUOnly, CPUAndGPU"):
        provider_options(COREML, given, Path("/c"), model_print=PRINT)


# The compile lock: one process compiles, the others wait, then load from the cache


def test_two_opens_in_one_process_exclude_each_other(tmp_path, caplog):
    """flock belongs to the open file: two threads, each with its own open, exclude each
    other, and the second says it waits for the first's compile."""
    events: list[tuple[str, str, float]] = []
    first_in = threading.Event()

    def compile_(name: str, hold_s: float) -> None:
        with coreml_compile_lock(tmp_path, poll_s=0.02):
            events.append((name, "in", time.monotonic()))
            first_in.set()
            time.sleep(hold_s)
            events.append((name, "out", time.monotonic()))

    with caplog.at_level("INFO", logger="worker.providers"):
        first = threading.Thread(target=compile_, args=("first", 0.4))
        first.start()
        assert first_in.wait(5)
        second = threading.Thread(target=compile_, args=("second", 0.0))
        second.start()
        first.join(10)
        second.join(10)
    assert [(name, what) for name, what, _ in events] == [
        ("first", "in"),
        ("first", "out"),
        ("second", "in"),
        ("second", "out"),
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert any("waiting for another process's CoreML compile" in m for m in messages)
    assert any("loading from the cache" in m for m in messages)


def _hold_the_lock(cache_dir: str, log_path: str, name: str, hold_s: float) -> None:
    with coreml_compile_lock(Path(cache_dir), poll_s=0.02):
        with open(log_path, "a") as log:
            log.write(f"{name} in {time.time()}\n")
        time.sleep(hold_s)
        with open(log_path, "a") as log:
            log.write(f"{name} out {time.time()}\n")


def test_two_processes_never_hold_the_compile_lock_at_once(tmp_path):
    spawn = multiprocessing.get_context("spawn")
    log_path = tmp_path / "events.log"
    cache = tmp_path / "coreml-cache" / "abc"
    first = spawn.Process(target=_hold_the_lock, args=(str(cache), str(log_path), "first", 1.0))
    first.start()
    deadline = time.monotonic() + 60
    while not (log_path.exists() and "first in" in log_path.read_text()):
        assert time.monotonic() < deadline, "the first process never took the lock"
        time.sleep(0.02)
    second = spawn.Process(target=_hold_the_lock, args=(str(cache), str(log_path), "second", 0))
    second.start()
    first.join(60)
    second.join(60)
    assert first.exitcode == 0 and second.exitcode == 0
    events = [line.split() for line in log_path.read_text().splitlines()]
    assert [(name, what) for name, what, _ in events] == [
        ("first", "in"),
        ("first", "out"),
        ("second", "in"),
        ("second", "out"),
    ]
    first_out, second_in = float(events[1][2]), float(events[2][2])
    assert second_in >= first_out  # the second waited for the first to finish


def test_a_lock_held_too_long_is_a_timeout(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / COREML_LOCK_NAME, "a+b") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        with (
            pytest.raises(TimeoutError, match="CoreML compile lock"),
            coreml_compile_lock(tmp_path, timeout_s=0.2, poll_s=0.02),
        ):
            pass
        assert time.monotonic() - started < 5
    with coreml_compile_lock(tmp_path, timeout_s=0.2):  # free again once its holder lets go
        pass


def test_the_lock_makes_its_directory(tmp_path):
    cache = tmp_path / "var" / "coreml-cache" / "0123456789abcdef"
    with coreml_compile_lock(cache):
        assert (cache / COREML_LOCK_NAME).exists()
    assert providers.COREML_LOCK_TIMEOUT_S >= 60  # a real compile takes a while
