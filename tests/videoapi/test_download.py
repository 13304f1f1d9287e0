"""Media are streamed to disk in chunks; a failed download leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import APIConnectionError, NotFoundError

from .conftest import MakeClient
from .helpers import API_KEY, error_json

CHUNKS = [bytes([n]) * 100_000 for n in range(5)]


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


class Body(httpx.AsyncByteStream):
    """A response body sent in chunks, that remembers whether the client released it."""

    def __init__(self, chunks: list[bytes], *, then_fail: bool = False) -> None:
        self.chunks = chunks
        self.then_fail = then_fail
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then_fail:
            raise httpx.ReadError("connection reset mid-body")

    async def aclose(self) -> None:
        self.closed = True


async def test_download_writes_the_bytes(
    router: respx.Router, client: VideoClient, tmp_path: Path
) -> None:
    route = router.get("/videos/video_1/content").mock(
        return_value=httpx.Response(200, headers={"content-type": "video/mp4"}, stream=Body(CHUNKS))
    )
    dest = tmp_path / "video_1.mp4"

    result = await client.download("video_1", dest)

    assert dest.read_bytes() == b"".join(CHUNKS)
    assert (result.path, result.content_type, result.size) == (dest, "video/mp4", 500_000)
    assert dict(route.calls.last.request.url.params) == {"variant": "video"}
    assert names(tmp_path) == ["video_1.mp4"]


async def test_download_of_a_variant(
    router: respx.Router, client: VideoClient, tmp_path: Path
) -> None:
    route = router.get("/videos/video_1/content", params={"variant": "thumbnail"}).respond(
        content=b"RIFF....WEBP", headers={"content-type": "image/webp"}
    )

    result = await client.download("video_1", tmp_path / "thumb.webp", variant="thumbnail")

    assert route.call_count == 1
    assert (result.content_type, result.size) == ("image/webp", 12)


async def test_a_broken_download_leaves_no_file(
    router: respx.Router, client: VideoClient, tmp_path: Path
) -> None:
    router.get("/videos/video_1/content").mock(
        return_value=httpx.Response(200, stream=Body(CHUNKS, then_fail=True))
    )
    dest = tmp_path / "video_1.mp4"
    dest.write_bytes(b"the previous copy")

    with pytest.raises(APIConnectionError, match="ReadError"):
        await client.download("video_1", dest)

    assert names(tmp_path) == ["video_1.mp4"]
    assert dest.read_bytes() == b"the previous copy"


async def test_a_refused_download_creates_nothing(
    router: respx.Router, client: VideoClient, tmp_path: Path
) -> None:
    router.get("/videos/video_1/content").respond(404, json=error_json("no such video"))

    with pytest.raises(NotFoundError):
        await client.download("video_1", tmp_path / "video_1.mp4")

    assert names(tmp_path) == []


async def test_stream_exposes_type_length_and_bytes(
    router: respx.Router, client: VideoClient
) -> None:
    stream = Body(CHUNKS)
    headers = {"content-type": "video/mp4", "content-length": "500000"}
    router.get("/videos/video_1/content").respond(headers=headers, stream=stream)

    async with client.stream("video_1") as content:
        assert (content.content_type, content.content_length) == ("video/mp4", 500_000)
        received = [chunk async for chunk in content.aiter_bytes()]

    assert b"".join(received) == b"".join(CHUNKS)
    assert len(received) > 1
    assert stream.closed


async def test_stream_is_released_when_left_early(
    router: respx.Router, client: VideoClient
) -> None:
    stream = Body(CHUNKS)
    router.get("/videos/video_1/content").respond(stream=stream)

    async def give_up_after_one_chunk() -> None:
        async with client.stream("video_1") as content:
            async for _ in content.aiter_bytes():
                raise RuntimeError("caller gave up")

    with pytest.raises(RuntimeError, match="caller gave up"):
        await give_up_after_one_chunk()

    assert stream.closed


async def test_stream_without_a_length(router: respx.Router, client: VideoClient) -> None:
    router.get("/videos/video_1/content").mock(
        return_value=httpx.Response(200, stream=Body(CHUNKS))
    )

    async with client.stream("video_1", variant="spritesheet") as content:
        assert content.content_length is None


async def test_media_behind_a_redirect_is_fetched_without_the_key(
    router: respx.Router, make_client: MakeClient, tmp_path: Path
) -> None:
    storage = "https://storage.test/bucket/video_1.mp4?sig=abc"
    router.get("/videos/video_1/content").respond(302, headers={"location": storage})
    fetched = router.get(storage).respond(content=b"mp4", headers={"content-type": "video/mp4"})

    result = await make_client().download("video_1", tmp_path / "v.mp4")

    assert result.size == 3
    assert "authorization" not in fetched.calls.last.request.headers
    assert API_KEY not in str(fetched.calls.last.request.headers)
