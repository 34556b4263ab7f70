"""The ONNX Runtime run options every inference of a worker's session is given.

With ``KQ_ONNX_ARENA_SHRINKAGE`` each ``session.run`` ends by returning the memory arena's
unused blocks to the system. The arena itself stays on (turning it off made this model 2x slower
and 3x larger); it only stops keeping the high-water mark of the longest chunk a child has read.
"""

import onnxruntime as ort

from worker.providers import CUDA

# ONNX Runtime's run-option key (onnxruntime_run_options_config_keys.h) and its value format:
# "device:id" pairs joined by ";", no spaces; "cpu" needs the CPU arena on (it is, here)
ARENA_SHRINKAGE_KEY = "memory.enable_memory_arena_shrinkage"
CPU_ARENA = "cpu:0"
# The CUDA provider's arena is the GPU's: "gpu:<device id>". The session runs on device 0 of
# the devices the process sees (CUDA_VISIBLE_DEVICES picks which physical GPU that is).
GPU_ARENA = "gpu:0"


def arena_shrinkage_devices(provider: str) -> str:
    """The arenas to shrink for a session whose first provider is ``provider``: the CPU arena
    always (inputs, outputs and CPU-side nodes live there), the GPU's too on CUDA."""
    return f"{CPU_ARENA};{GPU_ARENA}" if provider == CUDA else CPU_ARENA


def run_options(shrink_arena: bool, provider: str) -> ort.RunOptions | None:
    """What to pass as ``session.run(outputs, inputs, run_options)``; None (ONNX Runtime's
    defaults) without shrinkage."""
    if not shrink_arena:
        return None
    options = ort.RunOptions()
    options.add_run_config_entry(ARENA_SHRINKAGE_KEY, arena_shrinkage_devices(provider))
    return options
