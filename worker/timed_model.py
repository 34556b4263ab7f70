"""The model with its phoneme durations as a second output: word timings at no extra cost.

Kokoro predicts a duration (in decoder frames) for every phoneme token, rounds it, clips it to
at least one frame and builds the alignment of tokens to frames from the running sum
(``CumSum``) of those durations. The graph computes them anyway; a copy of the model that also
outputs them gives the worker word timings without another inference or a re-export.

The copy is made once per model file, with the ``onnx`` package, into the models folder of
the data dir (``<model>.timed.onnx``, written to a temporary file and renamed), with a record
beside it (``<model>.timed.json``): the sha256 of its source and its own. It is made again when
the source changes and never loaded when its own hash is wrong. A model whose graph has no
such durations (an unknown export) is loaded as it is, without word timings; the record says
so, so that the graph is searched once, not at every start.
"""

import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.model_files import KnownFile, mismatch, sha256_of

log = logging.getLogger(__name__)

# The rounded durations in the int8 export (Kokoro-82M v1.0); other exports are searched
KNOWN_DURATIONS_TENSOR = "/encoder/Round_output_0"
# The extra output's name. Not "duration": kokoro-onnx treats a model with that output as
# one of its own timed exports and then lengthens pauses after punctuation, changing the audio
DURATIONS_OUTPUT = "kq_token_durations"
# Ops between the rounding and the running sum that keep each token's value: (the first
# input is the data) casts, clips to one frame at least, reshapes, the batch row's gather
_PASS_THROUGH = {"Cast", "Clip", "Gather", "Squeeze", "Unsqueeze", "Reshape", "Flatten", "Identity"}
_ROUNDING = {"Round", "Ceil", "Floor"}
# Bumped when the derivation changes: copies made by an older one are made again
DERIVATION = 1


@dataclass(frozen=True)
class TimedModel:
    """The model file to load and the name of its durations output (None: it has none)."""

    path: Path
    durations_output: str | None


def timed_paths(source: Path, models_dir: Path) -> tuple[Path, Path]:
    """Where the derived model of ``source`` and its record go."""
    stem = source.name.removesuffix(".onnx")
    return models_dir / f"{stem}.timed.onnx", models_dir / f"{stem}.timed.json"


def find_durations(graph) -> str | None:
    """The tensor of per-token durations that the alignment sums (an ``onnx`` GraphProto), or
    None. The int8 export's known name is the first guess; any export is searched for the
    ``CumSum`` whose input is, through casts, clips and reshapes only, a rounding."""
    producers = {output: node for node in graph.node for output in node.output}

    def rounded(tensor: str) -> list[str] | None:
        """The tensors from ``tensor`` back to a rounding, or None if it is not one."""
        chain = [tensor]
        node = producers.get(tensor)
        while node is not None and node.op_type in _PASS_THROUGH and node.input:
            chain.append(node.input[0])
            node = producers.get(node.input[0])
        return chain if node is not None and node.op_type in _ROUNDING else None

    sums = [
        (node.input[0], chain)
        for node in graph.node
        if node.op_type == "CumSum" and (chain := rounded(node.input[0])) is not None
    ]
    known = [tensor for tensor, chain in sums if KNOWN_DURATIONS_TENSOR in chain]
    if known:
        return known[0]
    if len(sums) == 1:
        return sums[0][0]
    # None, or several candidates: guessing could time words by the wrong tensor
    return None


def _elem_type(model, tensor: str) -> int:
    import onnx

    def declared() -> int | None:
        graph = model.graph
        for info in [*graph.value_info, *graph.output, *graph.input]:
            if info.name == tensor and info.type.tensor_type.elem_type:
                return info.type.tensor_type.elem_type
        return None

    found = declared()
    if found is None:
        model = onnx.shape_inference.infer_shapes(model)
        found = declared()
    return found or onnx.TensorProto.INT64


def derive(source: Path, target: Path) -> str | None:
    """Write ``source`` with its durations as the extra output ``DURATIONS_OUTPUT`` to
    ``target`` (atomically); the durations tensor's name, or None (nothing written)."""
    import onnx

    model = onnx.load(str(source))
    tensor = find_durations(model.graph)
    if tensor is None:
        return None
    # Through an Identity, so the output has one name whatever the export called the tensor
    model.graph.node.append(onnx.helper.make_node("Identity", [tensor], [DURATIONS_OUTPUT]))
    model.graph.output.append(
        onnx.helper.make_tensor_value_info(DURATIONS_OUTPUT, _elem_type(model, tensor), None)
    )
    _write_atomically(target, model.SerializeToString())
    return tensor


def _write_atomically(target: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


@contextmanager
def _one_at_a_time(models_dir: Path) -> Iterator[None]:
    # Pool children start together: one derives, the others then find its copy
    with (models_dir / ".timed.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _reusable(source: Path, target: Path, record_path: Path) -> TimedModel | None:
    """What the record says, if it still holds: same source, the copy's hash right."""
    try:
        record = json.loads(record_path.read_text())
        expected_source = KnownFile(source.name, record["source_size"], record["source_sha256"])
        if record.get("derivation") != DERIVATION or mismatch(source, expected_source):
            return None
        if record["sha256"] is None:
            return TimedModel(source, None)  # searched before: this graph has no durations
        problem = mismatch(target, KnownFile(target.name, record["size"], record["sha256"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if problem is not None:
        log.warning(
            "derived model %s is not the one recorded (%s): making it again", target, problem
        )
        return None
    return TimedModel(target, DURATIONS_OUTPUT)


def timed_model(source: Path, models_dir: Path) -> TimedModel:
    """The model to load for ``source``: its derived copy with durations where the graph has
    them, else ``source`` itself (words then timed by estimate). Never raises for a copy that
    cannot be made: the worker still speaks, without exact word timings."""
    target, record_path = timed_paths(source, models_dir)
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        with _one_at_a_time(models_dir):
            found = _reusable(source, target, record_path)
            if found is not None:
                return found
            source_size, source_sha256 = source.stat().st_size, sha256_of(source)
            try:
                tensor = derive(source, target)
            except OSError:
                raise
            except Exception as error:  # onnx raises its own errors for a graph it cannot read
                log.warning("could not read the graph of %s (%s)", source, error)
                tensor = None
            record = {
                "derivation": DERIVATION,
                "source": str(source),
                "source_size": source_size,
                "source_sha256": source_sha256,
                "durations_tensor": tensor,
                "output": DURATIONS_OUTPUT if tensor else None,
                "size": target.stat().st_size if tensor else None,
                "sha256": sha256_of(target) if tensor else None,
            }
            _write_atomically(record_path, json.dumps(record, indent=2).encode())
    except OSError as error:
        log.warning(
            "could not write the timed copy of %s into %s (%s): words are timed by estimate. "
            "Make the data dir's models folder writable to get exact word timings.",
            source,
            models_dir,
            error,
        )
        return TimedModel(source, None)
    if tensor is None:
        log.warning(
            "no phoneme durations found in the graph of %s: words are timed by estimate "
            "(evenly by phonemes). Use a Kokoro v1.0 ONNX export for exact word timings.",
            source,
        )
        return TimedModel(source, None)
    log.info("derived %s (durations from %s) from %s", target, tensor, source)
    return TimedModel(target, DURATIONS_OUTPUT)
