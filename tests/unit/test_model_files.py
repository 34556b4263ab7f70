"""The model and voices: assembled offline from the PyPI parts, or the official files."""

import numpy as np
import pytest

from core.model_files import (
    EMBEDDED_MODEL_SHA256,
    EMBEDDED_MODEL_SIZE,
    ModelFilesError,
    assemble_embedded_model,
    default_voice,
    list_voices,
    resolve_model_files,
    sha256_of,
)
from core.settings import Settings


def test_embedded_model_is_assembled_once_and_verified(tmp_path):
    model = assemble_embedded_model(tmp_path)
    assert model.stat().st_size == EMBEDDED_MODEL_SIZE
    assert sha256_of(model) == EMBEDDED_MODEL_SHA256
    mtime = model.stat().st_mtime_ns
    assert assemble_embedded_model(tmp_path) == model
    assert model.stat().st_mtime_ns == mtime  # not rewritten
    assert [p.name for p in tmp_path.iterdir()] == [model.name]  # no temp file left


def test_official_files_are_used_when_configured(tmp_path):
    model, voices = tmp_path / "kokoro-v1.0.onnx", tmp_path / "voices-v1.0.bin"
    model.write_bytes(b"onnx")
    with voices.open("wb") as f:  # a path would get ".npz" appended
        np.savez(f, af_bella=np.zeros((510, 1, 256)), af_heart=np.zeros((510, 1, 256)))
    settings = Settings(data_dir=tmp_path / "data", model_path=model, voices_path=voices)
    files = resolve_model_files(settings)
    assert (files.model, files.voices) == (model, voices)
    assert not (tmp_path / "data").exists()  # nothing assembled
    assert list_voices(settings) == ("af_bella", "af_heart")
    assert default_voice(settings) == "af_heart"
    assert default_voice(Settings(voices_path=voices, default_voice="af_bella")) == "af_bella"


def test_embedded_voices_default_to_the_first(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert list_voices(settings)[0] == "jf_alpha"
    assert default_voice(settings) == "jf_alpha"


def test_missing_files_say_how_to_fix_it(tmp_path):
    with pytest.raises(ModelFilesError, match="KOKORO_MODEL_PATH"):
        resolve_model_files(Settings(model_path=tmp_path / "nope.onnx"))
    with pytest.raises(ModelFilesError, match="KOKORO_VOICES_PATH"):
        list_voices(Settings(voices_path=tmp_path / "nope.bin"))
