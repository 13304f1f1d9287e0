"""Benchmark: a thumbnail and a spritesheet of an 8K provider MP4: time and peak memory.

    .venv/bin/python bench/decode8k.py [--size 7680x4320] [--seconds 4] [--old-commit 2e11412]

The MP4 is the simulator's drawing at 8K (flat frames, 2 a second: about 1.5 MiB for 4 s, 50 MB
a frame once decoded), made in a child process. Each measurement runs in a fresh child of its
own, so no peak hides another:

- before: `bot/media/frames.py` as it was at `--old-commit` (read with `git show`), run in the bot's
  own process as the bot ran it (in a worker thread): every frame decoded and kept at full size;
- after: the media pool as the bot runs it, with its default limits (8K is refused from the
  stream's metadata, before any frame is decoded);
- after, 8K allowed: the same pool with the pixel limit raised to 8K, to show what decoding it
  frame by frame, scaled as decoded, costs.

Printed for each: the outcome, the time, the bot process's peak RSS over its RSS before the work,
and the peak RSS of the media pool's child process (none for before). Every wait is bounded. The
LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
TIMEOUT = 300.0
TASKS = ("thumbnail", "spritesheet")
WAYS = ("before", "after", "after-8k-allowed")


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _old_frames(old: Path) -> Any:
    spec = importlib.util.spec_from_file_location("old_frames", old)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def measure(way: str, task: str, video: Path, old: Path) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from bot.media.frames import DecodeLimits, FrameError
    from bot.media.pool import MediaFailed, MediaPool

    dest = video.with_name(f"{way}-{task}.webp")
    old_frames = _old_frames(old) if way == "before" else None
    pool = (
        MediaPool(decode=DecodeLimits(max_pixels=7680 * 4320))
        if way.endswith("allowed")
        else MediaPool()
    )
    if old_frames is not None:
        import av  # noqa: F401 - loaded before the baseline, as in a bot that made a still before

    before = _rss()
    started = time.monotonic()
    try:
        async with asyncio.timeout(TIMEOUT):
            if old_frames is not None:
                maker = getattr(old_frames, f"write_{task}")
                await asyncio.to_thread(maker, video, dest)
            else:
                await pool.still(task, video, dest)  # type: ignore[arg-type]
        outcome = "made"
    except (FrameError, MediaFailed) as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    seconds = time.monotonic() - started
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {
        "way": way,
        "task": task,
        "outcome": outcome,
        "seconds": round(seconds, 2),
        "bot_rss_before_mib": round(before / MIB, 1),
        "bot_rss_growth_mib": round(max(0, own_peak - before) / MIB, 1),
        "worker_peak_rss_mib": round(child_peak / MIB, 1) if old_frames is None else None,
    }


def child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, *args], capture_output=True, text=True, timeout=TIMEOUT * 2
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"args": args, "error": done.stderr.strip()[-400:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="7680x4320")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--old-commit", default="2e11412")
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        way, task, video, old = args.measure
        print(json.dumps(asyncio.run(measure(way, task, Path(video), Path(old)))))
        return 0
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        video, old = Path(folder) / "8k.mp4", Path(folder) / "old_frames.py"
        make = "import sys, pathlib; from bot.simulator.media import write_video as w; "
        make += "w(pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]))"
        subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", make, str(video), args.size, str(args.seconds)],
            check=True,
            timeout=TIMEOUT,
            cwd=ROOT,
        )
        shown = subprocess.run(  # noqa: S603 - git, on this checkout
            ["git", "show", f"{args.old_commit}:bot/media/frames.py"],  # noqa: S607
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        ways = WAYS if shown.returncode == 0 else WAYS[1:]
        old.write_text(shown.stdout, encoding="utf-8")
        print(f"{args.size} MP4, {args.seconds:g} s: {video.stat().st_size / MIB:.2f} MiB")
        if shown.returncode != 0:
            print(f"no code before: git show {args.old_commit} failed")
        for way in ways:
            for task in TASKS:
                result = child(["--measure", way, task, str(video), str(old)])
                results.append(result)
                print(
                    f"{way:17} {task:11} {result.get('seconds')} s, bot +"
                    f"{result.get('bot_rss_growth_mib')} MiB, worker "
                    f"{result.get('worker_peak_rss_mib')} MiB: {result.get('outcome', result)}"
                )
        summary = {"size": args.size, "mp4_mib": round(video.stat().st_size / MIB, 2)}
    print(json.dumps(summary | {"results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
