"""docker-compose.yml: the services exist, ports bind 127.0.0.1 only, workers scale, secrets are
required, and the `gpu` profile adds a CUDA worker on a queue of its own. With Docker Compose v2
installed, `docker compose config` is the judge; without it, the same assertions run on the file
as PyYAML reads it, with Compose's `${...}` rules applied (and Compose v1, where installed, still
checks the file against the Compose schema).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret-for-test",
    "KQ_FLOWER_PASSWORD": "flower-secret",
    "KQ_API_KEYS": "app=compose-key-for-test",
}
SERVICES = {"redis", "postgres", "migrate", "api", "worker", "flower"}
GPU_PROFILE = "gpu"
GPU_WORKER = "worker-gpu"


def _compose_command() -> list[str] | None:
    """Docker Compose v2 (`docker compose`), else v1 (`docker-compose`, which validates the file
    but has no JSON output), else None."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


COMPOSE = _compose_command()
HAVE_COMPOSE = COMPOSE == ["docker", "compose"]


def _env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KQ_", "POSTGRES_"))}
    env.update(SECRETS)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _docker_compose(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    assert COMPOSE is not None
    return subprocess.run(
        [*COMPOSE, "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# --- a small stand-in for `docker compose config` ---------------------------------------------

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class MissingVariable(ValueError):
    pass


def _interpolate(value, env: dict[str, str]):
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$$`."""
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        if op in (":-", ":?") and current == "":
            current = None
        if current is not None:
            return current
        if op in (":?", "?"):
            raise MissingVariable(f"required variable {name} is missing a value: {arg}")
        return arg or ""

    return _VARIABLE.sub(replace, value)


def _normalize_ports(ports: list) -> list[dict]:
    normalized = []
    for port in ports:
        if isinstance(port, dict):
            normalized.append(port)
            continue
        *host, target = str(port).split(":")
        host_ip, published = (host if len(host) == 2 else ["", *host]) if host else ("", "")
        normalized.append({"host_ip": host_ip, "published": published, "target": int(target)})
    return normalized


def _normalize_environment(environment, env: dict[str, str]) -> dict[str, str]:
    if isinstance(environment, list):
        environment = dict(
            item.split("=", 1) if "=" in item else (item, None) for item in environment
        )
    # A bare name takes the value from the shell, and is left out when the shell has none
    return {
        k: (str(v) if v is not None else env[k])
        for k, v in (environment or {}).items()
        if v is not None or k in env
    }


def _yaml_config(env: dict[str, str]) -> dict:
    yaml = pytest.importorskip(
        "yaml", reason="neither Docker Compose v2 nor PyYAML is here to read docker-compose.yml"
    )
    config = _interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), env)
    for service in config["services"].values():
        service["ports"] = _normalize_ports(service.get("ports", []))
        service["environment"] = _normalize_environment(service.get("environment"), env)
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {name: {"condition": "service_started"} for name in depends}
        service["depends_on"] = depends
    return config


def compose_config(env: dict[str, str], profiles: tuple[str, ...] = ()) -> dict:
    """The resolved file with ``profiles`` active. PyYAML's reading has every service, those of
    any profile included; each keeps its ``profiles`` list either way."""
    if HAVE_COMPOSE:
        flags = [arg for profile in profiles for arg in ("--profile", profile)]
        result = _docker_compose(env, *flags, "config", "--format", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    return _yaml_config(env)


# --- the tests --------------------------------------------------------------------------------


def test_compose_file_is_valid_with_the_secrets_set():
    if COMPOSE is None:
        pytest.skip("no Docker Compose (v2 or v1) is installed; the other tests read the file")
    result = _docker_compose(_env(), "config", "--quiet")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_refuses_to_run_without_a_secret(secret):
    env = _env(**{secret: None})
    if COMPOSE is not None:
        result = _docker_compose(env, "config", "--quiet")
        assert result.returncode != 0
        assert secret in result.stderr
    if not HAVE_COMPOSE:
        with pytest.raises(MissingVariable, match=secret):
            _yaml_config(env)


def test_services_ports_scaling_and_wiring():
    env = _env()
    config = compose_config(env)
    services = config["services"]
    assert set(services) >= SERVICES

    published = [
        (name, port) for name, service in services.items() for port in service.get("ports", [])
    ]
    assert {name for name, _ in published} == {"api", "flower"}
    for name, port in published:
        assert port.get("host_ip") == "127.0.0.1", (name, port)

    # Scalable: no fixed container name on the worker
    assert "container_name" not in services["worker"]

    for name in ("migrate", "api", "worker", "flower"):
        environment = services[name]["environment"]
        url = environment["KQ_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://kq:")
        assert f":{SECRETS['POSTGRES_PASSWORD']}@postgres/" in url
        assert environment["KQ_REDIS_URL"] == "redis://redis:6379/0"
        assert environment["KQ_ENVIRONMENT"] == "production"
        assert environment["KQ_DATA_DIR"] == "/data"
    assert services["api"]["environment"]["KQ_HOST"] == "0.0.0.0"
    # Listening beyond loopback, so with keys (the API refuses otherwise)
    assert services["api"]["environment"]["KQ_API_KEYS"] == SECRETS["KQ_API_KEYS"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    flower_auth = services["flower"]["environment"]["FLOWER_BASIC_AUTH"]
    assert flower_auth == f"kq:{SECRETS['KQ_FLOWER_PASSWORD']}"
    # ...and never on a command line, where `ps` would show it
    assert not any("basic-auth" in str(arg) for arg in services["flower"].get("command") or [])

    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["api"]["command"] == ["api"]
    assert services["worker"]["command"] == ["worker"]

    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert any("/healthz" in part for part in services["api"]["healthcheck"]["test"])
    assert "--appendonly" in services["redis"]["command"]

    # One /data for the API and every worker (audio and the model); databases keep their data
    for name in ("api", "worker"):
        mounts = services[name]["volumes"]
        targets = {
            (m["source"], m["target"]) if isinstance(m, dict) else tuple(m.split(":")[:2])
            for m in mounts
        }
        assert ("kq-data", "/data") in targets, mounts
    assert {"kq-data", "redis-data", "postgres-data"} <= set(config["volumes"])


def test_optional_tuning_passes_through_only_when_set():
    unset = compose_config(_env())["services"]["worker"]["environment"]
    # Compose v2 may list the bare name with a null value: either way none reaches the container
    assert unset.get("KQ_WORKER_CONCURRENCY") is None
    set_ = compose_config(_env(KQ_WORKER_CONCURRENCY="2"))["services"]["worker"]["environment"]
    assert set_["KQ_WORKER_CONCURRENCY"] == "2"


def test_dockerfile_runs_kokoro_queue_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    # The package from the build context, with the speech recognizer of proof-listening
    assert re.search(r'^RUN pip install "/src\[proof\]"', dockerfile, re.M)
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^ENV KQ_DATA_DIR=/data", dockerfile, re.M)
    assert re.search(r'^ENTRYPOINT \["kokoro-queue"\]', dockerfile, re.M)
    # The build context must carry what `pip install` needs, and no local venv or data
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)
    for needed in (
        "pyproject.toml",
        "README.md",
        "api",
        "worker",
        "storage",
        "core",
        "infra",
        "cli",
    ):
        assert needed not in ignored


# --- the gpu profile --------------------------------------------------------------------------


def test_the_gpu_profile_is_valid():
    if COMPOSE is None:
        pytest.skip("no Docker Compose (v2 or v1) is installed; the other tests read the file")
    result = _docker_compose(_env(), "--profile", GPU_PROFILE, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_the_gpu_worker_consumes_its_own_queue_on_an_nvidia_gpu():
    services = compose_config(_env(), profiles=(GPU_PROFILE,))["services"]
    gpu, cpu = services[GPU_WORKER], services["worker"]
    assert gpu["profiles"] == [GPU_PROFILE]
    assert gpu["command"] == ["worker"]
    assert Path(gpu["build"]["dockerfile"]).name == "Dockerfile.cuda"
    assert gpu["image"] != cpu["image"]

    queue = gpu["environment"]["KQ_QUEUE"]
    assert queue and queue != cpu["environment"]["KQ_QUEUE"]
    # The API lets a job name it ("queue": ...), or it could never be sent work
    allowed = services["api"]["environment"]["KQ_QUEUES"].split(",")
    assert queue in [q.strip() for q in allowed]
    assert gpu["environment"]["KQ_PROVIDERS"] == "CUDAExecutionProvider"
    assert gpu["environment"]["KQ_WORKER_CONCURRENCY"] == "1"

    # The same database, broker, data volume and start order as the CPU workers
    for name in ("KQ_DATABASE_URL", "KQ_REDIS_URL", "KQ_ENVIRONMENT", "KQ_DATA_DIR"):
        assert gpu["environment"][name] == cpu["environment"][name], name
    assert gpu["depends_on"] == cpu["depends_on"]
    assert ("kq-data", "/data") in {_mount(m) for m in gpu["volumes"]}

    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert "gpu" in device["capabilities"]


def test_without_the_gpu_profile_no_gpu_worker_starts():
    services = compose_config(_env())["services"]
    if HAVE_COMPOSE:
        assert GPU_WORKER not in services
    else:  # PyYAML keeps every service; Compose leaves out those of an inactive profile
        assert services[GPU_WORKER]["profiles"] == [GPU_PROFILE]
    assert all(not service.get("profiles") for name, service in services.items()
               if name != GPU_WORKER)  # fmt: skip


def test_cuda_dockerfile_swaps_in_onnxruntime_gpu_and_runs_like_the_cpu_one():
    dockerfile = (ROOT / "Dockerfile.cuda").read_text()
    base = re.search(r"^ARG CUDA_IMAGE=(\S+)", dockerfile, re.M)
    assert base and base.group(1).startswith("nvidia/cuda:")
    assert "cudnn" in base.group(1) and "runtime" in base.group(1)
    assert re.search(r"^FROM \$\{CUDA_IMAGE\}", dockerfile, re.M)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11$", dockerfile, re.M)
    # onnxruntime out, onnxruntime-gpu of the same version in, in that order
    uninstall = dockerfile.index("uninstall onnxruntime")
    assert uninstall < dockerfile.index('install "onnxruntime-gpu==${ORT_VERSION}"')
    assert "CUDAExecutionProvider" in dockerfile
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^ENV KQ_DATA_DIR=/data", dockerfile, re.M)
    assert re.search(r'^ENTRYPOINT \["kokoro-queue"\]', dockerfile, re.M)


def _mount(mount) -> tuple[str, str]:
    if isinstance(mount, dict):
        return mount["source"], mount["target"]
    source, target = str(mount).split(":")[:2]
    return source, target
