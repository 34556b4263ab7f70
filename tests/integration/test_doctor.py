"""`kokoro-queue doctor` against a real running stack (API + worker), and with Redis down."""

import json
import subprocess
import sys

import pytest

from tests.support.stack import ROOT

SECTIONS = ("versions", "providers", "model and voices", "redis", "database", "workers")

# The doctor's checks of a running stack; one database backend is enough
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def doctor(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "doctor", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def by_name(checks: list[dict]) -> dict[str, dict]:
    return {check["name"]: check for check in checks}


def test_doctor_reports_a_running_stack_as_ready(stack):
    result = doctor(stack.env, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = json.loads(result.stdout)
    assert all({"name", "status", "detail"} <= set(check) for check in checks)
    assert not [c for c in checks if c["status"] == "fail"], checks
    named = by_name(checks)

    assert named["model"]["status"] == "ok"
    assert "sha256 ok" in named["model"]["detail"]
    assert str(stack.data_dir) in named["model"]["detail"]
    assert named["voices"]["status"] == "ok" and "jf_alpha" in named["voices"]["detail"]
    assert named["default voice"]["status"] == "ok"
    assert "CPUExecutionProvider" in named["available"]["detail"]
    assert "CPUExecutionProvider" in named["order"]["detail"]
    assert named["redis"]["status"] == "ok"
    assert named["queue depth"]["status"] == "ok"
    assert named["database"]["status"] == "ok"
    assert named["migrations"]["status"] == "ok" and "at head" in named["migrations"]["detail"]
    assert named["workers"]["status"] == "ok"
    assert "1 online" in named["workers"]["detail"]
    assert stack.env["KQ_QUEUE"] in named["workers"]["detail"]
    assert named["api"]["status"] == "ok"
    for package in ("python", "kokoro-queue", "kokoro-onnx", "onnxruntime", "celery"):
        assert named[package]["status"] == "ok", named[package]

    plain = doctor({**stack.env, "COLUMNS": "200"})
    assert plain.returncode == 0, plain.stdout + plain.stderr
    for section in SECTIONS:
        assert section in plain.stdout
    assert "sha256 ok" in plain.stdout
    assert "CPUExecutionProvider" in plain.stdout
    assert "ready" in plain.stdout and "not ready" not in plain.stdout


def test_doctor_fails_with_a_hint_when_redis_does_not_answer(stack):
    env = {**stack.env, "KQ_REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1
    result = doctor(env, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    named = by_name(json.loads(result.stdout))
    assert named["redis"]["status"] == "fail"
    assert "127.0.0.1:1" in named["redis"]["detail"]
    assert "KQ_REDIS_URL" in named["redis"]["hint"]
    assert named["workers"]["status"] == "fail"
    # what does not depend on Redis is still checked
    assert named["model"]["status"] == "ok"
    assert named["migrations"]["status"] == "ok"

    plain = doctor({**env, "COLUMNS": "200"})
    assert plain.returncode == 1
    assert "FAIL" in plain.stdout and "not ready" in plain.stdout
    assert "KQ_REDIS_URL" in plain.stdout
