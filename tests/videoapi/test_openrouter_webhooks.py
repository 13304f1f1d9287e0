"""OpenRouter's webhooks: HMAC-SHA256 over "<t>," + body, 300 s at most, once per key; the
simulator's openrouter dialect sends them signed to the callback URL a create named."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import aiohttp
import httpx
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.simulator import OPENROUTER_KEY, STATE_KEY, ManualClock, SimulatorConfig, make_app
from bot.simulator.server import serve_app
from bot.videoapi.models import Video
from bot.videoapi.openrouter.client import OpenRouterClient
from bot.videoapi.openrouter.webhooks import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    Event,
    Receiver,
    serve_receiver,
    signature,
    verified,
)
from bot.wiring import provider_client, webhook_receiver

SECRET = "whsec-test"
NOW = 1_800_000_000
BODY = json.dumps(
    {
        "type": "video.generation.completed",
        "created_at": "2027-01-15T08:00:00.000Z",
        "data": {"id": "job-1", "status": "completed", "usage": {"cost": 0.5}},
    }
).encode()


def test_openrouter_signature_verifies_only_fresh_and_exact() -> None:
    header = signature(SECRET, BODY, NOW)
    assert header.startswith(f"t={NOW},v1=")
    assert verified(SECRET, header, BODY, NOW + 300)
    assert not verified(SECRET, header, BODY, NOW + 301)  # stale: a replay
    assert not verified("another", header, BODY, NOW)
    assert not verified(SECRET, header, BODY + b" ", NOW)
    assert not verified(SECRET, "", BODY, NOW)
    assert not verified(SECRET, f"t={NOW}", BODY, NOW)


class Received:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Received, str]]:
    received = Received()
    app = Receiver(SecretStr(SECRET), "/hooks/openrouter", received, clock=lambda: NOW)
    async with serve_receiver(app, "127.0.0.1:0") as address:
        yield received, f"http://{address}/hooks/openrouter"


async def test_openrouter_receiver_takes_each_signed_event_once(
    receiver: tuple[Received, str],
) -> None:
    received, url = receiver
    signed = {SIGNATURE_HEADER: signature(SECRET, BODY, NOW), IDEMPOTENCY_HEADER: "job-1-completed"}
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, content=BODY, headers=signed)).status_code == 204
        assert (await http.post(url, content=BODY, headers=signed)).status_code == 204  # replay
        forged = {SIGNATURE_HEADER: signature("guess", BODY, NOW)}
        assert (await http.post(url, content=BODY, headers=forged)).status_code == 401
        stale = {SIGNATURE_HEADER: signature(SECRET, BODY, NOW - 301)}
        assert (await http.post(url, content=BODY, headers=stale)).status_code == 401
        assert (await http.post(url, content=BODY)).status_code == 401
    [event] = received.events
    assert (event.data.id, event.data.status) == ("job-1", "completed")
    assert event.data.usage is not None
    assert event.data.usage.cost == 0.5


async def test_openrouter_simulator_announces_an_ended_job_signed(
    receiver: tuple[Received, str],
) -> None:
    received, url = receiver
    clock = ManualClock(NOW)
    config = SimulatorConfig(
        dialect="openrouter", clock=clock, job_seconds=10, openrouter_webhook_secret=SECRET
    )
    app = make_app(config)
    async with AsyncExitStack() as stack:
        base_url = await stack.enter_async_context(serve_app(app))
        client = await stack.enter_async_context(
            OpenRouterClient(base_url, SecretStr("sk-or"), callback_url=url)
        )
        made = await client.create("a fox", model="google/veo-3.1-fast", seconds="8")
        session = await stack.enter_async_context(aiohttp.ClientSession())
        handlers = app[OPENROUTER_KEY]
        assert await handlers.announce(session, base_url) == 0  # still running
        clock.advance(10)
        assert await handlers.announce(session, base_url) == 1
        assert await handlers.announce(session, base_url) == 0  # once
    [event] = received.events
    assert (event.type, event.data.id, event.data.model) == (
        "video.generation.completed",
        made.id,
        "google/veo-3.1-fast",
    )
    assert event.data.usage is not None
    assert event.data.usage.cost == pytest.approx(0.8)
    assert app[STATE_KEY].jobs[made.id].model == "google/veo-3.1-fast"


async def test_openrouter_webhooks_need_all_three_settings_and_then_creates_carry_the_url() -> None:
    base = {"provider": "openrouter", "webhook_public_url": "https://bot.example/hooks"}
    without = Settings(_env_file=None, **base)  # type: ignore[call-arg]
    assert not without.uses_webhooks
    full = Settings(_env_file=None, openrouter_webhook_secret="s", **base)  # type: ignore[call-arg]
    assert full.uses_webhooks
    app = make_app(SimulatorConfig(dialect="openrouter", clock=ManualClock(NOW)))
    async with serve_app(app) as base_url, provider_client(full, base_url, None) as client:
        made = await client.create("a fox")
    assert app[OPENROUTER_KEY].ledger.extras[made.id].callback_url == "https://bot.example/hooks"


class SightingRecorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Video]] = []

    def sighted(self, video_id: str, video: Video) -> None:
        self.seen.append((video_id, video))


async def test_openrouter_webhook_hands_the_tracker_the_jobs_state() -> None:
    chosen = Settings(  # type: ignore[call-arg]
        _env_file=None,
        provider="openrouter",
        webhook_public_url="https://bot.example/hooks/openrouter",
        webhook_listen="127.0.0.1:0",
        openrouter_webhook_secret=SECRET,
    )
    tracker = SightingRecorder()
    at = int(time.time())
    async with (
        webhook_receiver(chosen, tracker) as address,  # type: ignore[arg-type]
        httpx.AsyncClient() as http,
    ):
        url = f"http://{address}/hooks/openrouter"
        answer = await http.post(
            url, content=BODY, headers={SIGNATURE_HEADER: signature(SECRET, BODY, at)}
        )
    assert answer.status_code == 204
    # The event is the job's state: no status request is needed to learn it.
    [(video_id, video)] = tracker.seen
    assert (video_id, video.status, video.progress, video.cost) == ("job-1", "completed", 100, 0.5)
