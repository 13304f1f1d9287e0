"""The API key never shows up in a repr, an exception or a log line."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import (
    APIConnectionError,
    AuthenticationError,
    InternalServerError,
    VideoAPIError,
)

from .helpers import API_KEY, error_json


def assert_hidden(error: BaseException) -> None:
    assert isinstance(error, VideoAPIError)
    for text in (str(error), repr(error), error.message, str(error.body), str(error.args)):
        assert API_KEY not in text
    assert API_KEY not in "".join(traceback.format_exception(error))


async def test_repr_hides_the_key(client: VideoClient) -> None:
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)
    assert "videos.test" in repr(client)


async def test_errors_and_logs_never_carry_the_key(
    router: respx.Router, client: VideoClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A careless server echoing the key it was sent, in its message and elsewhere in the body.
    echoed = error_json(f"Incorrect API key provided: {API_KEY}", code="invalid_api_key")
    echoed["error"]["param"] = API_KEY
    auth = router.post("/videos").respond(401, json=echoed)
    router.get("/videos/video_1").respond(500, text=f"proxy failed for Bearer {API_KEY}")
    router.get("/videos/video_2").mock(
        side_effect=httpx.ConnectError("[Errno 111] Connection refused")
    )
    router.post("/videos/video_3/remix").respond(429)

    errors: list[BaseException] = []
    for call, error_class in [
        (client.create("a cat"), AuthenticationError),
        (client.retrieve("video_1"), InternalServerError),
        (client.retrieve("video_2"), APIConnectionError),
        (client.remix("video_3", "again"), VideoAPIError),
    ]:
        with pytest.raises(error_class) as caught:
            await call
        errors.append(caught.value)

    # The key really was sent, so its absence below means something.
    assert auth.calls.last.request.headers["authorization"] == f"Bearer {API_KEY}"
    assert "[redacted]" in str(errors[0])
    for error in errors:
        assert_hidden(error)
    assert caplog.records, "retries should have been logged"
    assert API_KEY not in caplog.text
