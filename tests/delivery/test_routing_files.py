"""A result's files come from the provider that made the video; one no longer configured is a
reason on the card, not a download retried for ever."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from bot.delivery.files import ResultFiles, Undeliverable
from bot.media.assets import Assets
from bot.videoapi.client import VideoClient
from bot.videoapi.providers import Providers
from tests.rows import video_row

from .stubs import StubFit

LIMIT = 10 * 1024 * 1024
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)


async def test_routing_a_result_is_downloaded_from_its_own_provider(tmp_path: Path) -> None:
    routers = {name: respx.Router(base_url=f"https://{name}.test/v1") for name in ("a", "b")}
    routers["b"].get("/videos/video_b/content").respond(
        200, content=MP4, headers={"content-type": "video/mp4"}
    )
    providers = Providers(
        {
            name: VideoClient(
                f"https://{name}.test/v1", None, transport=httpx.MockTransport(router.handler)
            )
            for name, router in routers.items()
        }
    )
    files = ResultFiles(Assets(providers, media=None), StubFit(1))  # type: ignore[arg-type]
    try:
        row = video_row(id="video_b", provider="b")
        uploads, _ = await files.for_card(row, tmp_path, LIMIT)
        assert [upload.filename for upload in uploads] == [f"video-{row.key}.mp4"]
        assert routers["a"].calls.call_count == 0

        with pytest.raises(Undeliverable) as caught:
            await files.for_card(video_row(id="video_c", provider="c"), tmp_path, LIMIT)
        assert caught.value.reason == (
            "I can't fetch it: the provider 'c' that made this video is no longer configured."
        )
    finally:
        await providers.aclose()
