"""The model and voices: assembled offline from the PyPI parts, or the official files, and
which ones the service loads: a setting, else an installed official file, else the embedded."""

import hashlib
import os

import numpy as np
import pytest

from cli.doctor.check import OK, WARN
from cli.doctor.files import check_model, check_voices
from infra import model_files
from infra.model_files import (
    EMBEDDED_MODEL_NAME,
    EMBEDDED_MODEL_SHA256,
    EMBEDDED_MODEL_SIZE,
    FROM_EMBEDDED,
    FROM_OFFICIAL,
    KnownFile,
    ModelFilesError,
    assemble_embedded_model,
    choose_model,
    default_voice,
    list_voices,
    mismatch,
    resolve_model_files,
    sha256_of,
)
from infra.settings import Settings


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


def test_a_right_sized_file_with_a_wrong_hash_is_reassembled(tmp_path):
    impostor = tmp_path / EMBEDDED_MODEL_NAME
    with impostor.open("wb") as f:
        f.truncate(EMBEDDED_MODEL_SIZE)  # zeros, the right size
    model = assemble_embedded_model(tmp_path)
    assert sha256_of(model) == EMBEDDED_MODEL_SHA256


def test_a_file_is_hashed_once_per_version(tmp_path, monkeypatch):
    hashed = []
    real_sha256_of = model_files.sha256_of

    def counting_sha256_of(path):
        hashed.append(path)
        return real_sha256_of(path)

    monkeypatch.setattr(model_files, "sha256_of", counting_sha256_of)
    path, data = tmp_path / "model.onnx", os.urandom(1000)
    path.write_bytes(data)
    known = KnownFile(path.name, len(data), hashlib.sha256(data).hexdigest())
    assert mismatch(path, known) is None
    assert mismatch(path, known) is None
    assert len(hashed) == 1
    replacement = tmp_path / "new.onnx"
    replacement.write_bytes(os.urandom(1000))
    os.replace(replacement, path)  # a new version of the file: hashed again, and refused
    assert mismatch(path, known).startswith("sha256 ")
    assert len(hashed) == 2


def install_official(monkeypatch, models_dir, variant, data: bytes) -> KnownFile:
    """A generated file standing in for an official one: its published size and hash patched."""
    name = model_files.OFFICIAL_MODELS[variant].name
    known = KnownFile(name, len(data), hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(model_files.OFFICIAL_MODELS, variant, known)
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / name).write_bytes(data)
    return known


def install_official_voices(monkeypatch, models_dir, voices: dict) -> KnownFile:
    path = models_dir / model_files.OFFICIAL_VOICES.name
    models_dir.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:  # a path would get ".npz" appended
        np.savez(f, **voices)
    data = path.read_bytes()
    known = KnownFile(path.name, len(data), hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(model_files, "OFFICIAL_VOICES", known)
    return known


ENGLISH_VOICES = {"af_bella": np.zeros((510, 1, 256)), "af_heart": np.zeros((510, 1, 256))}


def test_installed_official_files_are_preferred_to_the_embedded_ones(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    models_dir = settings.models_dir
    fp16 = install_official(monkeypatch, models_dir, "fp16", os.urandom(2000))
    voices = install_official_voices(monkeypatch, models_dir, ENGLISH_VOICES)
    files = resolve_model_files(settings)
    assert (files.model, files.voices) == (models_dir / fp16.name, models_dir / voices.name)
    assert not (models_dir / EMBEDDED_MODEL_NAME).exists()  # nothing assembled
    assert list_voices(settings) == ("af_bella", "af_heart")
    assert default_voice(settings) == "af_heart"

    fp32 = install_official(monkeypatch, models_dir, "fp32", os.urandom(3000))
    assert resolve_model_files(settings).model == models_dir / fp32.name  # fp32 before fp16
    assert choose_model(settings).source == FROM_OFFICIAL

    [model] = check_model(settings)
    assert model.status == OK and "official fp32" in model.detail
    assert "official voices" in check_voices(settings)[0].detail


def test_settings_win_over_installed_official_files(tmp_path, monkeypatch):
    models_dir = tmp_path / "data" / "models"
    install_official(monkeypatch, models_dir, "fp32", os.urandom(2000))
    install_official_voices(monkeypatch, models_dir, ENGLISH_VOICES)
    model, voices = tmp_path / "mine.onnx", tmp_path / "mine.bin"
    model.write_bytes(b"onnx")
    with voices.open("wb") as f:
        np.savez(f, af_sky=np.zeros((510, 1, 256)))
    settings = Settings(data_dir=tmp_path / "data", model_path=model, voices_path=voices)
    files = resolve_model_files(settings)
    assert (files.model, files.voices) == (model, voices)
    assert "KOKORO_MODEL_PATH" in check_model(settings)[0].detail


def test_an_installed_official_file_with_a_wrong_hash_is_not_used(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    models_dir = settings.models_dir
    fp32 = install_official(monkeypatch, models_dir, "fp32", os.urandom(2000))
    voices = install_official_voices(monkeypatch, models_dir, ENGLISH_VOICES)
    # The same sizes, other bytes: only the hash tells them apart
    (models_dir / fp32.name).write_bytes(os.urandom(fp32.size))
    (models_dir / voices.name).write_bytes(os.urandom(voices.size))

    choice = choose_model(settings)
    assert choice.source == FROM_EMBEDDED
    assert [str(models_dir / fp32.name) in note for note in choice.passed_over] == [True]
    files = resolve_model_files(settings)
    assert files.model == models_dir / EMBEDDED_MODEL_NAME  # assembled instead
    assert list_voices(settings)[0] == "jf_alpha"  # the embedded voices

    doctor = {check.name: check for check in check_model(settings) + check_voices(settings)}
    assert doctor["model"].status == OK
    assert doctor["model not used"].status == WARN and "sha256" in doctor["model not used"].detail
    assert doctor["voices not used"].status == WARN
