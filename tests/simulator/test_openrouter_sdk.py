"""OpenRouter's official SDK (`openrouter`, the version in requirements/dev.txt) drives the
simulator's openrouter dialect: every answer is parsed by code we did not write."""

from __future__ import annotations

import base64

import pytest
from openrouter import OpenRouter, errors
from openrouter.utils import BackoffStrategy, RetryConfig

from bot.simulator.openrouter import CATALOGUE

from .openrouter import KEY, OpenRouterSim, StartOpenRouter

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
# The SDK retries 5xx answers for up to an hour by default; a test wants the first answer.
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), retry_connection_errors=False)


def sdk(orsim: OpenRouterSim, key: str = KEY) -> OpenRouter:
    return OpenRouter(api_key=key, server_url=orsim.base_url, retry_config=NO_RETRIES)


async def test_openrouter_sdk_round_trip(orsim: OpenRouterSim) -> None:
    async with sdk(orsim) as client:
        videos = client.video_generation
        models = await videos.list_videos_models_async()
        assert [model.id for model in models.data] == [model.id for model in CATALOGUE]
        assert models.data[0].supported_durations == [4, 6, 8]

        made = await videos.generate_async(
            model="google/veo-3.1-fast",
            prompt="a fox in the snow",
            duration=6,
            resolution="720p",
            aspect_ratio="16:9",
            frame_images=[
                {"type": "image_url", "image_url": {"url": PNG}, "frame_type": "first_frame"}
            ],
        )
        assert made.status == "pending"
        assert made.polling_url == f"/api/v1/videos/{made.id}"

        orsim.clock.advance(5)
        running = await videos.get_generation_async(job_id=made.id)
        assert running.status == "in_progress"
        assert running.usage is None

        orsim.clock.advance(5)
        done = await videos.get_generation_async(job_id=made.id)
        assert done.status == "completed"
        assert done.usage is not None
        assert done.usage.cost == pytest.approx(0.6)
        assert done.unsigned_urls == [f"{orsim.base_url}/videos/{made.id}/content?index=0"]

        content = await videos.get_video_content_async(job_id=made.id, index=0)
        data = await content.aread()
        assert data[4:8] == b"ftyp"

        extended = await videos.generate_async(
            model="google/veo-3.1-fast", prompt="and then it jumps", previous_job_id=made.id
        )
        assert extended.status == "pending"


async def test_openrouter_sdk_reads_each_error(start_openrouter: StartOpenRouter) -> None:
    orsim = await start_openrouter(openrouter_credits=0.5)
    async with sdk(orsim) as client:
        videos = client.video_generation
        with pytest.raises(errors.BadRequestResponseError) as bad:
            await videos.generate_async(model="google/veo-3.1-fast", prompt="x", duration=7)
        assert "supported: 4, 6, 8" in bad.value.data.error.message
        with pytest.raises(errors.PaymentRequiredResponseError):
            await videos.generate_async(model="google/veo-3.1-fast", prompt="x", duration=8)
        with pytest.raises(errors.NotFoundResponseError):
            await videos.get_generation_async(job_id="job-unknown")
    async with sdk(orsim, key="sk-wrong") as client:
        with pytest.raises(errors.UnauthorizedResponseError):
            await client.video_generation.get_generation_async(job_id="job-unknown")


@pytest.mark.parametrize(("end", "status"), [("cancel", "cancelled"), ("expire", "expired")])
async def test_openrouter_sdk_reads_cancelled_and_expired(
    orsim: OpenRouterSim, end: str, status: str
) -> None:
    async with sdk(orsim) as client:
        made = await client.video_generation.generate_async(
            model="alibaba/wan-2.6", prompt="rain", size="720x1280"
        )
        getattr(orsim.handlers, end)(made.id)
        ended = await client.video_generation.get_generation_async(job_id=made.id)
    assert ended.status == status
    assert ended.error
