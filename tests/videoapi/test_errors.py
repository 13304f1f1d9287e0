"""Each failure becomes its own error class, carrying status, request id, message and code."""

from __future__ import annotations

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

from .conftest import MakeClient
from .helpers import error_json


@pytest.fixture
def no_retry(make_client: MakeClient) -> VideoClient:
    return make_client(max_retries=0)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (418, APIStatusError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
    ],
)
async def test_status_becomes_its_error_class(
    router: respx.Router,
    no_retry: VideoClient,
    status: int,
    error_class: type[APIStatusError],
) -> None:
    body = error_json("seconds is wrong", code="invalid_value", param="seconds")
    router.post("/videos/video_1/remix").respond(
        status, json=body, headers={"x-request-id": "req_abc"}
    )

    with pytest.raises(error_class) as caught:
        await no_retry.remix("video_1", "again")

    error = caught.value
    assert type(error) is error_class
    assert (error.status, error.request_id) == (status, "req_abc")
    assert (error.message, error.code) == ("seconds is wrong", "invalid_value")
    assert error.body == body
    assert str(error) == f"seconds is wrong (status {status}, code invalid_value, request req_abc)"


async def test_a_numeric_code_becomes_text(router: respx.Router, no_retry: VideoClient) -> None:
    router.get("/videos/video_1").respond(400, json=error_json("bad", code=1234))

    with pytest.raises(BadRequestError) as caught:
        await no_retry.retrieve("video_1")

    assert caught.value.code == "1234"


async def test_plain_text_error_body_is_the_message(
    router: respx.Router, no_retry: VideoClient
) -> None:
    router.post("/videos").respond(500, text="upstream exploded\n")

    with pytest.raises(InternalServerError) as caught:
        await no_retry.create("a cat")

    assert (caught.value.message, caught.value.code) == ("upstream exploded", None)
    assert caught.value.request_id is None


async def test_empty_error_body_falls_back_to_the_status_line(
    router: respx.Router, no_retry: VideoClient
) -> None:
    router.get("/videos/video_1").respond(502)

    with pytest.raises(InternalServerError, match="HTTP 502 Bad Gateway"):
        await no_retry.retrieve("video_1")


async def test_a_huge_error_body_is_read_only_in_part(
    router: respx.Router, no_retry: VideoClient
) -> None:
    router.post("/videos").respond(500, text="x" * 1_000_000)

    with pytest.raises(InternalServerError) as caught:
        await no_retry.create("a cat")

    assert len(caught.value.message) == 500
    assert isinstance(caught.value.body, str)
    assert len(caught.value.body) <= 64 * 1024


@pytest.mark.parametrize(
    ("transport_error", "error_class"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadError("reset by peer"), APIConnectionError),
        (httpx.RemoteProtocolError("garbage"), APIConnectionError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.PoolTimeout("busy"), APITimeoutError),
    ],
)
async def test_transport_failures(
    router: respx.Router,
    no_retry: VideoClient,
    transport_error: httpx.TransportError,
    error_class: type[APIConnectionError],
) -> None:
    router.get("/videos/video_1").mock(side_effect=transport_error)

    with pytest.raises(error_class) as caught:
        await no_retry.retrieve("video_1")

    assert type(caught.value) is error_class
    assert type(transport_error).__name__ in str(caught.value)
    assert caught.value.__cause__ is transport_error
