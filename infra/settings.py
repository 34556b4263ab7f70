"""One settings object for the API, the workers and the CLI.

Every field reads a ``KQ_*`` environment variable (``KQ_DATA_DIR``, ``KQ_REDIS_URL``, ...).
``DATABASE_URL``, ``KOKORO_MODEL_PATH`` and ``KOKORO_VOICES_PATH`` are also accepted under
their conventional names.
"""

import os
import platform
import socket
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.audio.formats import SAMPLE_RATE
from core.jobs.limits import MAX_PAUSE_GAP_S, MAX_PAUSE_TOTAL_S
from core.speech.proof import DEFAULT_MAX_CER
from core.text.sentences import MODEL_TOKEN_LIMIT


def _default_worker_pool() -> str:
    # macOS: CoreML and the Objective-C runtime do not survive a fork (worker/supervisor.py)
    return "processes" if platform.system() == "Darwin" else "prefork"


def _cores() -> int:
    # sched_getaffinity sees CPU pinning (taskset, cpusets); cpu_count does not
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


# CoreML's MLComputeUnits values (KQ_COREML_COMPUTE_UNITS)
CoreMLComputeUnits = Literal["ALL", "CPUOnly", "CPUAndGPU", "CPUAndNeuralEngine"]
COREML_COMPUTE_UNITS: tuple[str, ...] = get_args(CoreMLComputeUnits)


