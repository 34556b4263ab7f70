"""Run options of a worker's inferences: arena shrinkage, as ONNX Runtime itself reads it."""

import numpy as np
import onnxruntime as ort
import pytest
from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

from infra.settings import Settings
from worker.providers import CPU, CUDA
from worker.run_options import ARENA_SHRINKAGE_KEY, arena_shrinkage_devices, run_options


def _tiny_session(cpu_arena: bool = True) -> ort.InferenceSession:
    """A one-node graph (Relu): enough for ONNX Runtime to check the run options it is given."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # within what every supported onnxruntime reads
    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = cpu_arena
    return ort.InferenceSession(model.SerializeToString(), options, providers=[CPU])


def test_no_shrinkage_leaves_onnx_runtime_defaults():
    assert run_options(False, CPU) is None
    assert run_options(False, CUDA) is None


def test_shrinkage_names_the_arenas_of_the_sessions_provider():
    assert arena_shrinkage_devices(CPU) == "cpu:0"
    assert arena_shrinkage_devices(CUDA) == "cpu:0;gpu:0"
    options = run_options(True, CPU)
    assert options.get_run_config_entry(ARENA_SHRINKAGE_KEY) == "cpu:0"
    assert run_options(True, CUDA).get_run_config_entry(ARENA_SHRINKAGE_KEY) == "cpu:0;gpu:0"


def test_a_cpu_session_runs_with_shrinkage_and_gives_the_same_result():
    session = _tiny_session()
    inputs = {"x": np.array([-1.0, 2.0], dtype=np.float32)}
    plain = session.run(None, inputs)[0]
    shrunk = session.run(None, inputs, run_options(True, CPU))[0]
    np.testing.assert_array_equal(plain, shrunk)
    np.testing.assert_array_equal(shrunk, [0.0, 2.0])


def test_onnx_runtime_reads_the_key_and_refuses_an_arena_it_does_not_have():
    # Proof that the key is not silently ignored: naming an arena the session lacks fails
    inputs = {"x": np.array([1.0], dtype=np.float32)}
    with pytest.raises(InvalidArgument, match="arena"):
        _tiny_session().run(None, inputs, run_options(True, CUDA))  # no GPU arena on CPU
    with pytest.raises(InvalidArgument, match="arena"):
        _tiny_session(cpu_arena=False).run(None, inputs, run_options(True, CPU))


def test_the_setting_is_off_by_default_and_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("KQ_ONNX_ARENA_SHRINKAGE", raising=False)
    assert Settings().onnx_arena_shrinkage is False
    monkeypatch.setenv("KQ_ONNX_ARENA_SHRINKAGE", "true")
    assert Settings().onnx_arena_shrinkage is True
