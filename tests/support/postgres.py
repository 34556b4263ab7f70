"""A PostgreSQL server for the test suite, so its PostgreSQL half never vanishes silently.

    python -m tests.support.postgres COMMAND...

runs COMMAND (``make test``: pytest) with ``KQ_TEST_POSTGRES_URL`` set to a server's URL, and
exits with COMMAND's status. The server is, in this order:

1. ``KQ_TEST_POSTGRES_URL`` when it is already set (used as it is);
2. the local one at 127.0.0.1:5432 (database ``test``, trust auth) when it answers;
3. otherwise a throwaway cluster: Debian's ``postgresql`` package (installed with apt-get when
   missing), ``initdb`` in a temporary directory, trust auth, its own free port on 127.0.0.1
   only (its socket in that directory too), run as the ``postgres`` user when this runs as root
   (PostgreSQL refuses root), stopped and removed when COMMAND ends.

``KQ_TEST_POSTGRES=throwaway`` skips 1 and 2: the throwaway cluster, whatever else answers.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

LOCAL_URL = "postgresql+psycopg://{user}@127.0.0.1:5432/test"
SUPERUSER = "kq_test"
START_TIMEOUT_S = 60
# Throwaway data: durability is not wanted, speed is. A stack is an API, a worker and its
# children, each with a pool: more connections than the default 100 at times
SERVER_OPTIONS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}


def log(message: str) -> None:
    print(f"tests/support/postgres: {message}", file=sys.stderr, flush=True)


def answers(url: str) -> bool:
    """True when ``url`` takes a connection and a query within a few seconds."""
    import psycopg

    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def binaries() -> Path | None:
    """The directory of Debian's newest PostgreSQL server programs, or of those on PATH."""
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if installed:
        return installed[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def install() -> Path:
    """Debian's PostgreSQL package, as the Makefile installs Chromium; its programs' directory."""
    log("no PostgreSQL server programs; installing Debian's postgresql package")
    if os.geteuid() != 0:
        raise SystemExit(
            "tests/support/postgres: PostgreSQL is not installed and this is not root: install "
            "Debian's postgresql package, or set KQ_TEST_POSTGRES_URL to a server of your own"
        )
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
    )
    found = binaries()
    if found is None:
        raise SystemExit("tests/support/postgres: postgresql installed, but no initdb found")
    return found


def server_user() -> str | None:
    """Who runs the server: None for this user, unless this is root (PostgreSQL refuses root):
    then the package's ``postgres`` user, made when it does not exist."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True,
        )
    return "postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayServer:
    """A new cluster in a temporary directory (``initdb``), served on a free port of its own;
    ``stop`` and ``start`` it again at will (its data stays), as an outage would."""

    def __init__(self):
        self.bin_dir = binaries() or install()
        self.user = server_user()
        self.root = Path(tempfile.mkdtemp(prefix="kq-postgres-"))
        self.data = self.root / "data"
        if self.user:
            shutil.chown(self.root, self.user)
        self.port = free_port()
        self.url = f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"
        self.running = False

    def run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, check=True, **kwargs)

    def init(self) -> None:
        self.run(
            "initdb", "--pgdata", str(self.data), "--username", SUPERUSER, "--auth", "trust",
            "--encoding", "UTF8",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> None:
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.root}",
            *(f"-c {name}={value}" for name, value in SERVER_OPTIONS.items()),
        ]
        self.run(
            "pg_ctl", "--pgdata", str(self.data), "--log", str(self.root / "server.log"),
            "--wait", f"--timeout={START_TIMEOUT_S}", "--options", " ".join(options), "start",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as in a restart or a failover."""
        self.run(
            "pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop",
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self.running = False


@contextmanager
def throwaway_server() -> Iterator[ThrowawayServer]:
    """A throwaway cluster, running, for as long as the block runs; removed afterwards."""
    server = ThrowawayServer()
    try:
        server.init()
        server.start()
        if not answers(server.url):
            silent = f"tests/support/postgres: the throwaway cluster is silent: {server.url}"
            raise SystemExit(silent)
        where = f"127.0.0.1:{server.port}, in {server.root}"
        log(f"throwaway PostgreSQL ({server.bin_dir.parent.name}) at {where}")
        yield server
    except subprocess.CalledProcessError:
        with suppress(OSError):
            sys.stderr.write((server.root / "server.log").read_text())
        raise
    finally:
        if server.running:
            server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        log("throwaway PostgreSQL stopped and removed")


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """A new cluster in a temporary directory for as long as the block runs; its URL."""
    with throwaway_server() as server:
        yield server.url


@contextmanager
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server for the tests (see the module's docstring)."""
    forced = os.environ.get("KQ_TEST_POSTGRES", "").lower() == "throwaway"
    given = os.environ.get("KQ_TEST_POSTGRES_URL")
    if given and not forced:
        yield given
        return
    local = LOCAL_URL.format(user=pwd.getpwuid(os.geteuid()).pw_name)  # as `id -un`
    if not forced and answers(local):
        log(f"the local PostgreSQL: {local}")
        yield local
        return
    with throwaway_cluster() as url:
        yield url


def main(command: list[str]) -> int:
    if not command:
        raise SystemExit(__doc__)
    with postgres_url() as url:
        child = subprocess.Popen(command, env=os.environ | {"KQ_TEST_POSTGRES_URL": url})
        try:
            return child.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached the command too: let it finish its own cleanup first
            return child.wait()


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new empty database of its own on the server, named ``prefix_<random>``, dropped
    (connections and all) afterwards; yields its URL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
