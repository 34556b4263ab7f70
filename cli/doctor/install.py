"""Doctor checks of this Python install: the Python version, the packages, and the ONNX Runtime
execution providers the worker would use."""

import platform
import sys
from importlib import metadata

from cli.doctor.check import FAIL, OK, WARN, Check
from infra.settings import Settings

MIN_PYTHON = (3, 11)

# (distribution names to try, what to show)
PACKAGES = (
    (("kokoro-queue",), "kokoro-queue"),
    (("kokoro-onnx",), "kokoro-onnx"),
    (("onnxruntime", "onnxruntime-gpu", "onnxruntime-silicon"), "onnxruntime"),
    (("celery",), "celery"),
    (("fastapi",), "fastapi"),
    (("sqlalchemy",), "sqlalchemy"),
    (("numpy",), "numpy"),
    (("soundfile",), "soundfile"),
)


def check_versions(settings: Settings) -> list[Check]:
    python = platform.python_version()
    checks = [
        Check(
            "versions",
            "python",
            OK if sys.version_info[:2] >= MIN_PYTHON else FAIL,
            f"{python} ({sys.executable})",
            None if sys.version_info[:2] >= MIN_PYTHON else "kokoro-queue needs Python 3.11+",
        )
    ]
    for names, shown in PACKAGES:
        for name in names:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
            detail = version if name == shown else f"{version} ({name})"
            checks.append(Check("versions", shown, OK, detail))
            break
        else:
            checks.append(
                Check(
                    "versions",
                    shown,
                    FAIL,
                    "not installed",
                    f"run `make install` (or `pip install {names[0]}`)",
                )
            )
    return checks


def check_providers(settings: Settings) -> list[Check]:
    from worker.providers import CPU, choose_providers

    try:
        import onnxruntime
    except ImportError as error:
        return [
            Check("providers", "available", FAIL, f"onnxruntime: {error}", "run `make install`")
        ]
    available = list(onnxruntime.get_available_providers())
    order = choose_providers(available, settings.providers)
    checks = [
        Check(
            "providers",
            "available",
            OK if CPU in available else WARN,
            ", ".join(available) or "none",
        )
    ]
    requested = [p.strip() for p in (settings.providers or "").split(",") if p.strip()]
    missing = [p for p in requested if p not in available]
    source = f"KQ_PROVIDERS={settings.providers}" if requested else "default for this platform"
    checks.append(
        Check(
            "providers",
            "order",
            WARN if missing else OK,
            f"{' > '.join(order)}  ({source})",
            f"not available here, skipped: {', '.join(missing)}; install the matching "
            "onnxruntime build (e.g. onnxruntime-gpu) or change KQ_PROVIDERS"
            if missing
            else None,
        )
    )
    return checks
