"""Execution provider choice: pure functions, no ONNX Runtime session needed."""

import pytest

from worker.providers import COREML, CPU, CUDA, choose_providers, pool_for_platform

ALL = [COREML, CUDA, CPU]


@pytest.mark.parametrize(
    ("available", "system", "machine", "expected"),
    [
        ([CPU], "Linux", "x86_64", [CPU]),
        ([CUDA, CPU], "Linux", "x86_64", [CUDA, CPU]),
        ([COREML, CPU], "Darwin", "arm64", [COREML, CPU]),
        ([COREML, CPU], "Darwin", "x86_64", [CPU]),  # Intel Macs: CoreML is not worth it
        ([COREML, CPU], "Linux", "arm64", [CPU]),
        ([CPU, CUDA], "Linux", "aarch64", [CUDA, CPU]),
    ],
)
def test_automatic_choice(available, system, machine, expected):
    assert choose_providers(available, None, system, machine) == expected


def test_requested_providers_win_and_cpu_stays_last_resort():
    assert choose_providers(ALL, "CUDAExecutionProvider", "Linux", "x86_64") == [CUDA, CPU]
    assert choose_providers(ALL, f"{CPU}", "Darwin", "arm64") == [CPU]
    assert choose_providers([CPU], f"{CUDA}, {CPU}", "Linux", "x86_64") == [CPU]
    assert choose_providers([CPU], "NoSuchProvider", "Linux", "x86_64") == [CPU]


def test_pool_avoids_prefork_on_macos():
    assert pool_for_platform("Darwin") == "threads"
    assert pool_for_platform("Linux") == "prefork"
