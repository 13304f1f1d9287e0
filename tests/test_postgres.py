"""The tests' PostgreSQL server starts wherever the checkout lies, as root too."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import asyncpg

from tests.postgres import LIBS, PACKAGE, PostgresServer, running_postgres


async def _answer(server: PostgresServer) -> int:
    connection = await asyncpg.connect(server.url())
    try:
        answer: int = await connection.fetchval("SELECT 1")
        return answer
    finally:
        await connection.close()


def test_the_server_starts_from_a_checkout_no_other_user_may_enter(tmp_path: Path) -> None:
    # A clone in `mktemp -d` or a home folder: mode 700, so as root the server's user (nobody)
    # cannot reach the virtualenv's binaries where they are installed.
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    checkout.chmod(0o700)
    package = checkout / "site-packages" / PACKAGE.name
    shutil.copytree(PACKAGE, package, symlinks=True)
    if (PACKAGE.parent / LIBS).is_dir():
        shutil.copytree(PACKAGE.parent / LIBS, package.parent / LIBS, symlinks=True)

    with running_postgres(package) as server:
        assert asyncio.run(_answer(server)) == 1

    assert os.stat(checkout).st_mode & 0o777 == 0o700
