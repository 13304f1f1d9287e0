"""Every operation sends the contract's method, path, query and JSON body, and parses the answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import InvalidParameterError, RateLimitError, VideoAPIError
from bot.videoapi.models import Character, DeletedVideo, ImageReference, Video, VideoPage
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.wire import duration_seconds

from .conftest import MakeClient
from .helpers import API_KEY, video_json

Call = Callable[[VideoClient], Awaitable[Any]]
CHARACTER = {"id": "char_1", "name": "Mo", "created_at": 1_712_697_600}
PAGE = {"object": "list", "data": [video_json()], "first_id": "video_123", "last_id": "video_123"}
DEFAULTS = {"model": "sora-2", "size": "720x1280", "seconds": "4"}

CASES: list[tuple[str, Call, str, str, dict[str, str], Any, Any, type[Any]]] = [
    (
        "create",
        lambda c: c.create("  a cat  "),
        "POST",
        "/v1/videos",
        {},
        {"prompt": "a cat", **DEFAULTS},
        video_json(),
        Video,
    ),
    (
        "create-options",
        lambda c: c.create("a cat", model="sora-2-pro", size="1792x1024", seconds=12),
        "POST",
        "/v1/videos",
        {},
        {"prompt": "a cat", "model": "sora-2-pro", "size": "1792x1024", "seconds": "12"},
        video_json(),
        Video,
    ),
    (
        "create-image-url",
        lambda c: c.create("a cat", input_reference=ImageReference(image_url="https://i/x.png")),
        "POST",
        "/v1/videos",
        {},
        {"prompt": "a cat", **DEFAULTS, "input_reference": {"image_url": "https://i/x.png"}},
        video_json(),
        Video,
    ),
    (
        "create-file-id",
        lambda c: c.create("a cat", input_reference=ImageReference(file_id="file-9")),
        "POST",
        "/v1/videos",
        {},
        {"prompt": "a cat", **DEFAULTS, "input_reference": {"file_id": "file-9"}},
        video_json(),
        Video,
    ),
    (
        "edit",
        lambda c: c.edit("video_1", "make it night"),
        "POST",
        "/v1/videos/edits",
        {},
        {"video": {"id": "video_1"}, "prompt": "make it night"},
        video_json(),
        Video,
    ),
    (
        "extend",
        lambda c: c.extend("video_1", "keep going", 16),
        "POST",
        "/v1/videos/extensions",
        {},
        {"video": {"id": "video_1"}, "prompt": "keep going", "seconds": "16"},
        video_json(seconds="20"),
        Video,
    ),
    (
        "remix",
        lambda c: c.remix("video_1", "in watercolour"),
        "POST",
        "/v1/videos/video_1/remix",
        {},
        {"prompt": "in watercolour"},
        video_json(remixed_from_video_id="video_1"),
        Video,
    ),
    (
        "get_character",
        lambda c: c.get_character("char_1"),
        "GET",
        "/v1/videos/characters/char_1",
        {},
        None,
        CHARACTER,
        Character,
    ),
    ("list", lambda c: c.list(), "GET", "/v1/videos", {}, None, PAGE, VideoPage),
    (
        "list-query",
        lambda c: c.list(after="video_0", limit=100, order="asc"),
        "GET",
        "/v1/videos",
        {"after": "video_0", "limit": "100", "order": "asc"},
        None,
        PAGE,
        VideoPage,
    ),
    (
        "retrieve",
        lambda c: c.retrieve("video_1"),
        "GET",
        "/v1/videos/video_1",
        {},
        None,
        video_json(),
        Video,
    ),
    (
        "retrieve-escaped",
        lambda c: c.retrieve("../edits"),
        "GET",
        "/v1/videos/..%2Fedits",
        {},
        None,
        video_json(),
        Video,
    ),
    (
        "delete",
        lambda c: c.delete("video_1"),
        "DELETE",
        "/v1/videos/video_1",
        {},
        None,
        {"object": "video.deleted", "deleted": True, "id": "video_1"},
        DeletedVideo,
    ),
]


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "sent", "answer", "model"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_operation_request_and_answer(
    router: respx.Router,
    client: VideoClient,
    call: Call,
    method: str,
    path: str,
    query: dict[str, str],
    sent: Any,
    answer: Any,
    model: type[Any],
) -> None:
    route = router.route().mock(return_value=httpx.Response(200, json=answer))

    result = await call(client)

    request = route.calls.last.request
    assert request.method == method
    assert request.url.raw_path.split(b"?")[0].decode() == path
    assert dict(request.url.params) == query
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    if sent is None:
        assert request.content == b""
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == sent
    assert isinstance(result, model)
    assert (
        result.model_dump(exclude_none=True).items()
        >= {k: v for k, v in answer.items() if v is not None and k != "data"}.items()
    )
    assert route.call_count == 1


async def test_no_authorization_header_without_a_key(
    router: respx.Router, make_client: MakeClient
) -> None:
    route = router.get("/videos/video_1").respond(json=video_json())

    await make_client(api_key=None).retrieve("video_1")

    assert "authorization" not in route.calls.last.request.headers


async def test_response_meta_carries_request_id_and_poll_hint(
    router: respx.Router, client: VideoClient
) -> None:
    headers = {"x-request-id": "req_42", "openai-poll-after-ms": "2500"}
    router.get("/videos/video_1").respond(json=video_json(), headers=headers)
    router.get("/videos/video_2").respond(json=video_json(id="video_2"))

    hinted = await client.retrieve("video_1")
    plain = await client.retrieve("video_2")

    assert (hinted.meta.request_id, hinted.meta.poll_after_ms) == ("req_42", 2500)
    assert (plain.meta.request_id, plain.meta.poll_after_ms) == (None, None)


async def test_answer_that_is_not_the_model_is_an_api_error(
    router: respx.Router, client: VideoClient
) -> None:
    router.get("/videos/video_1").respond(text="<html>ok</html>", headers={"x-request-id": "req_7"})

    with pytest.raises(VideoAPIError, match="not a valid Video") as caught:
        await client.retrieve("video_1")

    assert (caught.value.status, caught.value.request_id) == (200, "req_7")


INVALID: list[tuple[str, Call, str]] = [
    ("empty-prompt", lambda c: c.create("   "), "prompt"),
    ("long-prompt", lambda c: c.remix("video_1", "x" * 32_001), "prompt"),
    ("model", lambda c: c.create("a cat", model="veo-3"), "model"),
    ("size", lambda c: c.create("a cat", size="640x480"), "size"),
    ("seconds", lambda c: c.create("a cat", seconds=16), "seconds"),
    ("extend-seconds", lambda c: c.extend("video_1", "more", 24), "seconds"),
    ("edit-prompt", lambda c: c.edit("video_1", ""), "prompt"),
    ("edit-video-id", lambda c: c.edit(" ", "night"), "video"),
    ("retrieve-id", lambda c: c.retrieve(""), "video_id"),
    ("delete-id", lambda c: c.delete(""), "video_id"),
    ("character-id", lambda c: c.get_character(""), "character_id"),
    ("list-limit", lambda c: c.list(limit=101), "limit"),
]


@pytest.mark.parametrize(
    ("call", "param"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
async def test_invalid_input_is_refused_before_any_request(
    router: respx.Router, client: VideoClient, call: Call, param: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await call(client)

    assert caught.value.param == param
    assert router.calls.call_count == 0


async def test_the_profile_decides_what_is_valid(
    router: respx.Router, make_client: MakeClient
) -> None:
    profile = ProviderProfile(models=("wan-2.2",), sizes=("832x480",), seconds=("5",))
    route = router.post("/videos").respond(json=video_json(model="wan-2.2"))
    client = make_client(profile=profile)

    await client.create("a cat")
    with pytest.raises(InvalidParameterError, match="sora-2"):
        await client.create("a cat", model="sora-2")

    assert json.loads(route.calls.last.request.content) == {
        "prompt": "a cat",
        "model": "wan-2.2",
        "size": "832x480",
        "seconds": "5",
    }
    assert route.call_count == 1


async def test_response_meta_carries_the_providers_rate_limit_state(
    router: respx.Router, client: VideoClient
) -> None:
    headers = {"x-ratelimit-remaining-requests": "42", "x-ratelimit-reset-requests": "6m0s"}
    router.get("/videos/video_1").respond(json=video_json(), headers=headers)

    meta = (await client.retrieve("video_1")).meta

    assert (meta.ratelimit_remaining_requests, meta.ratelimit_reset_requests_s) == (42, 360.0)
    assert meta.retry_after_s is None


async def test_a_429_carries_its_retry_after(router: respx.Router, make_client: MakeClient) -> None:
    router.get("/videos/video_1").respond(
        429, json={"error": {"message": "slow down"}}, headers={"Retry-After": "7"}
    )

    with pytest.raises(RateLimitError) as caught:
        await make_client(max_retries=0).retrieve("video_1")

    assert caught.value.meta.retry_after_s == 7.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0.5", 0.5)],
)
def test_openai_durations_are_read_as_seconds(text: str, seconds: float) -> None:
    assert duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "soon", "5 minutes", "1s garbage"])
def test_an_unreadable_duration_is_none(text: str | None) -> None:
    assert duration_seconds(text) is None
