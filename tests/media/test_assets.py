"""A finished video's files: the provider's own, or made from its MP4 when it won't serve them."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx
from PIL import Image

from bot.media.assets import Assets, file_name, is_video
from bot.media.frames import DecodeLimits, FrameError
from bot.media.pool import MediaPool
from bot.simulator.media import write_video
from bot.videoapi.client import DownloadResult, VideoClient
from bot.videoapi.errors import InternalServerError, NotFoundError, RateLimitError
from bot.videoapi.models import ContentVariant, Operation

BASE_URL = "https://videos.test/v1"
WIDTH, HEIGHT = 320, 180
NOT_FOUND = {"error": {"message": "Video not found", "type": "invalid_request_error"}}


@pytest.fixture(scope="module")
def mp4_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("assets") / "clip.mp4"
    write_video(path, f"{WIDTH}x{HEIGHT}", 2.0)
    return path.read_bytes()


@pytest.fixture
def webp_bytes() -> bytes:
    """A provider's own thumbnail: not what the MP4 would give (a different size)."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 10, 10)).save(buffer, format="WEBP")
    return buffer.getvalue()


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


@pytest.fixture
async def api(router: respx.Router) -> AsyncIterator[VideoClient]:
    async with VideoClient(
        BASE_URL, None, max_retries=0, transport=httpx.MockTransport(router.handler)
    ) as client:
        yield client


def content(router: respx.Router, video_id: str, variant: ContentVariant) -> respx.Route:
    return router.get(f"/videos/{video_id}/content", params={"variant": variant})


def mp4_answer(data: bytes, content_type: str = "video/mp4") -> httpx.Response:
    return httpx.Response(200, content=data, headers={"content-type": content_type})


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def webp_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "WEBP"
        return image.size


# file_name and is_video.


@pytest.mark.parametrize(
    ("variant", "name"),
    [
        ("video", "video-12.mp4"),
        ("thumbnail", "video-12-thumbnail.webp"),
        ("spritesheet", "video-12-spritesheet.webp"),
    ],
)
def test_file_names_are_the_bots_own(variant: ContentVariant, name: str) -> None:
    assert file_name(12, variant) == name


@pytest.mark.parametrize(
    ("content_type", "head", "video"),
    [
        pytest.param("video/mp4", b"RIFF....WEBP", True, id="video-type-wins-over-bytes"),
        pytest.param("Video/MP4; codecs=avc1", b"", True, id="video-type-with-parameters"),
        pytest.param("image/webp", b"\x00\x00\x00\x18ftypmp42", False, id="image-type-wins"),
        pytest.param("application/octet-stream", b"\x00\x00\x00\x18ftypmp42", True, id="mp4"),
        pytest.param(None, b"\x00\x00\x00\x18ftypisom", True, id="mp4-no-type"),
        pytest.param(None, b"\x1a\x45\xdf\xa3\x01\x00\x00\x00", True, id="webm"),
        pytest.param("application/octet-stream", b"RIFF\x10\x00\x00\x00WEBP", False, id="webp"),
        pytest.param(None, b"", False, id="empty"),
    ],
)
def test_is_video_by_type_or_by_bytes(
    tmp_path: Path, content_type: str | None, head: bytes, video: bool
) -> None:
    path = tmp_path / "download"
    path.write_bytes(head + bytes(16))
    assert is_video(DownloadResult(path, content_type, path.stat().st_size)) is video


# Assets.fetch.


async def test_the_video_is_downloaded_as_is(
    router: respx.Router, api: VideoClient, tmp_path: Path, mp4_bytes: bytes
) -> None:
    route = content(router, "video_1", "video").mock(return_value=mp4_answer(mp4_bytes))
    dest = tmp_path / "video-1.mp4"

    assert await Assets(api, MediaPool()).fetch("video_1", "video", dest) == dest

    assert dest.read_bytes() == mp4_bytes
    assert route.call_count == 1


async def test_a_real_thumbnail_is_used_as_is(
    router: respx.Router, api: VideoClient, tmp_path: Path, webp_bytes: bytes
) -> None:
    thumb = content(router, "video_1", "thumbnail").respond(
        content=webp_bytes, headers={"content-type": "image/webp"}
    )
    video = content(router, "video_1", "video")
    dest = tmp_path / "video-1-thumbnail.webp"

    assert await Assets(api, MediaPool()).fetch("video_1", "thumbnail", dest) == dest

    assert dest.read_bytes() == webp_bytes
    assert (thumb.call_count, video.call_count) == (1, 0)


