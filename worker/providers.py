"""Which ONNX Runtime execution providers to try, in order, and each one's options."""

import errno
import fcntl
import hashlib
import logging
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
COREML = "CoreMLExecutionProvider"

# Every chunk has its own length, so the model's convolutions meet new input shapes all the
# time; ONNX Runtime's default cuDNN algorithm search (EXHAUSTIVE) times every candidate again
# for each new shape. The heuristic picks an algorithm without running them.
CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC"}

# The lock file in a CoreML cache directory that one compile at a time holds
COREML_LOCK_NAME = ".compile.lock"
# How long a process waits for another's CoreML compile before it gives up on CoreML
COREML_LOCK_TIMEOUT_S = 900.0


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


def coreml_cache_key(model_print: str, ort_version: str) -> str:
    """A short name for the compiled models of one model file under one ONNX Runtime.

    ONNX Runtime names its cached CoreML model after the model's path, not its contents, and
    never checks it again: the derived model (``<model>.timed.onnx``) keeps its path when its
    source changes, so without this another model would load a stale compile."""
    from worker.timed_model import DERIVATION

    text = f"{model_print}\0timed-{DERIVATION}\0onnxruntime-{ort_version}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def coreml_cache_dir(cache_root: Path, model_print: str | None = None) -> Path:
    """The CoreML ``ModelCacheDirectory`` of the model the service loads, under ``cache_root``
    (``data_dir/coreml-cache``): one subdirectory per model file and ONNX Runtime version,
    shared by every worker process of the host. ``model_print``: ``infra.model_files.model_print``
    of the settings, read from them when not given."""
    import onnxruntime

    if model_print is None:
        from infra.model_files import model_print as print_of
        from infra.settings import get_settings

        model_print = print_of(get_settings())
    return cache_root / coreml_cache_key(model_print, onnxruntime.__version__)


@contextmanager
def coreml_compile_lock(
    cache_dir: Path, timeout_s: float = COREML_LOCK_TIMEOUT_S, poll_s: float = 0.25
) -> Iterator[None]:
    """Held while a CoreML session is made with ``cache_dir`` as its ModelCacheDirectory: the
    first process compiles the model into the cache, the others wait here and then load the
    compiled model from it. A host with N workers compiles once, not N times, and no process
    reads a compile another is still writing.

    An exclusive ``flock`` on a file in ``cache_dir``; it belongs to the open file, so the
    kernel releases it when its holder exits or dies. TimeoutError after ``timeout_s``."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / COREML_LOCK_NAME, "a+b") as lock_file:
        started = time.monotonic()
        waited = False
        while True:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise
            if not waited:
                waited = True
                log.info(
                    "waiting for another process's CoreML compile in %s (up to %.0f s)",
                    cache_dir,
                    timeout_s,
                )
            if time.monotonic() - started >= timeout_s:
                raise TimeoutError(
                    f"another process held the CoreML compile lock {cache_dir / COREML_LOCK_NAME}"
                    f" for more than {timeout_s:.0f} s"
                )
            time.sleep(poll_s)
        if waited:
            log.info(
                "CoreML compile lock free after %.1f s: loading from the cache in %s",
                time.monotonic() - started,
                cache_dir,
            )
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def provider_options(
    provider: str,
    coreml_compute_units: str,
    cache_dir: Path,
    model_print: str | None = None,
) -> dict[str, str]:
    """Options for one provider. CUDA: ``CUDA_OPTIONS``.

    CoreML compiles to an MLProgram (the format that supports this model's ops) on the compute
    units of ``KQ_COREML_COMPUTE_UNITS``, and caches the compiled model under ``cache_dir``
    (``data_dir/coreml-cache``) in a subdirectory of the model's own (``coreml_cache_dir``), so
    only the first start on a host pays, once (``coreml_compile_lock``). Dynamic input shapes
    stay allowed (``RequireStaticInputShapes`` is not set): every chunk has its own length."""
    if provider == CUDA:
        return dict(CUDA_OPTIONS)
    if provider == COREML:
        from infra.settings import check_compute_units

        return {
            "ModelFormat": "MLProgram",
            "MLComputeUnits": check_compute_units(coreml_compute_units),
            "ModelCacheDirectory": str(coreml_cache_dir(cache_dir, model_print)),
        }
    return {}
