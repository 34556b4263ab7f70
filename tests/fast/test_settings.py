"""Settings come from KQ_* variables and refuse unsafe production defaults."""

import pytest
from pydantic import ValidationError

from infra.settings import Settings


def test_environment_variables_configure_everything(monkeypatch, tmp_path):
    monkeypatch.setenv("KQ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KQ_WORKER_CONCURRENCY", "3")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db/kq")
    monkeypatch.setenv("KOKORO_MODEL_PATH", "/models/kokoro-v1.0.onnx")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.worker_concurrency == 3
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@db/kq"
    assert str(settings.model_path) == "/models/kokoro-v1.0.onnx"


def test_defaults_are_local_and_sized_to_the_cores(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path, worker_concurrency=2)
    assert settings.host == "127.0.0.1"
    assert settings.redis_url.startswith("redis://127.0.0.1")
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve()}/kokoro-queue.db"
    # The cores are shared among the children, at least one thread each
    monkeypatch.setattr("infra.settings._cores", lambda: 8)
    assert settings.threads_per_child == 4
    assert Settings(data_dir=tmp_path, worker_concurrency=16).threads_per_child == 1
    assert Settings(worker_concurrency=1, onnx_threads=4).threads_per_child == 4


def test_production_refuses_the_sqlite_default(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="KQ_DATABASE_URL"):
        Settings(environment="production")


def test_chunk_sizes_are_bounded_by_the_model_limit():
    with pytest.raises(ValidationError):
        Settings(chunk_tokens=511)