@pytest.mark.parametrize("content_type", ["video/mp4", "application/octet-stream"])
async def test_a_thumbnail_answered_with_the_mp4_is_made_from_it_and_not_asked_again(
    router: respx.Router, api: VideoClient, tmp_path: Path, mp4_bytes: bytes, content_type: str
) -> None:
    for video_id in ("video_1", "video_2"):
        # This server ignores `variant`: every answer is the MP4.
        router.get(f"/videos/{video_id}/content").mock(
            return_value=mp4_answer(mp4_bytes, content_type)
        )
    assets = Assets(api, MediaPool())
    first = tmp_path / "video-1-thumbnail.webp"

    await assets.fetch("video_1", "thumbnail", first)

    assert webp_size(first) == (WIDTH, HEIGHT)
    [call] = router.calls
    assert call.request.url.params["variant"] == "thumbnail"

    second = tmp_path / "video-2-thumbnail.webp"
    await assets.fetch("video_2", "thumbnail", second)

    assert webp_size(second) == (WIDTH, HEIGHT)
    # One more request only, for the other video's MP4: the variant is no longer asked.
    assert len(router.calls) == 2
    last = router.calls.last.request.url
    assert (last.path, last.params["variant"]) == ("/v1/videos/video_2/content", "video")


async def test_a_spritesheet_answered_with_the_mp4_is_made_from_it(
    router: respx.Router, api: VideoClient, tmp_path: Path, mp4_bytes: bytes
) -> None:
    route = router.get("/videos/video_1/content").mock(return_value=mp4_answer(mp4_bytes))
    dest = tmp_path / "video-1-spritesheet.webp"

    await Assets(api, MediaPool()).fetch("video_1", "spritesheet", dest)

    assert webp_size(dest) == ((WIDTH // 4) * 4, (HEIGHT // 4) * 3)
    assert route.call_count == 1


async def test_what_is_made_here_is_remembered_per_variant(
    router: respx.Router, api: VideoClient, tmp_path: Path, mp4_bytes: bytes, webp_bytes: bytes
) -> None:
    # Thumbnails come back as the MP4, but spritesheets are real: each is judged on its own.
    content(router, "video_1", "thumbnail").mock(return_value=mp4_answer(mp4_bytes))
    sprites = content(router, "video_1", "spritesheet").respond(
        content=webp_bytes, headers={"content-type": "image/webp"}
    )
    assets = Assets(api, MediaPool())

    await assets.fetch("video_1", "thumbnail", tmp_path / "thumb.webp")
    await assets.fetch("video_1", "spritesheet", tmp_path / "sheet.webp")

    assert sprites.call_count == 1
    assert (tmp_path / "sheet.webp").read_bytes() == webp_bytes


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(httpx.Response(404, text="Not Found"), id="404-plain-text"),
        pytest.param(httpx.Response(404, json=NOT_FOUND), id="404-error-object"),
        pytest.param(
            httpx.Response(400, json={"detail": "variant must be video"}), id="400-fastapi"
        ),
        pytest.param(httpx.Response(422, json={"detail": []}), id="422"),
    ],
)
async def test_a_refused_variant_is_made_from_the_mp4(
    router: respx.Router,
    api: VideoClient,
    tmp_path: Path,
    mp4_bytes: bytes,
    refusal: httpx.Response,
) -> None:
    thumb = content(router, "video_1", "thumbnail").mock(return_value=refusal)
    video = content(router, "video_1", "video").mock(return_value=mp4_answer(mp4_bytes))
    dest = tmp_path / "video-1-thumbnail.webp"

    assert await Assets(api, MediaPool()).fetch("video_1", "thumbnail", dest) == dest

    assert webp_size(dest) == (WIDTH, HEIGHT)
    assert (thumb.call_count, video.call_count) == (1, 1)
    # A missing variant says nothing about the route: the MP4 came from it.
    assert api.supports(Operation.DOWNLOAD) is True


