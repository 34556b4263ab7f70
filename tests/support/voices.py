"""Voices files for tests: any voice names, made from the shipped Japanese voices' vectors."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from infra.model_files import embedded_voices_path

# The official voices-v1.0.bin's format, which kokoro-onnx loads
VOICE_SHAPE, VOICE_DTYPE = (510, 1, 256), np.float32


def write_voices(path: Path, names: Sequence[str]) -> None:
    """A voices file at ``path`` with ``names``, their vectors the shipped voices' in turn: the
    service reads only the names, and the model speaks (intelligibly) with any of the vectors."""
    with np.load(embedded_voices_path()) as shipped:
        vectors = [shipped[name] for name in shipped.files]
    arrays = {name: vectors[i % len(vectors)] for i, name in enumerate(names)}
    if any(a.shape != VOICE_SHAPE or a.dtype != VOICE_DTYPE for a in arrays.values()):
        raise ValueError(f"the shipped voices are not {VOICE_SHAPE} {VOICE_DTYPE.__name__}")
    with path.open("wb") as f:  # a path would get ".npz" appended
        np.savez(f, **arrays)
