"""Voice samples at the API (`GET /v1/voices/{voice}/sample`), and OpenAI's voice names.

A sample storage does not have is ordered from a worker as one `kq.synthesize_sample` task at
the top priority on the API's queue, and served once its key appears; one storage has is served
without any task; bad requests are 422 and order nothing; no worker in time is 503 with
Retry-After and the order revoked. Orders count against the key (429 beyond its samples in
flight), and a sample of a text the key chose is kept for that key alone. Through the in-process
app on a SQLite file, with a broker stand-in whose "worker" writes the sample's key itself and
an in-memory stand-in for the Redis that counts samples in flight: no Redis, worker or model is
needed.
"""

import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from api.routers.speech import kokoro_voice
from api.sample_slots import SampleSlotsInMemory
from core.speech.languages import supported_codes
from core.voices.catalog import GRADES
from core.voices.openai_names import KOKORO_EQUIVALENTS, OPENAI_VOICES
from core.voices.samples import SAMPLE_MAX_CHARS, SAMPLE_TEXTS
from infra.queue import PRIORITY_STEPS, SYNTHESIZE_SAMPLE, celery_priority
from infra.settings import Settings
from storage.blobs import LocalBlobStore
from tests.support.fast import (
    FastApi,
    RecordingCelery,
    api_for,
    fast_settings,
    without_shell_settings,
)
from tests.support.voices import write_voices

# Names of the official voices file (Kokoro's stand-ins for OpenAI's voices among them) and
# two Japanese ones; the vectors are the shipped voices' (the API reads only the names)
VOICES = ("af_alloy", "af_bella", "af_heart", "af_nova", "af_sarah", "am_echo", "am_fenrir",
          "am_michael", "am_onyx", "bm_fable", "bm_george", "jf_alpha", "jm_kumo")  # fmt: skip
WORKER_DELAY_S = 0.3  # the stand-in worker takes this long, so the API really waits
TOP_PRIORITY = celery_priority(max(PRIORITY_STEPS))
MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "opus": "audio/ogg"}


class QueueWithWorker(RecordingCelery):
    """Records each task with its priority; while ``working``, a sample task's key is written
    a moment later, as a worker would (the bytes name the task's arguments)."""

    def __init__(self, store: LocalBlobStore):
        super().__init__()
        self.store = store
        self.working = True
        self.priorities: list[int | None] = []
        self.task_ids: list[str | None] = []
        self.revoked: list[str] = []
        self.control = SimpleNamespace(revoke=self.revoked.append)

    def send_task(self, name, args=None, queue=None, priority=None, task_id=None, **options):
        super().send_task(name, args, queue, **options)
        self.priorities.append(priority)
        self.task_ids.append(task_id)
        if name == SYNTHESIZE_SAMPLE and self.working:
            key = args[0]
            timer = threading.Timer(WORKER_DELAY_S, self.store.put, (key, made(args)))
            timer.daemon = True
            timer.start()

    def samples(self) -> list[list]:
        return [args for _, args, _ in self.sent_named(SYNTHESIZE_SAMPLE)]


def made(args: list) -> bytes:
    return repr(args).encode()


@pytest.fixture
def clean_env():
    with without_shell_settings():
        yield


def english_voices(data_dir: Path) -> Path:
    path = data_dir / "voices.npz"
    write_voices(path, VOICES)
    return path


def sample_api(data_dir: Path, **settings) -> tuple[FastApi, QueueWithWorker]:
    settings.setdefault("voices_path", english_voices(data_dir))
    api = api_for(fast_settings(data_dir, **settings))
    api.http.base_url = "http://127.0.0.1:8000"  # as a client on this machine addresses it
    queue = QueueWithWorker(LocalBlobStore(api.settings.storage_dir))
    api.http.app.state.celery = queue
    api.http.app.state.sample_slots = SampleSlotsInMemory()
    return FastApi(api.http, queue, api.settings), queue


