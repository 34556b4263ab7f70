"""The derived model (worker/timed_model.py) on the real Kokoro model: its durations add up to
its audio, its audio is the original's, and words are timed from them."""

import json
import logging
from functools import cache

import numpy as np
import onnxruntime as ort
import pytest
from kokoro_onnx import Kokoro

from core.speech.lexicon import EMPTY_LEXICON
from core.speech.phonemizer import phonemize
from core.speech.spoken import speak
from core.speech.word_timing import SAMPLES_PER_FRAME
from infra.model_files import ModelFiles, resolve_model_files
from infra.settings import Settings
from worker.audio import speech_bounds
from worker.timed_model import DURATIONS_OUTPUT, find_durations, timed_model, timed_paths
from worker.timed_synthesis import chunk_words, synthesize_timed

SENTENCES = (
    "The old man was thin and gaunt, with deep wrinkles in the back of his neck.",
    "In 1921, Dr. Hale paid $40 for it; she didn't mind.",
)
VOICE = "jf_alpha"


@cache
def model_files() -> ModelFiles:
    return resolve_model_files(Settings())


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    return timed_model(model_files().model, tmp_path_factory.mktemp("models"))


def kokoro(path) -> Kokoro:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return Kokoro.from_session(session, str(model_files().voices))


def spoken(text: str):
    return speak(text, "en-us", lexicon=EMPTY_LEXICON, phonemize=lambda s: phonemize(s, "en-us"))


def test_the_derived_model_outputs_the_durations(derived, tmp_path_factory):
    import onnx

    assert derived.durations_output == DURATIONS_OUTPUT
    target, record_path = timed_paths(model_files().model, derived.path.parent)
    assert derived.path == target
    record = json.loads(record_path.read_text())
    graph = onnx.load(str(model_files().model), load_external_data=False).graph
    assert find_durations(graph) == record["durations_tensor"]
    # The int8 graph's rounded durations as the alignment sums them: clipped to one frame at
    # least, cast to integers, the batch row taken
    producers = {output: node for node in graph.node for output in node.output}
    chain, tensor = [], record["durations_tensor"]
    while tensor != "/encoder/Round_output_0":
        node = producers[tensor]
        chain.append(node.op_type)
        tensor = node.input[0]
    assert chain == ["Gather", "Cast", "Clip"]
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    assert names[1:] == [DURATIONS_OUTPUT]
    # Made once: the next start reuses it
    assert timed_model(model_files().model, derived.path.parent) == derived


def test_durations_add_up_to_the_audio_and_the_audio_is_the_originals(derived):
    original, timed = kokoro(model_files().model), kokoro(derived.path)
    for text in SENTENCES:
        phonemes = spoken(text).phonemes
        expected, _ = original.create(phonemes, voice=VOICE, speed=1.0, is_phonemes=True)
        result = synthesize_timed(timed, derived.durations_output, phonemes, VOICE, 1.0)
        assert not result.estimated
        for frames, samples in result.batch_frames:
            assert samples == SAMPLES_PER_FRAME * frames  # exact here; within a frame at most
            assert abs(samples - SAMPLES_PER_FRAME * frames) < SAMPLES_PER_FRAME
        assert len(result.audio) == len(expected)
        assert float(np.abs(result.audio - expected).max()) < 1e-4
        assert len(result.edges) == len(result.tokens) + 1


def test_words_are_timed_to_the_speech(derived):
    timed = kokoro(derived.path)
    text = SENTENCES[1]
    said = spoken(text)
    result = synthesize_timed(timed, derived.durations_output, said.phonemes, VOICE, 1.0)
    words = chunk_words(text, said.spoken, "en-us", result)
    assert [w.word for w in words] == ["In", "1921", "Dr", "Hale", "paid", "$40", "for"] + [
        "it",
        "she",
        "didn't",
        "mind",
    ]
    assert all(0 <= w.start < w.end <= len(result.audio) for w in words)
    assert all(a.end <= b.start for a, b in zip(words, words[1:], strict=False))
    start, end = speech_bounds(result.audio)
    assert abs(words[-1].end - end) <= 0.05 * 24_000  # the last word ends with the speech
    assert abs(words[0].start - start) <= 0.1 * 24_000


def test_a_changed_or_damaged_copy_is_made_again(derived, tmp_path):
    source = model_files().model
    first = timed_model(source, tmp_path)
    target, record_path = timed_paths(source, tmp_path)
    target.write_bytes(b"not the derived model")
    assert timed_model(source, tmp_path) == first
    assert target.stat().st_size > 1000
    record = json.loads(record_path.read_text())
    record["source_sha256"] = "0" * 64  # as if the source had changed since
    record_path.write_text(json.dumps(record))
    assert timed_model(source, tmp_path) == first
    assert json.loads(record_path.read_text())["source_sha256"] != "0" * 64


def test_a_model_without_durations_runs_without_word_timings(tmp_path, caplog):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["tokens"], ["audio"])],
        "no-durations",
        [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [None])],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [None])],
    )
    source = tmp_path / "unknown.onnx"
    onnx.save(helper.make_model(graph), str(source))
    with caplog.at_level(logging.WARNING):
        found = timed_model(source, tmp_path / "models")
    assert found.path == source and found.durations_output is None
    assert "no phoneme durations" in caplog.text
    # Searched once: the record says so, and the next start does not search again
    assert timed_model(source, tmp_path / "models") == found
