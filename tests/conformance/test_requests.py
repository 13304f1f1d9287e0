"""Every request the client can send, and every answer the simulator gives, through Prism."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image
from pydantic import SecretStr

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import UnprocessableEntityError
from bot.videoapi.models import ImageReference, Operation, Upload, Video
from bot.videoapi.wire import Multipart

from .conftest import CheckingTransport, Violations

KEY = SecretStr("sk-conformance")


@pytest.fixture
async def client(prism_url: str, transport: CheckingTransport) -> AsyncIterator[VideoClient]:
    async with VideoClient(prism_url, KEY, transport=transport) as client:
        yield client


async def _completed(client: VideoClient, video: Video) -> Video:
    for _ in range(100):
        video = await client.retrieve(video.id)
        if video.finished:
            assert video.status == "completed", video.error
            return video
        await asyncio.sleep(0.1)
    raise AssertionError(f"{video.id} did not finish")


def _png(size: str) -> bytes:
    width, height = (int(n) for n in size.split("x"))
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def _assert_clean(violations: Violations) -> None:
    assert violations.found == [], violations.found


async def test_every_operation_in_json_form(client: VideoClient, violations: Violations) -> None:
    video = await client.create(
        "a calico cat playing a piano",
        model="sora-2",
        size="1280x720",
        seconds="4",
        input_reference=ImageReference(image_url="https://example.com/cat.png"),
    )
    video = await _completed(client, video)
    remix = await _completed(client, await client.remix(video.id, "the cat plays drums"))
    assert remix.remixed_from_video_id == video.id
    extension = await _completed(client, await client.extend(video.id, "the cat bows", "8"))
    assert extension.seconds == "12"
    await _completed(client, await client.edit(video.id, "make it night"))

    page = await client.list(limit=2, order="asc")
    assert len(page.data) == 2
    after = await client.list(after=page.last_id, limit=100, order="desc")
    assert page.last_id not in {v.id for v in after.data}

    for variant in ("video", "thumbnail", "spritesheet"):
        async with client.stream(video.id, variant=variant) as stream:
            size = sum([len(chunk) async for chunk in stream.aiter_bytes()])
        assert size > 0

    deleted = await client.delete(remix.id)
    assert deleted.deleted
    _assert_clean(violations)


async def test_every_upload_in_multipart_form(
    prism_mock_url: str, transport: CheckingTransport, violations: Violations, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    upload = Upload("clip.mp4", "video/mp4", clip)
    async with VideoClient(prism_mock_url, KEY, transport=transport) as client:
        reference = Upload("ref.png", "image/png", _png("720x1280"))
        await client.create("a lighthouse", seconds="8", input_reference=reference)
        await client.edit(upload, "add fog")
        await client.extend(upload, "the light turns", "4")
        await client.create_character("Lighthouse keeper", upload)
    _assert_clean(violations)


async def test_a_broken_request_is_caught(client: VideoClient, violations: Violations) -> None:
    # Past the client's own checks on purpose: 5 is not a duration the contract allows.
    with pytest.raises(UnprocessableEntityError):
        await client.request(
            Operation.CREATE, "POST", "/videos", body={"prompt": "a cat", "seconds": "5"}
        )
    [(where, problem)] = violations.found
    assert where == "POST /videos"
    [violation] = problem["validation"]
    assert violation["location"] == ["body", "seconds"]
    assert violation["code"] == "enum"


async def test_a_broken_upload_is_caught(
    prism_mock_url: str, transport: CheckingTransport, violations: Violations
) -> None:
    clip = Upload("clip.mp4", "video/mp4", b"\x00" * 64)
    async with VideoClient(prism_mock_url, KEY, transport=transport) as client:
        with pytest.raises(UnprocessableEntityError):
            await client.request(
                Operation.CREATE_CHARACTER,
                "POST",
                "/videos/characters",
                body=Multipart(files={"video": clip}),
            )
    [(_, problem)] = violations.found
    assert problem["validation"][0]["message"] == "Request body must have required property 'name'"
