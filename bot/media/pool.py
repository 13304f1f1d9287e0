"""Media work (PyAV decodes and encodes, Pillow checks) in child processes with hard bounds.

Why processes, not a thread pool with a timeout: a thread can be neither stopped nor held to a
memory budget, so a file that decodes for ever or into gigabytes (an 8K stream, a bomb) would keep
its thread and its memory long after the caller gave up. Each task here runs in a fresh child
that caps its own address space and CPU time before it opens the file, and is killed when its
wall-clock time runs out; the bot's process never holds a decoded frame. A semaphore bounds how
many children run at once, apart from asyncio's default thread pool, so media work queues only
behind other media work and never behind (or in front of) downloads. Starting Python and PyAV
costs about 0.1 s a task, small next to any decode.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import os
import resource
import signal
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from bot.media.frames import (
    DEFAULT_LIMITS,
    DecodeLimits,
    FrameError,
    check_image,
    write_spritesheet,
    write_thumbnail,
)
from bot.media.reencode import CannotFit, Reencoded, reencode

MIB: Final = 1024 * 1024
# The folder holding the `bot` package: the child imports this very code, not an installed copy.
_ROOT: Final = str(Path(__file__).resolve().parents[2])
# glibc reserves 64 MiB of address space per thread arena; two keep the cap about real use.
_CHILD_ENV: Final = {"MALLOC_ARENA_MAX": "2"}
# All a child is given of the bot's environment: never its tokens and keys, since the child
# reads hostile files.
_PASSED_ENV: Final = ("PATH", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH", "PYTHONPATH")
# Errors a child reports by name, raised again as themselves in the bot.
_ERRORS: Final[dict[str, type[Exception]]] = {"FrameError": FrameError, "CannotFit": CannotFit}

Still = Literal["thumbnail", "spritesheet"]

# Set while a member's own request (a button, /videos download) is served: such work may hold
# all workers but one, so the results of everyone's jobs always find one free.
_FOR_MEMBER: ContextVar[bool] = ContextVar("videobot_media_for_member", default=False)


@contextlib.contextmanager
def for_member() -> Iterator[None]:
    """Media work started inside this block is a member's request, not a job's result."""
    token = _FOR_MEMBER.set(True)
    try:
        yield
    finally:
        _FOR_MEMBER.reset(token)


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """What one task may take: address space (decoder, encoder and Python) and wall time."""

    memory_bytes: int = 1024 * MIB
    seconds: float = 300.0


DEFAULT_BOUNDS: Final = WorkerLimits()


class MediaFailed(Exception):
    """A task ran out of time or memory, or its process died: the file cannot be worked here."""


class MediaPool:
    """At most `workers` media tasks at a time, each in its own bounded child process; members'
    requests (`for_member`) at most `workers - 1` of them (at least one)."""

    def __init__(
        self,
        workers: int = 2,
        decode: DecodeLimits = DEFAULT_LIMITS,
        bounds: WorkerLimits = DEFAULT_BOUNDS,
    ) -> None:
        self.decode = decode
        self.bounds = bounds
        self._slots = asyncio.Semaphore(workers)
        self._member_slots = asyncio.Semaphore(max(1, workers - 1))
        passed = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
        path = os.pathsep.join(filter(None, [_ROOT, passed.get("PYTHONPATH")]))
        self._env = passed | _CHILD_ENV | {"PYTHONPATH": path}

    async def still(self, variant: Still, video: Path, dest: Path) -> None:
        """A thumbnail or spritesheet of `video` at `dest`; FrameError or MediaFailed if not."""
        await self._run(variant, str(video), str(dest))

    async def check_image(self, path: Path) -> None:
        """FrameError (or MediaFailed) unless `path` is a still Discord shows, within limits."""
        await self._run("check-image", str(path))

    async def reencode(self, source: Path, target: Path, limit: int) -> Reencoded:
        """`source` re-encoded under `limit` bytes at `target`; CannotFit or MediaFailed if not."""
        done = await self._run("reencode", str(source), str(target), limit)
        return Reencoded(**(done | {"path": Path(done["path"])}))

    async def _run(self, task: str, *args: str | int) -> Any:
        request = {
            "task": task,
            "args": args,
            "decode": dataclasses.asdict(self.decode),
            "memory": self.bounds.memory_bytes,
            # Two decoder or encoder threads may burn CPU twice as fast as the clock runs.
            "cpu": math.ceil(self.bounds.seconds * 2),
        }
        async with contextlib.AsyncExitStack() as held:
            if _FOR_MEMBER.get():
                await held.enter_async_context(self._member_slots)
            await held.enter_async_context(self._slots)
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.media.pool",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                # FFmpeg's warnings about a hostile file could be endless; errors come as JSON.
                stderr=asyncio.subprocess.DEVNULL,
                env=self._env,
            )
            try:
                async with asyncio.timeout(self.bounds.seconds):
                    out, _ = await process.communicate(json.dumps(request).encode())
            except TimeoutError:
                raise MediaFailed(
                    f"{task} took longer than {self.bounds.seconds:g} s and was stopped"
                ) from None
            finally:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
        return self._answer(task, process.returncode, out)

    def _answer(self, task: str, code: int | None, out: bytes) -> Any:
        try:
            answer = json.loads(out)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and "ok" in answer:
            return answer["ok"]
        if isinstance(answer, dict) and answer.get("error") in _ERRORS:
            raise _ERRORS[answer["error"]](answer.get("message", ""))
        if isinstance(answer, dict) and answer.get("error") == "MemoryError":
            raise MediaFailed(f"{task} needed more than {self.bounds.memory_bytes // MIB} MiB")
        if isinstance(answer, dict):
            raise MediaFailed(f"{task} failed: {answer.get('message', '')}")
        if code is not None and code < 0:
            raise MediaFailed(f"{task} was stopped by {signal.Signals(-code).name}")
        raise MediaFailed(f"{task} ended with exit code {code} and no answer")


def _work(request: dict[str, Any]) -> object:
    limits = DecodeLimits(**request["decode"])
    task, args = request["task"], request["args"]
    if task in ("thumbnail", "spritesheet"):
        maker = write_thumbnail if task == "thumbnail" else write_spritesheet
        maker(Path(args[0]), Path(args[1]), limits)
        return None
    if task == "check-image":
        check_image(Path(args[0]), limits)
        return None
    if task == "reencode":
        done = reencode(Path(args[0]), Path(args[1]), int(args[2]), limits)
        return dataclasses.asdict(done) | {"path": str(done.path)}
    raise ValueError(f"no media task {task!r}")


def main() -> None:
    """The child: caps itself, does one task read from stdin, answers in JSON on stdout."""
    request = json.loads(sys.stdin.buffer.read())
    memory, cpu = int(request["memory"]), int(request["cpu"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    answer: dict[str, object]
    try:
        answer = {"ok": _work(request)}
    except MemoryError:
        answer = {"error": "MemoryError"}
    except (FrameError, CannotFit) as exc:
        answer = {"error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:
        # FFmpeg reports an allocation it was refused as an error of its own, ENOMEM.
        kind = "MemoryError" if "Cannot allocate memory" in str(exc) else "failed"
        answer = {"error": kind, "message": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
