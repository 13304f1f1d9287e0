"""A missing route marks its operation unsupported; a missing video is just not found."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import InternalServerError, NotFoundError, UnsupportedOperationError
from bot.videoapi.models import Operation, Upload

from .helpers import error_json, video_json

HTML_404 = httpx.Response(404, html="<html><body><h1>Not Found</h1></body></html>")
CLIP = Upload("clip.mp4", "video/mp4", b"mp4")


async def test_html_404_on_retrieve_means_the_route_is_missing(
    router: respx.Router, client: VideoClient
) -> None:
    route = router.get("/videos/video_1").mock(return_value=HTML_404)
    assert client.supports(Operation.RETRIEVE) is None

    with pytest.raises(UnsupportedOperationError) as caught:
        await client.retrieve("video_1")
    with pytest.raises(UnsupportedOperationError):
        await client.retrieve("video_2")

    assert (caught.value.operation, caught.value.status) == (Operation.RETRIEVE, 404)
    assert client.supports(Operation.RETRIEVE) is False
    assert client.unsupported == {Operation.RETRIEVE}
    # The second call was refused without asking the server.
    assert route.call_count == 1


@pytest.mark.parametrize(
    "body",
    [
        error_json("Video video_1 not found", code="not_found"),
        # SGLang and Aquiles-Image: FastAPI's shape, written by the handler.
        {"detail": "Video video_1 not found"},
    ],
    ids=["openai", "fastapi-handler"],
)
async def test_a_handlers_404_on_retrieve_is_a_missing_video(
    router: respx.Router, client: VideoClient, body: dict[str, object]
) -> None:
    router.get("/videos/video_1").respond(404, json=body)

    with pytest.raises(NotFoundError, match="Video video_1 not found"):
        await client.retrieve("video_1")

    assert client.supports(Operation.RETRIEVE) is True


@pytest.mark.parametrize(
    "answer",
    [
        HTML_404,
        httpx.Response(404, text="404 page not found"),
        # FastAPI's router for an unknown path: JSON, but no handler wrote it.
        httpx.Response(404, json={"detail": "Not Found"}),
        httpx.Response(404, json={"error": "not found"}),
        httpx.Response(404),
    ],
    ids=["html", "text", "fastapi", "error-string", "empty"],
)
async def test_any_other_404_on_an_id_route_is_a_missing_route(
    router: respx.Router, client: VideoClient, answer: httpx.Response
) -> None:
    router.get("/videos/video_1/content").mock(return_value=answer)

    with pytest.raises(UnsupportedOperationError):
        async with client.stream("video_1"):
            pass

    assert client.unsupported == {Operation.DOWNLOAD}


Call = Callable[[VideoClient], Awaitable[Any]]


@pytest.mark.parametrize(
    ("operation", "method", "path", "call"),
    [
        (Operation.CREATE, "POST", "/videos", lambda c: c.create("a cat")),
        (Operation.EDIT, "POST", "/videos/edits", lambda c: c.edit("video_1", "night")),
        (Operation.EXTEND, "POST", "/videos/extensions", lambda c: c.extend("v", "more", 4)),
        (Operation.LIST, "GET", "/videos", lambda c: c.list()),
        (
            Operation.CREATE_CHARACTER,
            "POST",
            "/videos/characters",
            lambda c: c.create_character("Mo", CLIP),
        ),
    ],
)
async def test_any_404_on_a_route_without_id_is_a_missing_route(
    router: respx.Router,
    client: VideoClient,
    operation: Operation,
    method: str,
    path: str,
    call: Call,
) -> None:
    router.route(method=method, path=path).respond(404, json=error_json("Not found"))

    with pytest.raises(UnsupportedOperationError) as caught:
        await call(client)

    assert caught.value.operation == operation
    assert client.unsupported == {operation}


@pytest.mark.parametrize("status", [405, 501])
async def test_405_and_501_mean_unsupported(
    router: respx.Router, client: VideoClient, status: int
) -> None:
    router.delete("/videos/video_1").respond(status, json=error_json("nope"))
    router.post("/videos/video_1/remix").respond(status)

    with pytest.raises(UnsupportedOperationError):
        await client.delete("video_1")
    with pytest.raises(UnsupportedOperationError):
        await client.remix("video_1", "again")

    assert client.unsupported == {Operation.DELETE, Operation.REMIX}


async def test_other_operations_stay_usable(router: respx.Router, client: VideoClient) -> None:
    router.post("/videos/extensions").respond(404)
    router.post("/videos").respond(json=video_json())

    with pytest.raises(UnsupportedOperationError):
        await client.extend("video_1", "more", 4)
    video = await client.create("a cat")

    assert video.id == "video_123"
    assert client.supports(Operation.CREATE) is True
    assert client.supports(Operation.EXTEND) is False
    assert client.supports(Operation.REMIX) is None


async def test_a_successful_answer_wakes_whoever_waits_for_one(
    router: respx.Router, client: VideoClient
) -> None:
    router.get("/videos/video_1").respond(json=video_json(id="video_1"))
    router.get("/videos/video_2").respond(500, json=error_json("down"))
    waiting = asyncio.create_task(client.capabilities.next_answer())

    with pytest.raises(InternalServerError):
        await client.retrieve("video_2")
    await asyncio.sleep(0)
    assert not waiting.done()

    await client.retrieve("video_1")
    await asyncio.wait_for(waiting, 5)