@pytest.fixture
def api(tmp_path, clean_env) -> tuple[FastApi, QueueWithWorker]:
    return sample_api(tmp_path)


def test_a_sample_not_kept_is_one_top_priority_task_and_served_once_made(api):
    app, queue = api
    response = app.http.get("/v1/voices/af_heart/sample")
    assert response.status_code == 200, response.text
    assert response.headers["X-KQ-Sample"] == "made"
    assert response.headers["content-type"] == "audio/wav"
    [(name, args, sent_to)] = queue.sent
    assert name == SYNTHESIZE_SAMPLE
    assert sent_to == app.settings.queue
    assert queue.priorities == [TOP_PRIORITY]
    key, voice, text, speed, lang, fmt = args
    assert (voice, text, speed, lang, fmt) == (
        "af_heart",
        SAMPLE_TEXTS["en-us"],
        1.0,
        "en-us",
        "wav",
    )
    assert key.startswith("samples/") and key.endswith(".wav")
    assert response.content == made(args)


def test_a_kept_sample_is_served_without_a_task(api):
    app, queue = api
    first = app.http.get("/v1/voices/am_echo/sample", params={"text": "Hear me.", "speed": 1.5})
    assert first.headers["X-KQ-Sample"] == "made"
    queue.working = False  # no worker at all now
    again = app.http.get("/v1/voices/am_echo/sample", params={"text": "Hear me.", "speed": 1.5})
    assert again.status_code == 200, again.text
    assert again.headers["X-KQ-Sample"] == "cached"
    assert again.content == first.content
    assert len(queue.sent) == 1


