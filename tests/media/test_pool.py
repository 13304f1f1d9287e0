"""The media pool: each task in a child held to memory and time, a few at a time, off the
default thread pool; the child's errors come back as themselves."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.media import pool as media_pool
from bot.media.frames import DecodeLimits, FrameError
from bot.media.pool import MIB, MediaFailed, MediaPool, WorkerLimits, for_member
from bot.media.reencode import CannotFit
from bot.simulator.media import write_video

EIGHT_K = DecodeLimits(max_pixels=7680 * 4320)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pool")
    made = {"small": folder / "small.mp4", "8k": folder / "8k.mp4"}
    write_video(made["small"], "320x180", 2.0)
    # Two flat 8K frames: some 100 KiB of file, 50 MB a frame once decoded.
    write_video(made["8k"], "7680x4320", 1.0)
    return made


def for_member_now() -> bool:
    return media_pool._FOR_MEMBER.get()


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_a_still_is_made_in_a_child(clips: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "sheet.webp"
    await MediaPool().still("spritesheet", clips["small"], dest)
    with Image.open(dest) as image:
        assert image.size == (80 * 4, 45 * 3)


async def test_the_childs_refusals_come_back_as_themselves(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    pool = MediaPool()
    with pytest.raises(FrameError, match="7680x4320"):
        await pool.still("thumbnail", clips["8k"], tmp_path / "thumb.webp")
    with pytest.raises(CannotFit, match="7680x4320"):
        await pool.reencode(clips["8k"], tmp_path / "out.mp4", 100_000)
    not_an_image = tmp_path / "thumb.webp"
    not_an_image.write_bytes(b"<html></html>")
    with pytest.raises(FrameError, match="not a readable image"):
        await pool.check_image(not_an_image)


async def test_a_reencode_comes_back_described(clips: dict[str, Path], tmp_path: Path) -> None:
    limit = 200_000
    done = await MediaPool().reencode(clips["small"], tmp_path / "out.mp4", limit)
    assert done.path == tmp_path / "out.mp4"
    assert done.size == done.path.stat().st_size <= limit
    assert (done.width, done.height) == (320, 180)


async def test_a_task_over_its_memory_fails(clips: dict[str, Path], tmp_path: Path) -> None:
    # 8K allowed, but 256 MiB of address space: the decoder's frames cannot be had.
    pool = MediaPool(decode=EIGHT_K, bounds=WorkerLimits(memory_bytes=256 * MIB))
    with pytest.raises(MediaFailed):
        await pool.still("spritesheet", clips["8k"], tmp_path / "sheet.webp")
    # The same task with room to spare: it was the bound that stopped it.
    roomy = MediaPool(decode=EIGHT_K, bounds=WorkerLimits(memory_bytes=2048 * MIB))
    await roomy.still("spritesheet", clips["8k"], tmp_path / "sheet.webp")


async def test_a_task_over_its_time_is_killed(clips: dict[str, Path], tmp_path: Path) -> None:
    spawned: list[asyncio.subprocess.Process] = []
    spawn = asyncio.create_subprocess_exec

    async def recorded(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        process = await spawn(*args, **kwargs)
        spawned.append(process)
        return process

    pool = MediaPool(decode=EIGHT_K, bounds=WorkerLimits(seconds=0.05))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(asyncio, "create_subprocess_exec", recorded)
        with pytest.raises(MediaFailed, match=r"took longer than 0\.05 s and was stopped"):
            await pool.still("spritesheet", clips["8k"], tmp_path / "sheet.webp")
    [process] = spawned
    assert process.returncode is not None  # killed and reaped, not left running


async def test_at_most_workers_children_run_at_once(clips: dict[str, Path], tmp_path: Path) -> None:
    running, most = 0, 0
    spawn = asyncio.create_subprocess_exec

    async def counted(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        nonlocal running, most
        process = await spawn(*args, **kwargs)
        running += 1
        most = max(most, running)
        communicate = process.communicate

        async def done(data: bytes | None = None) -> tuple[bytes, bytes]:
            nonlocal running
            try:
                return await communicate(data)
            finally:
                running -= 1

        process.communicate = done  # type: ignore[method-assign]
        return process

    pool = MediaPool(workers=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(asyncio, "create_subprocess_exec", counted)
        await asyncio.gather(
            *(pool.still("thumbnail", clips["small"], tmp_path / f"{n}.webp") for n in range(5))
        )
    assert most <= 2
    assert names(tmp_path) == [f"{n}.webp" for n in range(5)]


async def test_media_work_does_not_wait_for_the_default_thread_pool(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    release = threading.Event()
    stuck = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    stuck.submit(release.wait)
    asyncio.get_running_loop().set_default_executor(stuck)
    try:
        # Bounded: on a pool that used the default threads this would wait for ever.
        async with asyncio.timeout(60):
            await MediaPool().still("thumbnail", clips["small"], tmp_path / "thumb.webp")
    finally:
        release.set()
    assert (tmp_path / "thumb.webp").exists()


async def test_a_child_is_given_none_of_the_bots_secrets(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    given: list[dict[str, str]] = []
    spawn = asyncio.create_subprocess_exec

    async def recorded(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        given.append(kwargs["env"])
        return await spawn(*args, **kwargs)

    pool = MediaPool()
    monkeypatch.setattr(asyncio, "create_subprocess_exec", recorded)
    await pool.still("thumbnail", clips["small"], tmp_path / "thumb.webp")
    [env] = given
    assert "secret" not in " ".join(env.values())
    assert {"DISCORD_TOKEN", "OPENAI_API_KEY"}.isdisjoint(env)


async def test_members_requests_leave_a_worker_for_everyones_results(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running: list[str] = []
    seen: list[tuple[str, list[str]]] = []  # who started, and who was running then
    spawn = asyncio.create_subprocess_exec

    async def counted(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        who = "member" if for_member_now() else "job"
        seen.append((who, list(running)))
        running.append(who)
        process = await spawn(*args, **kwargs)
        communicate = process.communicate

        async def done(data: bytes | None = None) -> tuple[bytes, bytes]:
            try:
                return await communicate(data)
            finally:
                running.remove(who)

        process.communicate = done  # type: ignore[method-assign]
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", counted)
    pool = MediaPool(workers=2)

    def still(name: str) -> Any:
        return pool.still("thumbnail", clips["small"], tmp_path / f"{name}.webp")

    with for_member():
        # Tasks take the context they are made in: these are a member's.
        members = [asyncio.create_task(still(f"member{n}")) for n in range(3)]
    await asyncio.sleep(0)
    job = asyncio.create_task(still("job"))
    await asyncio.gather(*members, job)

    # Never two of the member's at once, and the job's started beside one of them at once.
    assert all(who != "member" or "member" not in others for who, others in seen)
    assert ("job", ["member"]) in seen


def test_the_child_is_pointed_at_the_folder_holding_this_very_package() -> None:
    # The child runs `python -m bot.media.pool`: its path must hold `bot`, not be `bot` itself.
    assert (Path(media_pool._ROOT) / "bot" / "media" / "pool.py").samefile(media_pool.__file__)