async def test_a_video_already_downloaded_is_the_source_without_any_request(
    router: respx.Router, api: VideoClient, tmp_path: Path, mp4_bytes: bytes
) -> None:
    anything = router.route()
    source = tmp_path / "video-1.mp4"
    source.write_bytes(mp4_bytes)
    dest = tmp_path / "video-1-thumbnail.webp"

    await Assets(api, MediaPool()).fetch("video_1", "thumbnail", dest, source=source)

    assert webp_size(dest) == (WIDTH, HEIGHT)
    assert anything.call_count == 0


async def test_a_video_the_provider_no_longer_has_is_not_found(
    router: respx.Router, api: VideoClient, tmp_path: Path
) -> None:
    content(router, "video_1", "thumbnail").respond(404, json=NOT_FOUND)
    video = content(router, "video_1", "video").respond(404, json=NOT_FOUND)

    with pytest.raises(NotFoundError):
        await Assets(api, MediaPool()).fetch("video_1", "thumbnail", tmp_path / "thumb.webp")
    with pytest.raises(NotFoundError):
        await Assets(api, MediaPool()).fetch("video_1", "video", tmp_path / "video.mp4")

    assert video.call_count == 2
    assert names(tmp_path) == []


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(httpx.Response(500, text="boom"), InternalServerError, id="500"),
        pytest.param(httpx.Response(503, json=NOT_FOUND), InternalServerError, id="503"),
        pytest.param(
            httpx.Response(429, json={"error": {"message": "slow down"}}), RateLimitError, id="429"
        ),
    ],
)
async def test_provider_trouble_on_the_variant_propagates(
    router: respx.Router,
    api: VideoClient,
    tmp_path: Path,
    answer: httpx.Response,
    error: type[Exception],
) -> None:
    content(router, "video_1", "thumbnail").mock(return_value=answer)
    video = content(router, "video_1", "video")

    with pytest.raises(error):
        await Assets(api, MediaPool()).fetch("video_1", "thumbnail", tmp_path / "thumb.webp")

    assert video.call_count == 0


# What the provider sends is checked before it is posted.


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"<html>Internal Server Error</html>", "image/webp", id="html-called-webp"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(8), "image/webp", id="truncated-webp"),
        pytest.param(b"BM" + bytes(64), "image/bmp", id="a-format-discord-wont-show"),
    ],
)
async def test_a_provider_still_that_is_not_an_image_is_made_from_the_mp4(
    router: respx.Router,
    api: VideoClient,
    tmp_path: Path,
    mp4_bytes: bytes,
    body: bytes,
    content_type: str,
) -> None:
    content(router, "video_1", "thumbnail").respond(
        content=body, headers={"content-type": content_type}
    )
    video = content(router, "video_1", "video").mock(return_value=mp4_answer(mp4_bytes))
    dest = tmp_path / "video-1-thumbnail.webp"

    assert await Assets(api, MediaPool()).fetch("video_1", "thumbnail", dest) == dest

    assert webp_size(dest) == (WIDTH, HEIGHT)
    assert video.call_count == 1


async def test_a_provider_still_over_the_pixel_limit_is_made_from_the_mp4(
    router: respx.Router, api: VideoClient, tmp_path: Path, mp4_bytes: bytes, webp_bytes: bytes
) -> None:
    # The provider's 64x36 still is over this pool's limit; the 320x180 MP4 is not.
    content(router, "video_1", "thumbnail").respond(
        content=webp_bytes, headers={"content-type": "image/webp"}
    )
    content(router, "video_1", "video").mock(return_value=mp4_answer(mp4_bytes))
    media = MediaPool(decode=DecodeLimits(max_pixels=64 * 36 - 1))
    dest = tmp_path / "video-1-thumbnail.webp"

    with pytest.raises(FrameError, match="320x180"):
        await Assets(api, media).fetch("video_1", "thumbnail", dest)


async def test_a_video_download_that_is_not_a_video_raises_frame_error(
    router: respx.Router, api: VideoClient, tmp_path: Path
) -> None:
    content(router, "video_1", "video").respond(
        content=b"<html>gateway error</html>", headers={"content-type": "video/mp4"}
    )
    with pytest.raises(FrameError, match="not a video"):
        await Assets(api, MediaPool()).fetch("video_1", "video", tmp_path / "video-1.mp4")
