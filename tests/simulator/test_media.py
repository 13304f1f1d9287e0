"""Downloads: real, openable media of the requested size and duration, only when completed."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
import pytest
from PIL import Image

from bot.simulator.media import BIG_ASSET_BYTES, MediaCache, spritesheet_layout

from .harness import Sim, StartSim

DISCORD_DEFAULT_LIMIT = 10 * 1024 * 1024


def video_facts(data: bytes | Path) -> tuple[int, int, float, int]:
    """Width, height, duration in seconds and decoded frame count, as PyAV reads them."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert container.duration is not None
        return stream.width, stream.height, container.duration / av.time_base, frames


@pytest.mark.parametrize(("size", "seconds"), [("720x1280", "4"), ("1792x1024", "8")])
async def test_video_is_an_mp4_of_the_requested_size_and_length(
    sim: Sim, size: str, seconds: str
) -> None:
    video = await sim.completed(size=size, seconds=seconds)

    response = await sim.client.get(f"videos/{video['id']}/content")

    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    width, height, duration, frames = video_facts(response.content)
    assert f"{width}x{height}" == size
    assert duration == pytest.approx(float(seconds), abs=0.01)
    assert frames > 0


async def test_extension_media_lasts_the_stitched_total(sim: Sim) -> None:
    source = await sim.completed(seconds="4")
    extension = (
        await sim.client.post(
            "videos/extensions",
            json={"video": {"id": source["id"]}, "prompt": "on", "seconds": "8"},
        )
    ).json()
    sim.state.complete(extension["id"])

    response = await sim.client.get(
        f"videos/{extension['id']}/content", params={"variant": "video"}
    )

    assert video_facts(response.content)[2] == pytest.approx(12.0, abs=0.01)


async def test_thumbnail_is_a_webp_of_the_video_size(sim: Sim) -> None:
    video = await sim.completed(size="1280x720")

    response = await sim.client.get(f"videos/{video['id']}/content?variant=thumbnail")

    assert response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as image:
        assert (image.format, image.size) == ("WEBP", (1280, 720))


async def test_spritesheet_is_a_webp_grid_of_frames(sim: Sim) -> None:
    video = await sim.completed(size="720x1280", seconds="12")

    response = await sim.client.get(f"videos/{video['id']}/content?variant=spritesheet")

    assert response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "WEBP"
        assert image.size == spritesheet_layout("720x1280") == (720, 960)
        # Tiles differ: the progress bar moves from frame to frame.
        assert image.getpixel((10, 310)) != image.getpixel((10 + 540, 960 - 10))


async def test_big_assets_exceed_discords_limit_and_still_play(
    start: StartSim, tmp_path: Path
) -> None:
    sim = await start(big_assets=True)
    video = await sim.completed(seconds="4")
    path = tmp_path / "big.mp4"

    async with sim.client.stream("GET", f"videos/{video['id']}/content") as response:
        with path.open("wb") as file:
            async for chunk in response.aiter_bytes():
                file.write(chunk)

    assert path.stat().st_size == BIG_ASSET_BYTES > DISCORD_DEFAULT_LIMIT
    assert int(response.headers["content-length"]) == BIG_ASSET_BYTES
    width, height, duration, _ = video_facts(path)
    assert (width, height) == (720, 1280)
    assert duration == pytest.approx(4.0, abs=0.01)


async def test_unfinished_video_has_no_content(sim: Sim) -> None:
    queued = await sim.create()
    failed = await sim.create()
    sim.state.fail(failed["id"])

    for video_id in (queued["id"], failed["id"]):
        response = await sim.client.get(f"videos/{video_id}/content")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "video_not_completed"
    assert (await sim.client.get("videos/video_missing/content")).status_code == 404


async def test_unknown_variant_is_400(sim: Sim) -> None:
    video = await sim.completed()

    response = await sim.client.get(f"videos/{video['id']}/content?variant=gif")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "variant"


async def test_assets_expire_after_a_day(sim: Sim) -> None:
    video = await sim.completed()

    sim.clock.advance(86_400)
    response = await sim.client.get(f"videos/{video['id']}/content")

    assert response.status_code == 404


async def test_cache_renders_each_asset_once(tmp_path: Path) -> None:
    cache = MediaCache(tmp_path)

    first = await cache.get("video", "720x1280", "4", big=False)
    stamp = first.stat().st_mtime_ns
    again = await cache.get("video", "720x1280", "4", big=False)
    thumbnail = await cache.get("thumbnail", "720x1280", "4", big=True)

    assert again == first
    assert again.stat().st_mtime_ns == stamp
    assert thumbnail != first
    # Nothing else, no half-written leftovers either.
    names = await asyncio.to_thread(lambda: sorted(path.name for path in tmp_path.iterdir()))
    assert names == sorted([first.name, thumbnail.name])


async def test_noisy_assets_weigh_what_real_renders_do(start: StartSim, tmp_path: Path) -> None:
    sim = await start(noisy_assets=True)
    video = await sim.completed(size="720x1280", seconds="4")
    path = tmp_path / "noisy.mp4"

    async with sim.client.stream("GET", f"videos/{video['id']}/content") as response:
        with path.open("wb") as file:
            async for chunk in response.aiter_bytes():
                file.write(chunk)

    # The weight of 30 MiB for 12 s at 1792x1024 (bench/reencode.py makes that one), pro rata.
    expected = 30 * 1024 * 1024 * (720 * 1280 * 4) / (1792 * 1024 * 12)
    assert path.stat().st_size == pytest.approx(expected, rel=0.15)
    width, height, duration, frames = video_facts(path)
    assert (width, height, frames) == (720, 1280, 4 * 24)
    assert duration == pytest.approx(4.0, abs=0.05)
    with av.open(str(path)) as container:
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
