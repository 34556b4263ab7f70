"""The synthesis engine this process has loaded, if any: kept apart from the engine itself so
that a process that only schedules work (the Celery main process, the supervisor, the API)
can ask without importing ONNX Runtime, Kokoro or espeak. Those import only where synthesis
runs, after any fork: a process that has loaded them never forks."""

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine module imports ONNX Runtime
    from worker.engine import SynthesisEngine

_engine: "tuple[int, SynthesisEngine] | None" = None


def process_engine() -> "SynthesisEngine | None":
    """This process's engine, if it has loaded one (never an inherited parent's)."""
    if _engine is not None and _engine[0] == os.getpid():
        return _engine[1]
    return None


def set_process_engine(engine: "SynthesisEngine") -> None:
    global _engine
    _engine = (os.getpid(), engine)