@pytest.mark.parametrize("fmt", MEDIA_TYPES)
def test_each_format_is_made_and_served_as_itself(api, fmt):
    app, queue = api
    response = app.http.get("/v1/voices/af_heart/sample", params={"format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPES[fmt]
    [args] = queue.samples()
    assert args[5] == fmt
    assert args[0].endswith(".ogg" if fmt == "opus" else f".{fmt}")


def test_whatever_changes_the_sound_is_another_sample(api):
    app, queue = api
    requests = [
        ("af_heart", {}),
        ("af_heart", {"speed": 1.2}),
        ("af_heart", {"text": "Another sentence."}),
        ("af_heart", {"format": "mp3"}),
        ("af_heart", {"lang": "en-gb"}),
        ("af_heart", {"text": "Hermione", "phonemes": "hɜːmˈaɪəni"}),
        ("af_heart", {"text": "Hermione", "phonemes": "hɜːmˈiəni"}),
        ("af_bella", {}),
        ("af_heart:0.5,af_bella:0.5", {}),
    ]
    for voice, params in requests:
        assert app.http.get(f"/v1/voices/{voice}/sample", params=params).status_code == 200
    keys = [args[0] for args in queue.samples()]
    assert len(set(keys)) == len(requests)


def test_other_voices_files_never_serve_an_old_sample(api):
    """Installing other voices (here: the file rewritten) changes every sample's key."""
    app, queue = api
    assert app.http.get("/v1/voices/af_heart/sample").headers["X-KQ-Sample"] == "made"
    voices = app.settings.voices_path
    write_voices(voices, (*VOICES, "af_sky"))
    later = voices.stat().st_mtime_ns + 10**9  # another version, even on a coarse clock
    os.utime(voices, ns=(later, later))
    again = app.http.get("/v1/voices/af_heart/sample")
    assert again.headers["X-KQ-Sample"] == "made"
    first_key, second_key = (args[0] for args in queue.samples())
    assert first_key != second_key


def test_a_blend_is_checked_and_ordered_as_jobs_store_it(api):
    app, queue = api
    response = app.http.get("/v1/voices/ af_heart:7 , am_echo:3/sample")
    assert response.status_code == 200, response.text
    [args] = queue.samples()
    assert args[1] == "af_heart:0.7,am_echo:0.3"
    assert args[4] == "en-us"  # the language of its heaviest voice


@pytest.mark.parametrize(
    ("voice", "params", "lang"),
    [
        ("bm_fable", {}, "en-gb"),
        ("jf_alpha", {}, "ja"),
        ("jm_kumo:0.2,bm_george:0.8", {}, "en-gb"),
        ("jf_alpha", {"lang": "en-us"}, "en-us"),
    ],
)
def test_the_default_text_is_in_the_voices_language(api, voice, params, lang):
    if lang not in supported_codes():
        pytest.skip(f"no front end for {lang} is installed")
    app, queue = api
    assert app.http.get(f"/v1/voices/{voice}/sample", params=params).status_code == 200
    [args] = queue.samples()
    assert (args[2], args[4]) == (SAMPLE_TEXTS[lang], lang)


def test_every_language_has_a_default_sample_text():
    assert set(supported_codes()) <= set(SAMPLE_TEXTS)
    assert all(len(text) <= SAMPLE_MAX_CHARS for text in SAMPLE_TEXTS.values())


BAD_REQUESTS = {
    "unknown voice": ("af_nobody", {}, "available voices: af_alloy, af_bella"),
    "unknown voice in a blend": ("af_heart:1,af_nobody:1", {}, "unknown voice 'af_nobody'"),
    "bad blend weight": ("af_heart:0,am_echo:1", {}, "positive numbers"),
    "text over the limit": ("af_heart", {"text": "a" * (SAMPLE_MAX_CHARS + 1)}, "at most 300"),
    "empty text": ("af_heart", {"text": ""}, "at least 1"),
    "text with nothing to say": ("af_heart", {"text": "... !"}, "nothing speakable"),
    "another format": ("af_heart", {"format": "flac"}, "'wav', 'mp3' or 'opus'"),
    "speed out of range": ("af_heart", {"speed": 3}, "less than or equal to 2"),
    "unknown language": ("af_heart", {"lang": "xx"}, "en-us"),
    "phonemes without a text": ("af_heart", {"phonemes": "hɛlˈoʊ"}, "give `text`"),
    "phonemes Kokoro lacks": ("af_heart", {"text": "hi", "phonemes": "h$i"}, "not Kokoro phonemes"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_requests_are_422_saying_what_to_fix_and_order_nothing(api, case):
    app, queue = api
    voice, params, message = BAD_REQUESTS[case]
    before = app.stored()
    response = app.http.get(f"/v1/voices/{voice}/sample", params=params)
    assert response.status_code == 422, response.text
    assert message in response.text
    assert app.stored() == before
    assert queue.sent == []


def test_a_word_said_by_its_phonemes_is_a_sample_of_its_own(api):
    """A pronunciation heard before it is saved: the worker says the text with them."""
    app, queue = api
    params = {"text": "Hermione", "phonemes": " hɜːmˈaɪəni "}
    response = app.http.get("/v1/voices/af_heart/sample", params=params)
    assert response.status_code == 200, response.text
    [args] = queue.samples()
    assert args[2] == "Hermione" and args[6] == "hɜːmˈaɪəni"  # stripped, as a lexicon keeps it
    plain = app.http.get("/v1/voices/af_heart/sample", params={"text": "Hermione"})
    assert plain.status_code == 200
    assert queue.samples()[1][0] != args[0] and len(queue.samples()[1]) == 6


def test_a_text_of_the_limit_is_accepted(api):
    app, queue = api
    text = "word " * (SAMPLE_MAX_CHARS // 5)
    response = app.http.get("/v1/voices/af_heart/sample", params={"text": text})
    assert response.status_code == 200, response.text
    assert queue.samples()[0][2] == text


def test_no_worker_in_time_is_503_with_retry_after_and_the_order_revoked(tmp_path, clean_env):
    """Bug: an order nobody waited for any more stayed in the queue at the top priority."""
    app, queue = sample_api(tmp_path, sample_wait_s=0.5)
    queue.working = False
    response = app.http.get("/v1/voices/af_heart/sample")
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert "KQ_SAMPLE_WAIT_S" in response.json()["detail"]
    assert len(queue.samples()) == 1
    [task_id] = queue.task_ids
    assert task_id and queue.revoked == [task_id]
    # Its place in the key's samples in flight is free again
    assert app.http.app.state.sample_slots.held == {}


def test_an_unreachable_queue_is_503(api):
    app, queue = api

    def refuse(*_, **__):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    queue.send_task = refuse
    response = app.http.get("/v1/voices/af_heart/sample")
    assert response.status_code == 503, response.text
    assert "queue is unreachable" in response.json()["detail"]
    assert "Retry-After" in response.headers
    assert app.http.app.state.sample_slots.held == {}  # nothing ordered, nothing held


def test_an_unreachable_redis_for_the_count_is_503(api):
    app, queue = api

    class Unreachable:
        def take(self, *_):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    app.http.app.state.sample_slots = Unreachable()
    response = app.http.get("/v1/voices/af_heart/sample")
    assert response.status_code == 503, response.text
    assert "queue is unreachable" in response.json()["detail"]
    assert queue.sent == []


# What samples cost a key

KEYS = "alice=kq-alice-key,bob=kq-bob-key"
ALICE = {"Authorization": "Bearer kq-alice-key"}
BOB = {"Authorization": "Bearer kq-bob-key"}


def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_samples_in_flight_count_against_the_key(tmp_path, clean_env):
    """Bug: 100 sample texts queued 100 top-priority tasks while the key's jobs got 429."""
    app, queue = sample_api(
        tmp_path, api_keys=KEYS, max_samples_in_flight_per_key=2, sample_wait_s=2
    )
    queue.working = False
    answers = []

    def ask(text: str) -> None:
        params = {"text": text}
        answers.append(app.http.get("/v1/voices/af_heart/sample", params=params, headers=ALICE))

    waiting = [threading.Thread(target=ask, args=(f"Sample number {n}.",)) for n in range(2)]
    for thread in waiting:
        thread.start()
    wait_until(lambda: len(queue.samples()) == 2)
    refused = app.http.get(
        "/v1/voices/af_heart/sample", params={"text": "One more."}, headers=ALICE
    )
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert "KQ_MAX_SAMPLES_IN_FLIGHT_PER_KEY" in refused.json()["detail"]
    assert len(queue.samples()) == 2  # the refused one ordered nothing
    # Another key has samples of its own
    queue.working = True
    other = app.http.get("/v1/voices/af_heart/sample", params={"text": "Bob's."}, headers=BOB)
    assert other.status_code == 200, other.text
    for thread in waiting:
        thread.join()
    assert [answer.status_code for answer in answers] == [503, 503]
    # Their waits over (and their orders revoked), the key may order again
    again = app.http.get("/v1/voices/af_heart/sample", params={"text": "Now."}, headers=ALICE)
    assert again.status_code == 200, again.text


def test_a_kept_sample_is_served_while_the_key_has_no_room(tmp_path, clean_env):
    app, queue = sample_api(tmp_path, max_samples_in_flight_per_key=1)
    assert app.http.get("/v1/voices/af_heart/sample").status_code == 200
    slots = app.http.app.state.sample_slots
    assert slots.take("", "someone-else's-order", 1, 60)  # the anonymous key is full now
    kept = app.http.get("/v1/voices/af_heart/sample")
    assert kept.status_code == 200, kept.text
    assert kept.headers["X-KQ-Sample"] == "cached"
    assert app.http.get("/v1/voices/am_echo/sample").status_code == 429


def test_a_sample_of_a_keys_own_text_is_kept_for_that_key_alone(tmp_path, clean_env):
    """Bug: another key that guessed the text got the first key's audio, `cached`."""
    app, queue = sample_api(tmp_path, api_keys=KEYS)
    params = {"text": "Meet me at the old mill at nine."}
    alice = app.http.get("/v1/voices/af_heart/sample", params=params, headers=ALICE)
    assert alice.headers["X-KQ-Sample"] == "made"
    bob = app.http.get("/v1/voices/af_heart/sample", params=params, headers=BOB)
    assert bob.status_code == 200, bob.text
    assert bob.headers["X-KQ-Sample"] == "made"
    first_key, second_key = (args[0] for args in queue.samples())
    assert first_key != second_key
    again = app.http.get("/v1/voices/af_heart/sample", params=params, headers=ALICE)
    assert again.headers["X-KQ-Sample"] == "cached"
    assert again.content == alice.content


def test_a_sample_of_the_default_text_is_shared_by_every_key(tmp_path, clean_env):
    app, queue = sample_api(tmp_path, api_keys=KEYS)
    alice = app.http.get("/v1/voices/af_heart/sample", headers=ALICE)
    assert alice.headers["X-KQ-Sample"] == "made"
    bob = app.http.get("/v1/voices/af_heart/sample", headers=BOB)
    assert bob.headers["X-KQ-Sample"] == "cached"
    assert len(queue.samples()) == 1
    # The default text sent as the key's own is the same sample: nothing of the key's is in it
    same = app.http.get(
        "/v1/voices/af_heart/sample", params={"text": SAMPLE_TEXTS["en-us"]}, headers=BOB
    )
    assert same.headers["X-KQ-Sample"] == "cached"


def test_samples_need_a_key_where_the_server_has_keys(tmp_path, clean_env):
    app, queue = sample_api(tmp_path, api_keys="app=kq-sample-key")
    assert app.http.get("/v1/voices/af_heart/sample").status_code == 401
    with_key = app.http.get(
        "/v1/voices/af_heart/sample", headers={"Authorization": "Bearer kq-sample-key"}
    )
    assert with_key.status_code == 200, with_key.text
    assert len(queue.samples()) == 1


# OpenAI's voice names


def openai_settings(data_dir: Path, **fields) -> Settings:
    return fast_settings(data_dir, voices_path=english_voices(data_dir), **fields)


def test_openai_names_map_to_their_kokoro_equivalents(tmp_path, clean_env):
    settings = openai_settings(tmp_path)
    expected = {"alloy": "af_alloy", "echo": "am_echo", "fable": "bm_fable",
                "onyx": "am_onyx", "nova": "af_nova", "shimmer": "af_heart"}  # fmt: skip
    for name, voice in expected.items():
        assert kokoro_voice(settings, name) == voice
        assert kokoro_voice(settings, name.upper()) == voice


def test_every_openai_name_has_its_own_official_voice(tmp_path, clean_env):
    settings = openai_settings(tmp_path)
    voices = [kokoro_voice(settings, name) for name in OPENAI_VOICES]
    assert voices == [KOKORO_EQUIVALENTS[name] for name in OPENAI_VOICES]
    assert len(set(voices)) == len(voices)  # two names never sound alike
    assert set(voices) <= set(GRADES)  # voices of the official voices-v1.0.bin


def test_kq_openai_voices_wins(tmp_path, clean_env):
    settings = openai_settings(tmp_path, openai_voices="alloy=jm_kumo, shimmer = af_bella:0.5")
    assert kokoro_voice(settings, "alloy") == "jm_kumo"
    assert kokoro_voice(settings, "shimmer") == "af_bella:0.5"
    assert kokoro_voice(settings, "echo") == "am_echo"


def test_with_only_the_embedded_voices_openai_names_get_voices_of_the_file(tmp_path, clean_env):
    settings = fast_settings(tmp_path)  # no voices setting, nothing installed: the embedded
    voices = {name: kokoro_voice(settings, name) for name in OPENAI_VOICES}
    assert all(voice.startswith(("jf_", "jm_")) for voice in voices.values()), voices
    assert voices["alloy"] != voices["echo"]  # the usual two sound different
    assert kokoro_voice(settings, "jf_alpha:0.5,jm_kumo:0.5") == "jf_alpha:0.5,jm_kumo:0.5"
