"""Retries: reads and deletes on every transient failure, a billable POST only when unsent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from bot.timing.backoff import Backoff
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    UnsupportedOperationError,
)
from bot.videoapi.retry import retry_after, should_retry_status

from .conftest import MakeClient
from .helpers import RecordingSleep, video_json


def ok() -> httpx.Response:
    return httpx.Response(200, json=video_json())


async def test_post_is_retried_on_429(
    router: respx.Router, client: VideoClient, sleeper: RecordingSleep
) -> None:
    route = router.post("/videos").mock(side_effect=[httpx.Response(429), ok()])

    await client.create("a cat")

    assert route.call_count == 2
    assert len(sleeper.delays) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409])
async def test_post_is_not_retried_after_the_server_may_have_acted(
    router: respx.Router, client: VideoClient, sleeper: RecordingSleep, status: int
) -> None:
    route = router.post("/videos").mock(side_effect=[httpx.Response(status), ok()])

    with pytest.raises(APIStatusError, match=f"status {status}"):
        await client.create("a cat")

    assert route.call_count == 1
    assert sleeper.delays == []


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.ReadError("reset"), httpx.WriteError("broken pipe")],
)
async def test_post_is_not_retried_when_the_request_may_have_arrived(
    router: respx.Router, client: VideoClient, error: httpx.TransportError
) -> None:
    route = router.post("/videos/video_1/remix").mock(side_effect=[error, ok()])

    with pytest.raises(APIConnectionError):
        await client.remix("video_1", "again")

    assert route.call_count == 1


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("")]
)
async def test_post_is_retried_when_the_connection_never_opened(
    router: respx.Router, client: VideoClient, error: httpx.TransportError
) -> None:
    route = router.post("/videos").mock(side_effect=[error, ok()])

    video = await client.create("a cat")

    assert route.call_count == 2
    assert video.id == "video_123"


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
async def test_get_is_retried_on_transient_statuses(
    router: respx.Router, client: VideoClient, status: int
) -> None:
    route = router.get("/videos/video_1").mock(side_effect=[httpx.Response(status), ok()])

    await client.retrieve("video_1")

    assert route.call_count == 2


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("reset"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("garbage"),
    ],
)
async def test_get_is_retried_on_transport_errors(
    router: respx.Router, client: VideoClient, error: httpx.TransportError
) -> None:
    route = router.get("/videos").mock(
        side_effect=[error, httpx.Response(200, json={"object": "list", "data": []})]
    )

    await client.list()

    assert route.call_count == 2


async def test_delete_is_retried(router: respx.Router, client: VideoClient) -> None:
    route = router.delete("/videos/video_1").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json={"object": "video.deleted", "deleted": True, "id": "v"}),
        ]
    )

    await client.delete("video_1")

    assert route.call_count == 2


async def test_retries_stop_after_max_retries(
    router: respx.Router, client: VideoClient, sleeper: RecordingSleep
) -> None:
    route = router.get("/videos/video_1").respond(500, headers={"x-request-id": "req_last"})

    with pytest.raises(InternalServerError) as caught:
        await client.retrieve("video_1")

    assert route.call_count == 3
    assert len(sleeper.delays) == 2
    assert caught.value.request_id == "req_last"


async def test_retries_can_be_turned_off(router: respx.Router, make_client: MakeClient) -> None:
    route = router.get("/videos/video_1").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(APITimeoutError):
        await make_client(max_retries=0).retrieve("video_1")

    assert route.call_count == 1


async def test_post_429_gives_up_after_its_own_retry_budget(
    router: respx.Router, client: VideoClient
) -> None:
    """A 429 made nothing, so it is waited out longer than other errors: 1 + 5 tries."""
    route = router.post("/videos").respond(429)

    with pytest.raises(RateLimitError):
        await client.create("a cat")

    assert route.call_count == 6


async def test_other_errors_keep_the_shorter_budget(
    router: respx.Router, client: VideoClient
) -> None:
    route = router.get("/videos/video_1").respond(503)

    with pytest.raises(InternalServerError):
        await client.retrieve("video_1")

    assert route.call_count == 3


async def test_501_is_not_retried(router: respx.Router, client: VideoClient) -> None:
    route = router.get("/videos/video_1").respond(501)

    with pytest.raises(UnsupportedOperationError):
        await client.retrieve("video_1")

    assert route.call_count == 1


def http_date(delta: timedelta) -> str:
    return format_datetime(datetime.now(UTC) + delta, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "120"}, 60.0),
        ({"retry-after": http_date(timedelta(hours=1))}, 60.0),
        ({"retry-after": http_date(-timedelta(hours=1))}, 0.0),
    ],
)
async def test_retry_after_is_honoured_and_capped(
    router: respx.Router,
    client: VideoClient,
    sleeper: RecordingSleep,
    headers: dict[str, str],
    expected: float,
) -> None:
    router.post("/videos").mock(side_effect=[httpx.Response(429, headers=headers), ok()])

    await client.create("a cat")

    assert sleeper.delays == [expected]


async def test_retry_after_as_an_http_date(
    router: respx.Router, client: VideoClient, sleeper: RecordingSleep
) -> None:
    headers = {"retry-after": http_date(timedelta(seconds=30))}
    router.get("/videos/video_1").mock(side_effect=[httpx.Response(503, headers=headers), ok()])

    await client.retrieve("video_1")

    # An HTTP date has whole seconds only.
    assert 28.0 <= sleeper.delays[0] <= 30.0


async def test_backoff_grows_jittered_and_capped(
    router: respx.Router, make_client: MakeClient, sleeper: RecordingSleep
) -> None:
    client = make_client(max_retries=5, backoff=Backoff(base_delay=1, max_delay=5, sleep=sleeper))
    router.get("/videos/video_1").respond(503, headers={"retry-after": "soon"})

    with pytest.raises(InternalServerError):
        await client.retrieve("video_1")

    ceilings = [1, 2, 4, 5, 5]
    assert len(sleeper.delays) == len(ceilings)
    for delay, ceiling in zip(sleeper.delays, ceilings, strict=True):
        assert 0.75 * ceiling <= delay <= ceiling


def test_backoff_after_thousands_of_failures_is_the_cap() -> None:
    assert 450 <= Backoff(base_delay=30, max_delay=600).delay(5000) <= 600


def test_unparseable_retry_after_is_ignored() -> None:
    assert retry_after(httpx.Headers({"retry-after": "later please"})) is None
    assert retry_after(httpx.Headers({"retry-after-ms": "x"})) is None
    assert retry_after(httpx.Headers()) is None


@pytest.mark.parametrize(
    ("method", "status", "retried"),
    [
        ("POST", 429, True),
        ("POST", 500, False),
        ("POST", 408, False),
        ("GET", 404, False),
        ("GET", 400, False),
        ("GET", 501, False),
        ("GET", 599, True),
        ("DELETE", 409, True),
    ],
)
def test_status_retry_table(method: str, status: int, retried: bool) -> None:
    assert should_retry_status(method, status) is retried
