"""The official OpenAI SDK drives every operation against the simulator and parses each answer."""

from __future__ import annotations

import io
from pathlib import Path

import openai
import pytest
from PIL import Image

from bot.simulator.media import write_video

from .harness import StartSim

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_sdk_round_trip(start: StartSim, tmp_path: Path) -> None:
    sim = await start(api_key="sk-sim")
    client = openai.AsyncOpenAI(base_url=sim.base_url, api_key="sk-sim", max_retries=0)
    clip_path = tmp_path / "clip.mp4"
    write_video(clip_path, "720x1280", 4)
    clip = ("clip.mp4", clip_path.read_bytes(), "video/mp4")

    async with client:
        video = await client.videos.create(prompt="a cat", size="1280x720", seconds="8")
        sim.clock.advance(10)
        done = await client.videos.retrieve(video.id)
        remix = await client.videos.remix(video.id, prompt="a dog")
        edit = await client.videos.edit(prompt="blue", video=clip)
        extension = await client.videos.extend(prompt="on", seconds="8", video=clip)
        page = await client.videos.list(limit=10, order="asc")
        content = await client.videos.download_content(video.id, variant="thumbnail")
        character = await client.videos.create_character(name="Bob", video=clip)
        fetched = await client.videos.get_character(str(character.id))
        deleted = await client.videos.delete(video.id)
        with pytest.raises(openai.NotFoundError):
            await client.videos.retrieve(video.id)

    assert (done.status, done.progress, done.size) == ("completed", 100, "1280x720")
    assert remix.remixed_from_video_id == video.id
    assert (edit.seconds, extension.seconds) == ("4", "12")
    # The three made in the same second are listed by id, after the older one.
    made_together = sorted([remix.id, edit.id, extension.id])
    assert [entry.id for entry in page.data] == [video.id, *made_together]
    with Image.open(io.BytesIO(await content.aread())) as thumbnail:
        assert thumbnail.size == (1280, 720)
    assert fetched.name == "Bob"
    assert deleted.deleted


async def test_sdk_sees_the_wrong_key(start: StartSim) -> None:
    sim = await start(api_key="sk-sim")
    client = openai.AsyncOpenAI(base_url=sim.base_url, api_key="sk-other", max_retries=0)

    async with client:
        with pytest.raises(openai.AuthenticationError):
            await client.videos.list()
