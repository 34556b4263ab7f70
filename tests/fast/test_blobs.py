"""The local blob store writes atomically and keeps keys inside its root."""

import pytest

from infra.settings import Settings
from storage.blob_store import BlobNotFound, BlobStore, chunk_key, job_audio_key, job_prefix
from storage.blobs import LocalBlobStore, blob_store


def test_put_get_overwrite_and_delete(tmp_path):
    store = LocalBlobStore(tmp_path)
    key = chunk_key("abc", 7)
    assert key == "chunks/abc/000007.flac"
    store.put(key, b"first")
    store.put(key, b"second")  # a re-run overwrites the same deterministic key
    assert store.get(key) == b"second" and store.size(key) == 6
    store.put(job_audio_key("abc", "wav"), b"x")
    # A job's own files go with its prefix; the chunks it made lie apart (later jobs may hold
    # them), under their own
    store.delete_prefix(job_prefix("abc"))
    assert not store.exists(job_audio_key("abc", "wav")) and store.exists(key)
    store.delete_prefix(key)
    assert not store.exists(key)
    with pytest.raises(BlobNotFound):
        store.get(key)


def test_failed_write_leaves_no_file_and_no_temp(tmp_path):
    store = LocalBlobStore(tmp_path)
    store.put("jobs/j/audio.wav", b"complete")
    with pytest.raises(RuntimeError), store.writer("jobs/j/audio.wav") as tmp:
        tmp.write_bytes(b"trunc")
        raise RuntimeError("disk full halfway")
    # Readers still see the previous complete file; the partial one is gone
    assert store.get("jobs/j/audio.wav") == b"complete"
    assert [p.name for p in (tmp_path / "jobs" / "j").iterdir()] == ["audio.wav"]


def test_keys_cannot_escape_the_root(tmp_path):
    store = LocalBlobStore(tmp_path / "store")
    with pytest.raises(ValueError):
        store.put("../outside", b"x")


def test_the_default_store_is_the_local_directory(tmp_path):
    store = blob_store(Settings(data_dir=tmp_path))
    assert isinstance(store, LocalBlobStore) and isinstance(store, BlobStore)
    assert store.root == (tmp_path / "audio").resolve()
    assert blob_store(Settings(audio_dir=tmp_path / "elsewhere")).root == tmp_path / "elsewhere"
    key = job_audio_key("j", "wav")
    store.put(key, b"0123456789")
    assert store.local_path(key) == store.path(key)
    assert store.download_url(key, media_type="audio/wav", disposition="attachment") is None
    assert b"".join(store.read(key)) == b"0123456789"
    assert b"".join(store.read(key, 2, 5)) == b"234"
    with pytest.raises(BlobNotFound):
        store.read(job_audio_key("none", "wav"))
