"""Re-encode a real-weight MP4 to fit an upload limit: size, resolution, time and peak RSS.

The clip is the simulator's `noisy_assets` one (noise frames and an AAC track, about 30 MiB for
12 s at 1792x1024), made in a child process so that this one holds only the encode; the limit is
Discord's old 10 MiB default. The encode runs in the media pool's child process, as the bot
runs it, while a thread samples the RSS of this process and of its children.

    .venv/bin/python bench/reencode.py [--size 1792x1024] [--seconds 12] [--limit-mib 10]

Stops by itself (every wait is bounded). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's `bot`, not an installed copy
    sys.path.insert(0, str(ROOT))

from bench.rss import PeakRss  # noqa: E402
from bot.media.pool import MediaPool  # noqa: E402

MIB = 1024 * 1024
# The encode takes seconds on two cores; a minute more means something is wrong.
TIMEOUT = 120.0


async def main(size: str, seconds: float, limit: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        source, target = Path(folder) / "source.mp4", Path(folder) / "fitted.mp4"
        started = time.monotonic()
        make = "import sys, pathlib; from bot.simulator.media import write_noisy_video as w; "
        make += "w(pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]))"
        subprocess.run(  # noqa: S603, ASYNC221 - our own interpreter; nothing else runs yet
            [sys.executable, "-c", make, str(source), size, str(seconds)],
            check=True,
            timeout=TIMEOUT,
        )
        generated = time.monotonic() - started
        with PeakRss(children=True) as rss:
            done = await asyncio.wait_for(MediaPool().reencode(source, target, limit), TIMEOUT)
        return {
            "input_mib": round(source.stat().st_size / MIB, 2),
            "input_resolution": size,
            "generate_seconds": round(generated, 2),
            "limit_mib": round(limit / MIB, 2),
            "output_mib": round(done.size / MIB, 2),
            "output_resolution": f"{done.width}x{done.height}",
            "video_kbps": done.video_bitrate // 1000,
            "audio": done.audio,
            "attempts": done.attempts,
            "encode_seconds": round(done.seconds, 2),
            "rss_before_mib": round(rss.baseline / MIB, 1),
            "peak_rss_mib": round(rss.peak / MIB, 1),
            "peak_rss_with_worker_mib": round(rss.peak_with_children / MIB, 1),
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1792x1024")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--limit-mib", type=float, default=10.0)
    args = parser.parse_args()
    result = asyncio.run(main(args.size, args.seconds, int(args.limit_mib * MIB)))
    print(
        f"{result['input_mib']} MiB {result['input_resolution']} -> {result['output_mib']} MiB "
        f"{result['output_resolution']} in {result['encode_seconds']} s; "
        f"peak RSS {result['peak_rss_mib']} MiB (before: {result['rss_before_mib']} MiB), "
        f"with the media worker {result['peak_rss_with_worker_mib']} MiB"
    )
    print(json.dumps(result))
