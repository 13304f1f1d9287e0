"""Media are streamed to disk in chunks; a failed download leaves nothing behind.

Downloads are bounded: in bytes (announced or counted), in time from the first request to the
last byte, and in where a redirect may lead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx

from bot.videoapi.client import MIB, VideoClient
from bot.videoapi.errors import (
    APIConnectionError,
    APITimeoutError,
    NotFoundError,
    RedirectRefusedError,
    ResponseTooLargeError,
)

from .conftest import MakeClient
from .helpers import API_KEY, STORAGE_HOST, STORAGE_IP, FakeDNS, error_json, video_json

CHUNKS = [bytes([n]) * 100_000 for n in range(5)]


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


class Body(httpx.AsyncByteStream):
    """A response body sent in chunks, that remembers whether the client released it."""

    def __init__(
        self, chunks: list[bytes], *, then_fail: bool = False, then_hang: bool = False
    ) -> None:
        self.chunks = chunks
        self.then_fail = then_fail
        self.then_hang = then_hang
        self.sent = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.then_fail:
            raise httpx.ReadError("connection reset mid-body")
        if self.then_hang:
            # A server that keeps the connection open and sends nothing more.
            await asyncio.Event().wait()

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
    storage = f"https://{STORAGE_HOST}/bucket/video_1.mp4?sig=abc"
    router.get("/videos/video_1/content").respond(302, headers={"location": storage})
    # Sent to the address that was checked, under the storage's name.
    pinned = f"https://{STORAGE_IP}/bucket/video_1.mp4?sig=abc"
    fetched = router.get(pinned).respond(content=b"mp4", headers={"content-type": "video/mp4"})

    result = await make_client().download("video_1", tmp_path / "v.mp4")

    assert result.size == 3
    request = fetched.calls.last.request
    assert "authorization" not in request.headers
    assert API_KEY not in str(request.headers)
    assert request.headers["host"] == STORAGE_HOST
    assert request.extensions["sni_hostname"] == STORAGE_HOST


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:8080/admin",
        "http://localhost:8080/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/internal.webp",
        "http://[::1]:9000/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1%25eth0]/",
        "http://internal.test/thumb.webp",
        "http://mixed.test/thumb.webp",
        "file:///etc/passwd",
    ],
)
async def test_a_redirect_to_a_private_address_is_refused(
    router: respx.Router, client: VideoClient, dns: FakeDNS, tmp_path: Path, location: str
) -> None:
    dns.names |= {
        "localhost": ["127.0.0.1", "::1"],
        "internal.test": ["192.168.1.10"],
        # One public address does not make the private one safe.
        "mixed.test": [STORAGE_IP, "172.16.0.3"],
    }
    router.get("/videos/video_1/content").respond(302, headers={"location": location})
    inside = router.route(host__regex=r"^(?!videos\.test$)").respond(content=b"secret")

    with pytest.raises(RedirectRefusedError, match=r"private or local|URL"):
        await client.download("video_1", tmp_path / "thumb.webp", variant="thumbnail")

    assert inside.call_count == 0
    assert names(tmp_path) == []


async def test_a_redirect_on_the_configured_host_is_followed_even_on_loopback(
    router: respx.Router, client: VideoClient, dns: FakeDNS, tmp_path: Path
) -> None:
    # The operator's own server (the simulator, a gateway on this machine).
    dns.names["videos.test"] = ["127.0.0.1"]
    router.get("/videos/video_1/content").respond(302, headers={"location": "/v1/files/1.mp4"})
    router.get("/files/1.mp4").respond(content=b"mp4", headers={"content-type": "video/mp4"})

    result = await client.download("video_1", tmp_path / "v.mp4")

    assert result.size == 3
    assert dns.asked == []


async def test_a_host_that_does_not_resolve_is_a_connection_error(
    router: respx.Router, client: VideoClient, tmp_path: Path
) -> None:
    router.get("/videos/video_1/content").respond(
        302, headers={"location": "https://nowhere.test/v.mp4"}
    )

    with pytest.raises(APIConnectionError, match="could not resolve"):
        await client.download("video_1", tmp_path / "v.mp4")


async def test_endless_redirects_end(
    router: respx.Router, client: VideoClient, tmp_path: Path
) -> None:
    loop = router.get("/videos/video_1/content").respond(
        302, headers={"location": "/v1/videos/video_1/content?variant=video"}
    )

    with pytest.raises(RedirectRefusedError, match="more than 5 times"):
        await client.download("video_1", tmp_path / "v.mp4")

    assert loop.call_count == 6


async def test_a_video_announced_over_the_cap_is_not_read(
    router: respx.Router, make_client: MakeClient, tmp_path: Path
) -> None:
    body = Body(CHUNKS)
    headers = {"content-type": "video/mp4", "content-length": "500000"}
    router.get("/videos/video_1/content").respond(headers=headers, stream=body)

    with pytest.raises(ResponseTooLargeError, match=r"the video is 0\.5 MiB") as caught:
        await make_client(download_limit=400_000).download("video_1", tmp_path / "v.mp4")

    assert caught.value.limit == 400_000
    assert body.sent == 0
    assert body.closed
    assert names(tmp_path) == []


async def test_a_video_without_a_length_is_cut_at_the_cap(
    router: respx.Router, make_client: MakeClient, tmp_path: Path
) -> None:
    body = Body([bytes(MIB)] * 5)
    router.get("/videos/video_1/content").respond(stream=body)

    with pytest.raises(ResponseTooLargeError, match="larger than"):
        await make_client(download_limit=5 * MIB // 2).download("video_1", tmp_path / "v.mp4")

    # The third chunk passes the cap; nothing after it is asked for, nothing is left on disk.
    assert body.sent == 3
    assert names(tmp_path) == []


async def test_a_body_that_drips_ends_at_the_deadline(
    router: respx.Router, make_client: MakeClient, tmp_path: Path
) -> None:
    # Each read gets its byte in time, so only a deadline on the whole download ends it.
    body = Body([b"\0"], then_hang=True)
    router.get("/videos/video_1/content").respond(stream=body)
    client = make_client(download_timeout=0.05)

    with pytest.raises(APITimeoutError, match="did not arrive within"):
        await client.download("video_1", tmp_path / "v.mp4")

    assert body.sent == 1
    assert names(tmp_path) == []


async def test_a_status_answer_announced_over_the_cap_is_not_read(
    router: respx.Router, client: VideoClient
) -> None:
    body = Body([b" " * MIB] * 200)
    headers = {"content-type": "application/json", "content-length": str(200 * MIB)}
    router.get("/videos/video_1").respond(headers=headers, stream=body)

    with pytest.raises(ResponseTooLargeError, match=r"200\.0 MiB, more than the 8 MiB"):
        await client.retrieve("video_1")

    assert body.sent == 0


async def test_a_status_answer_without_a_length_stops_at_the_cap(
    router: respx.Router, client: VideoClient
) -> None:
    body = Body([b'{"data": ['] + [b" " * MIB] * 200)
    router.get("/videos").respond(headers={"content-type": "application/json"}, stream=body)

    with pytest.raises(ResponseTooLargeError, match="the answer to /videos"):
        await client.list()

    # The opening and eight MiB pass the 8 MiB cap; the rest is never asked for.
    assert body.sent == 9


async def test_an_answer_under_the_cap_is_read_whole(
    router: respx.Router, client: VideoClient
) -> None:
    # Padding within the cap is read, then parsed as ever.
    text = b" " * (2 * MIB) + httpx.Response(200, json=video_json()).content
    router.get("/videos/video_123").respond(content=text)

    assert (await client.retrieve("video_123")).id == "video_123"
