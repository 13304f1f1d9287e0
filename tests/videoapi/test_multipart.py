"""Uploads make a multipart body with the contract's field names; files on disk are streamed."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.models import Upload

from .helpers import FormPart, form_parts, video_json

PNG_DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
# Line breaks and dashes that a careless multipart encoder would mangle.
MP4_DATA = b"\x00\x00\x00\x18ftypmp42" + b"\r\n--" * 100
PNG = Upload("ref.png", "image/png", PNG_DATA)
MP4 = Upload("clip.mp4", "video/mp4", MP4_DATA)


def text(value: str) -> FormPart:
    return FormPart(None, None, value.encode())


async def test_create_with_an_uploaded_image(router: respx.Router, client: VideoClient) -> None:
    route = router.post("/videos").respond(json=video_json())

    await client.create("a cat", seconds="8", input_reference=PNG)

    assert form_parts(route.calls.last.request) == {
        "prompt": text("a cat"),
        "model": text("sora-2"),
        "size": text("720x1280"),
        "seconds": text("8"),
        "input_reference": FormPart("ref.png", "image/png", PNG_DATA),
    }


async def test_edit_with_an_uploaded_video(router: respx.Router, client: VideoClient) -> None:
    route = router.post("/videos/edits").respond(json=video_json())

    await client.edit(MP4, "make it night")

    assert form_parts(route.calls.last.request) == {
        "prompt": text("make it night"),
        "video": FormPart("clip.mp4", "video/mp4", MP4_DATA),
    }


async def test_extend_with_an_uploaded_video(router: respx.Router, client: VideoClient) -> None:
    route = router.post("/videos/extensions").respond(json=video_json())

    await client.extend(MP4, "keep going", "8")

    assert form_parts(route.calls.last.request) == {
        "prompt": text("keep going"),
        "seconds": text("8"),
        "video": FormPart("clip.mp4", "video/mp4", MP4_DATA),
    }


async def test_create_character(router: respx.Router, client: VideoClient) -> None:
    route = router.post("/videos/characters").respond(
        json={"id": "char_1", "name": "Mo", "created_at": 1}
    )

    character = await client.create_character(" Mo ", MP4)

    assert form_parts(route.calls.last.request) == {
        "name": text("Mo"),
        "video": FormPart("clip.mp4", "video/mp4", MP4_DATA),
    }
    assert character.id == "char_1"


async def test_a_file_on_disk_is_streamed_not_read_whole(
    router: respx.Router,
    client: VideoClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB: several of httpx's 64 KiB chunks
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    opened: list[IO[Any]] = []
    real_open = Path.open

    def spy_open(self: Path, *args: Any, **kwargs: Any) -> IO[Any]:
        handle: IO[Any] = real_open(self, *args, **kwargs)
        opened.append(handle)
        return handle

    def refuse(self: Path) -> bytes:
        raise AssertionError("an upload must not be read into memory")

    monkeypatch.setattr(Path, "open", spy_open)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    # The first answer is a 429, so the retry must send the whole file again.
    route = router.post("/videos/edits").mock(
        side_effect=[httpx.Response(429), httpx.Response(200, json=video_json())]
    )

    await client.edit(Upload("clip.mp4", "video/mp4", source), "make it night")

    assert route.call_count == 2
    for call in route.calls:
        assert form_parts(call.request)["video"] == FormPart("clip.mp4", "video/mp4", data)
    assert [handle.mode for handle in opened] == ["rb", "rb"]
    assert all(handle.closed for handle in opened)
