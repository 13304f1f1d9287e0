"""Each provider's rolling window of failures: who is demoted, for how long, logged once."""

from __future__ import annotations

import logging

import pytest
import respx

from bot.videoapi.errors import (
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    ModelUnavailableError,
    NotFoundError,
    RateLimitError,
)
from bot.videoapi.health import Health, HealthTuning, is_failure, watched

from .conftest import MakeClient
from .helpers import error_json

TUNING = HealthTuning(window=100.0, failures=3, share=0.5, demoted_for=50.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def down() -> InternalServerError:
    return InternalServerError("boom", status=500)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def health(clock: Clock) -> Health:
    return Health(TUNING, clock=clock)


@pytest.mark.parametrize(
    ("error", "counts"),
    [
        pytest.param(None, False, id="answered"),
        pytest.param(down(), True, id="5xx"),
        pytest.param(APITimeoutError("slow"), True, id="timeout"),
        pytest.param(APIStatusError("Insufficient credits", status=402), True, id="402"),
        pytest.param(RateLimitError("busy", status=429), True, id="429-after-waits"),
        pytest.param(NotFoundError("no such video", status=404), False, id="404-look"),
        pytest.param(BadRequestError("bad size", status=400), False, id="bad-request"),
        pytest.param(ModelUnavailableError("m", "gone", status=404), False, id="gone-model"),
    ],
)
def test_failover_health_counts_only_the_providers_own_failures(
    error: Exception | None, counts: bool
) -> None:
    assert is_failure(error) is counts


def test_failover_health_demotes_after_enough_failures_and_logs_once(
    health: Health, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.videoapi.health")
    health.record("a", down())
    health.record("a", down())
    assert not health.demoted("a")
    assert health.order(["a", "b"], str) == ["a", "b"]
    health.record("a", down())
    assert health.demoted("a")
    assert not health.demoted("b")
    assert health.order(["a", "b", "c"], str) == ["b", "c", "a"]
    for _ in range(5):
        health.record("a", down())
    demotions = [r for r in caplog.records if "demoted" in r.getMessage()]
    assert len(demotions) == 1
    assert "provider a demoted for 50 s: 3 of its 3 calls" in demotions[0].getMessage()


def test_failover_health_demotion_ends_and_says_so_once(
    health: Health, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.videoapi.health")
    for _ in range(3):
        health.record("a", down())
    clock.now += 49
    assert health.demoted("a")
    clock.now += 1
    assert not health.demoted("a")
    assert not health.demoted("a")
    assert [r.getMessage() for r in caplog.records].count("provider a is tried first again") == 1
    # A clean window: one more failure does not demote it again at once.
    health.record("a", down())
    assert not health.demoted("a")


def test_failover_health_failures_among_many_answers_do_not_demote(health: Health) -> None:
    for _ in range(10):
        health.record("a")
    for _ in range(4):
        health.record("a", down())
    assert not health.demoted("a")


def test_failover_health_404_looks_never_demote(health: Health) -> None:
    for _ in range(20):
        health.record("a", NotFoundError("No video found with id 'video_1'.", status=404))
    assert not health.demoted("a")


def test_failover_health_failures_leave_the_window(health: Health, clock: Clock) -> None:
    health.record("a", down())
    health.record("a", down())
    clock.now += 150
    health.record("a", down())
    assert not health.demoted("a")
    health.record("a", down())
    health.record("a", down())
    assert health.demoted("a")


async def test_failover_health_watches_every_call_of_a_backend(
    make_client: MakeClient, router: respx.Router
) -> None:
    health = Health(HealthTuning(window=100.0, failures=3, share=0.5, demoted_for=50.0))
    backend = watched(make_client(max_retries=0), "lab", health)
    router.get("/videos/video_gone").respond(404, json=error_json("No video found"))
    router.post("/videos").respond(500, json=error_json("boom"))
    router.get("/videos").respond(200, json={"object": "list", "data": [], "has_more": False})
    for _ in range(5):
        with pytest.raises(NotFoundError):
            await backend.retrieve("video_gone")
    # Looks at a video the provider no longer has say nothing of its health.
    assert not health.demoted("lab")
    await backend.list()
    for _ in range(3):
        with pytest.raises(InternalServerError):
            await backend.create("a red kite")
    assert not health.demoted("lab")  # 3 failures of 9 calls: under half
    for _ in range(6):
        with pytest.raises(InternalServerError):
            await backend.create("a red kite")
    assert health.demoted("lab")
