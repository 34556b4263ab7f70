"""The engine on an NVIDIA GPU: a sentence synthesized through ONNX Runtime's CUDA provider.

Runs only where onnxruntime-gpu is installed (in place of onnxruntime: docs/gpu.md) and a GPU is
visible; elsewhere every test here is skipped, and the reason says which of the two is missing.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from core.audio.formats import SAMPLE_RATE
from infra.model_files import default_voice, resolve_model_files
from infra.settings import Settings, get_settings
from worker.providers import CPU, CUDA, CUDA_OPTIONS, provider_options

SENTENCE = "The graphics card read this sentence aloud."
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")  # one directory per GPU the driver sees
MIN_RMS = 0.01  # speech, not silence
MAX_LENGTH_DIFFERENCE = 0.1  # GPU and CPU arithmetic differ a little; the words are the same


def _nvidia_gpu_visible() -> bool:
    if NVIDIA_GPUS.is_dir() and any(NVIDIA_GPUS.iterdir()):
        return True
    if shutil.which("nvidia-smi"):
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
        return listed.returncode == 0 and "GPU" in listed.stdout
    return False


def _why_no_cuda() -> str | None:
    providers = ort.get_available_providers()
    if CUDA not in providers:
        return (
            f"onnxruntime {ort.__version__} has no {CUDA} (it has {', '.join(providers)}): "
            "install onnxruntime-gpu in place of onnxruntime to run the CUDA smoke test"
        )
    if not _nvidia_gpu_visible():
        return f"{CUDA} is installed but no NVIDIA GPU is visible (nvidia-smi -L lists none)"
    return None


NO_CUDA = _why_no_cuda()
pytestmark = pytest.mark.skipif(NO_CUDA is not None, reason=NO_CUDA or "")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    # The engine keeps its derived (timed) model in the settings' data dir
    monkeypatch.setenv("KQ_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _engine(data_dir: Path, providers: str):
    from worker.engine import SynthesisEngine

    # With the provider options a worker gives (worker/app.py)
    return SynthesisEngine(
        resolve_model_files(Settings(data_dir=data_dir)),
        1,
        providers,
        lambda provider: provider_options(provider, "ALL", data_dir / "coreml-cache"),
    )


def test_a_sentence_is_synthesized_on_the_gpu(data_dir):
    voice = default_voice(Settings(data_dir=data_dir))
    engine = _engine(data_dir, CUDA)
    # The session was built on CUDA, not quietly on the CPU fallback
    assert engine.provider == CUDA
    assert engine.kokoro.sess.get_providers()[0] == CUDA
    taken = engine.kokoro.sess.get_provider_options()[CUDA]
    for name, value in CUDA_OPTIONS.items():
        assert taken[name] == value, (name, taken[name])

    engine.warm_up(voice)
    result = engine.synthesize(SENTENCE, voice, 1.0, "en-us")
    audio = result.audio
    assert audio.dtype == np.float32
    assert np.isfinite(audio).all()
    assert 1.0 < result.seconds < 10.0, result.seconds
    assert float(np.sqrt(np.mean(audio**2))) > MIN_RMS
    assert np.abs(audio).max() <= 1.5  # not garbage from a broken kernel

    # The same sentence on the CPU: the same speech, give or take GPU arithmetic
    on_cpu = _engine(data_dir, CPU).synthesize(SENTENCE, voice, 1.0, "en-us")
    assert abs(len(audio) - len(on_cpu.audio)) <= MAX_LENGTH_DIFFERENCE * len(on_cpu.audio)
    assert len(audio) == pytest.approx(result.seconds * SAMPLE_RATE)