def check_compute_units(value: str) -> str:
    """``value`` as one of ``COREML_COMPUTE_UNITS`` (any letter case), or a ValueError that
    says what to set instead."""
    canonical = {units.lower(): units for units in COREML_COMPUTE_UNITS}.get(value.strip().lower())
    if canonical is None:
        raise ValueError(
            f"KQ_COREML_COMPUTE_UNITS={value!r} is not a CoreML MLComputeUnits value: set it to "
            f"one of {', '.join(COREML_COMPUTE_UNITS)}, or unset it for the default "
            "(docs/apple-silicon.md)"
        )
    return canonical


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KQ_", extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("./var")
    # Where audio goes; default: data_dir/audio
    audio_dir: Path | None = None
    # Object storage instead: "s3://bucket/prefix" (AWS S3, MinIO, R2, ...). Credentials and
    # region come from boto3's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    # AWS_DEFAULT_REGION); the endpoint from s3_endpoint_url, else AWS_ENDPOINT_URL.
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    # "path" for MinIO and other servers without virtual-host bucket names
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # Downloads answer 307 to a presigned URL of the bucket instead of passing the bytes through
    s3_presigned_downloads: bool = False
    s3_presigned_expiry_s: int = Field(default=3600, ge=1, le=7 * 24 * 3600)

    # Services
    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("KQ_DATABASE_URL", "DATABASE_URL")
    )
    # The Celery queue this process's workers consume and its jobs go to by default
    queue: str = "kokoro"
    # Other queues a job may name (POST /v1/jobs "queue"), comma-separated: pools that share
    # this database and broker, e.g. "kokoro-gpu" for workers with a GPU
    queues: str | None = None

    # API
    host: str = "127.0.0.1"
    port: int = 8000
    api_workers: int = Field(default=1, ge=1)
    # Threads per API process for its blocking work (database reads and writes, enqueueing):
    # a few keep it fast under load, where the usual 40 spend their time waiting for the GIL
    # (benchmarks/api_load.py: 8 accepted about a fifth more jobs a second than 40)
    api_threads: int = Field(default=8, ge=1)
    # Processes that read uploaded books and big JSON bodies apart from the event loop's GIL
    # (api/reader_processes.py); 0 reads in the threads above
    api_reader_processes: int = Field(default=2, ge=0)
    max_text_chars: int = 2_000_000
    max_request_bytes: int = 10 * 1024 * 1024
    # A PDF upload without a text layer (a scan) is read by OCR when this is on and Tesseract
    # is installed (Debian: tesseract-ocr); else it is a 422 that says so
    pdf_ocr: bool = True
    # POST /v1/text/preview phonemizes every chunk while the client waits: a few pages at once
    preview_max_chars: int = Field(default=100_000, ge=1)
    # Markup pauses ([pause:...], <break>): the silence of one gap between two chunks (the
    # pauses and breaks in a row, added up) and of a whole job's pauses; beyond either, the
    # job is a 422. A few bytes of markup must not become hours of silence to make and store.
    max_pause_gap_s: float = Field(default=MAX_PAUSE_GAP_S, gt=0)
    max_pause_total_s: float = Field(default=MAX_PAUSE_TOTAL_S, gt=0)

    # Chunk audio is kept by what decides it (core/jobs/chunk_keys.py), and a chunk that would
    # be made again is reused: by the key that made it (owner), by any key (server), or never
    # (off). One key never learns what another synthesized unless this says server.
    chunk_reuse: Literal["owner", "server", "off"] = "owner"
    # Finished jobs (succeeded, failed, cancelled) are deleted this many days after they
    # finished, with the audio no other job holds; None keeps them until deleted. A job's own
    # `ttl_hours` comes first.
    job_retention_days: float | None = Field(default=None, gt=0)

    # Clients: with keys (here as "name=key,..." or made by `kokoro-queue keys create`) every
    # /v1 route needs `Authorization: Bearer <key>` and a key sees only its own jobs. Without
    # keys the API refuses to listen beyond loopback unless allow_unauthenticated is set.
    api_keys: SecretStr | None = None
    allow_unauthenticated: bool = False
    # Per key: unfinished jobs at once (429 beyond); a key made by `keys create` may set its own
    max_queued_jobs_per_key: int = Field(default=1000, ge=1)

    # POST /v1/audio/speech: OpenAI voice names to voices of the voices file, "alloy=af_bella,..."
    # (default: Kokoro's equivalents where the file has them)
    openai_voices: str | None = None

    # GET /v1/voices/{voice}/sample waits this long for a worker to make a sample it has not
    # kept yet, then answers 503 with Retry-After (and the order is revoked)
    sample_wait_s: float = Field(default=60.0, gt=0)
    # Samples run ahead of every chunk: a key may wait for this many at once (429 beyond)
    max_samples_in_flight_per_key: int = Field(default=4, ge=1)
    # Without keys the API answers only requests addressed to a loopback name (localhost,
    # *.localhost, 127.0.0.1, [::1]) or to the host it listens on, and only pages of those
    # origins: DNS rebinding and other sites' pages are refused. Other names it is reached by
    # (a local proxy's), comma-separated; "*.example.com" for every name under example.com
    allowed_hosts: str | None = None

    # Live progress (SSE) and audio streams read the database this often while a job runs
    live_poll_s: float = Field(default=0.25, gt=0)
    sse_keepalive_s: float = Field(default=15.0, gt=0)

    # Webhooks: a job's callback_url gets a POST signed with this secret (HMAC-SHA256)
    webhook_secret: SecretStr | None = None
    # Callback URLs on loopback, private or link-local addresses are refused unless this is
    # set: a webhook must not become a way to reach services inside the network
    webhook_allow_private: bool = False
    webhook_max_retries: int = Field(default=8, ge=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)

    # Deliveries of finished books (Audiobookshelf): servers on loopback, private or link-local
    # addresses are refused unless this is set (a home server on the LAN needs it); each upload
    # is retried this many times, and waits at most this long per phase (connect, send, answer)
    deliver_allow_private: bool = False
    deliver_max_retries: int = Field(default=8, ge=0)
    deliver_timeout_s: float = Field(default=60.0, gt=0)
    # The URL podcast apps reach the API at, for the links in feeds (e.g. https://tts.example.com);
    # default: the URL the feed was asked for
    public_url: str | None = None

    # Reconciler: every interval one worker compares unfinished chunks in the database with the
    # broker and sends again those whose task is gone (Redis restarted empty, a lost message).
    # Work younger than the grace is left alone: its message may still be on its way.
    # 30 s: with the heartbeat's 60 s below, a worker that died whole has its chunks sent again
    # within about a minute and a half (60 s for its heartbeat to expire, then the next pass)
    reconcile_interval_s: float = Field(default=30.0, gt=0)
    reconcile_grace_s: float = Field(default=60.0, ge=0)
    # A chunk sent again this many times fails its job; a job with no progress for this long
    # fails (0: never)
    max_chunk_requeues: int = Field(default=5, ge=1)
    stalled_job_timeout_s: float = Field(default=24 * 3600, ge=0)
    # Worker heartbeats (worker/heartbeat.py): each worker's main process records every
    # worker_heartbeat_s that it and its pool children are alive. A running chunk whose process
    # has not been heard from for worker_dead_after_s is taken as lost with its worker (machine
    # gone, container killed) and sent again, instead of waiting in the broker's unacknowledged
    # set for the visibility timeout (2 x task_time_limit_s + 60 s). Keep worker_dead_after_s
    # several heartbeats long: a worker must not look dead between two beats.
    worker_heartbeat_s: float = Field(default=5.0, gt=0)
    worker_dead_after_s: float = Field(default=60.0, gt=0)

    # Flower: basic auth is always on; `up` generates a password when none is set
    flower_port: int = 5555
    flower_user: str = "kq"
    flower_password: SecretStr | None = None

    # Model
    model_path: Path | None = Field(
        default=None, validation_alias=AliasChoices("KQ_MODEL_PATH", "KOKORO_MODEL_PATH")
    )
    voices_path: Path | None = Field(
        default=None, validation_alias=AliasChoices("KQ_VOICES_PATH", "KOKORO_VOICES_PATH")
    )
    default_voice: str | None = None
    # Where `kokoro-queue models download` fetches the official files: the release, or a mirror
    model_base_url: str = (
        "https://github.com/thewh1teagle/kokoro-onnx/releases/download/model-files-v1.0"
    )
    # Pronunciations for every job (TOML or JSON: word = "IPA" or {say = "..."}); a job's own
    # `pronunciations` win over it
    lexicon_path: Path | None = None
    # Proof-listening (docs/proof.md): every chunk heard back by a speech recognizer, a chunk
    # heard with more of its letters wrong than proof_max_cer made again, and flagged if still
    # doubtful. `proof` is the default of jobs that do not say (English jobs only);
    # asr_model_dir the recognizer's CTranslate2 Whisper model (infra/asr_model.py's search)
    proof: bool = False
    proof_max_cer: float = Field(default=DEFAULT_MAX_CER, gt=0, le=1)
    asr_model_dir: Path | None = None
    # Where `kokoro-queue models download --asr` fetches the recognizer (hash-checked): its
    # revision on Hugging Face, or a mirror serving the same files
    asr_model_base_url: str = (
        "https://huggingface.co/Systran/faster-whisper-tiny.en/resolve/"
        "0d3d19a32d3338f10357c0889762bd8d64bbdeba"
    )
    # Comma-separated ONNX Runtime providers to try, e.g. "CUDAExecutionProvider"
    providers: str | None = None
    # CoreML's MLComputeUnits on Apple Silicon: ALL, CPUOnly, CPUAndGPU or CPUAndNeuralEngine
    # (docs/apple-silicon.md). CPUAndGPU, not ONNX Runtime's default ALL: every chunk has its
    # own length, so the model's inputs have dynamic shapes, which the GPU runs as they come,
    # while the Neural Engine that ALL may choose wants fixed shapes (parts it cannot take fall
    # back, a new shape may be specialized again). `kokoro-queue bench --providers` measures all
    # three on the machine; CPU int8 may beat them all (KQ_PROVIDERS=CPUExecutionProvider).
    coreml_compute_units: CoreMLComputeUnits = "CPUAndGPU"
    # After each inference ONNX Runtime gives the memory arena's unused blocks back to the
    # system (worker/run_options.py), so a child that once read a long chunk does not keep
    # its peak for good; benchmarks/worker_memory.py measures what it saves and costs
    onnx_arena_shrinkage: bool = False

    # Chunking: a token costs about 10 % less in a 370-token inference than in a 90-token one,
    # and every chunk pays a fixed overhead (queue, database, storage), while smaller chunks
    # leave fewer cores idle at the end of a job. benchmarks/throughput.py favoured 250 over
    # 120 tokens in two runs of three. The first chunk is short so that audio starts within
    # about a second and a half.
    chunk_tokens: int = Field(default=250, ge=20, le=MODEL_TOKEN_LIMIT)
    first_chunk_tokens: int = Field(default=40, ge=20, le=MODEL_TOKEN_LIMIT)

    # Fairness: a job has at most this many chunks queued or running at once; each finished
    # chunk releases the next. A job submitted behind a book then waits for at most this many
    # of the book's chunks, not the whole book. Raise it to the total worker processes of the
    # cluster so one book alone still uses every worker. Default: 2 x this machine's workers.
    chunks_in_flight_per_job: int | None = Field(default=None, ge=1)

    # Workers
    # The name chunk timings and model loads record for this machine (default: its hostname)
    worker_host: str = Field(default_factory=socket.gethostname, min_length=1, max_length=200)
    worker_concurrency: int = Field(default_factory=_cores, ge=1)
    # prefork: Celery's pool, children forked by a main process that never loads the model;
    # processes: that many one-process workers started by exec (worker/supervisor.py)
    worker_pool: Literal["prefork", "processes"] = Field(default_factory=_default_worker_pool)
    onnx_threads: int | None = Field(default=None, ge=1)
    worker_max_memory_mb: int = Field(default=1500, ge=100)
    worker_max_tasks_per_child: int = Field(default=2000, ge=1)
    # Nice level of the worker pool children: synthesis uses every core, and at a lower CPU
    # priority it yields at once to the API (status polls, submissions) on the same machine.
    # 0 leaves the priority alone; a worker started nicer than this stays as nice as it is.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Linux: the pool children also run under SCHED_IDLE, so they get only the CPU time that
    # nothing else wants, at any nice level. Nice alone still lets them take about a third of
    # the cores from an API busy with submissions (benchmarks/api_load.py). Set false where
    # other low-priority work shares the machine and synthesis must keep its share of it.
    worker_sched_idle: bool = True
    task_time_limit_s: int = Field(default=600, ge=10)
    task_max_retries: int = Field(default=3, ge=0)
    # Assembly (worker/assembly.py): each chapter is encoded in parts of about this much
    # audio, by their own tasks, as soon as the chapter's chunks are done; the job's file is
    # then joined from them without encoding again. Both kinds of task have their own limit.
    assembly_part_seconds: float = Field(default=600.0, ge=10)
    assembly_time_limit_s: int = Field(default=600, ge=10)

    @field_validator("coreml_compute_units", mode="before")
    @classmethod
    def _coreml_compute_units(cls, value: object) -> object:
        return check_compute_units(value) if isinstance(value, str) else value

    @field_validator("storage_url")
    @classmethod
    def _s3_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        scheme, _, rest = url.partition("://")
        if scheme.lower() != "s3" or not rest.split("/", 1)[0]:
            raise ValueError(
                f"KQ_STORAGE_URL {url!r} is not s3://bucket[/prefix]; leave it unset for the "
                "local directory (KQ_AUDIO_DIR)"
            )
        return url

    @model_validator(mode="after")
    def _refuse_unsafe_production_defaults(self) -> "Settings":
        if self.environment == "production" and self.database_url is None:
            raise ValueError(
                "KQ_ENVIRONMENT=production needs KQ_DATABASE_URL (PostgreSQL); the SQLite "
                "default is for one machine in development"
            )
        return self

    def as_env(self) -> dict[str, str]:
        """These settings as the ``KQ_*`` variables that give a child process the same ones."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, Path):
                value = value.resolve()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            env[f"KQ_{name.upper()}"] = str(value)
        env["KQ_DATABASE_URL"] = self.sqlalchemy_url  # the SQLite default, made absolute
        return env

    @property
    def assembly_part_samples(self) -> int:
        """A part of a chapter, in samples: what assembly plans and what it checks."""
        return round(self.assembly_part_seconds * SAMPLE_RATE)

    @property
    def allowed_queues(self) -> list[str]:
        """The queues a job may be sent to: this one first, then KQ_QUEUES."""
        others = [q.strip() for q in (self.queues or "").split(",") if q.strip()]
        return [self.queue, *(q for q in others if q != self.queue)]

    @property
    def env_api_keys(self) -> dict[str, str]:
        """Key -> name of the keys given in KQ_API_KEYS ("name=key" or a bare key)."""
        keys = {}
        raw = self.api_keys.get_secret_value() if self.api_keys else ""
        for number, entry in enumerate(raw.split(","), start=1):
            name, _, key = entry.strip().rpartition("=")
            if key:
                keys[key] = name or f"key {number}"
        return keys

    @property
    def openai_voice_map(self) -> dict[str, str]:
        pairs = (entry.partition("=") for entry in (self.openai_voices or "").split(","))
        return {name.strip().lower(): voice.strip() for name, _, voice in pairs if voice.strip()}

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'kokoro-queue.db').resolve()}"

    @property
    def storage_dir(self) -> Path:
        return self.audio_dir or self.data_dir / "audio"

    @property
    def s3_location(self) -> tuple[str, str] | None:
        """(bucket, key prefix without slashes at its ends) of ``storage_url``; None: local."""
        if not self.storage_url:
            return None
        bucket, _, prefix = self.storage_url.partition("://")[2].partition("/")
        return bucket, prefix.strip("/")

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def in_flight_per_job(self) -> int:
        return self.chunks_in_flight_per_job or 2 * self.worker_concurrency

    @property
    def threads_per_child(self) -> int:
        """ONNX intra-op threads per worker child: the cores shared among the children."""
        if self.onnx_threads:
            return self.onnx_threads
        return max(1, _cores() // self.worker_concurrency)


@lru_cache
def get_settings() -> Settings:
    return Settings()
