"""Where a refused create may go next: same model, same size and seconds, no dearer than
reserved, not tried yet, healthy providers first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.jobs.failover import next_destinations, takes
from bot.spending.money import micros
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import InternalServerError
from bot.videoapi.health import Health, HealthTuning
from bot.videoapi.profile import ProviderProfile

RESERVED = micros(0.10)


@dataclass(frozen=True)
class Dest:
    provider: str
    model: str
    backend: VideoClient


def profile(price: float) -> ProviderProfile:
    return ProviderProfile(
        models=("veo",),
        sizes=("720x1280",),
        seconds=("4", "8"),
        price_per_second={"veo": price},
    )


Make = Callable[..., Dest]


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    clients: list[VideoClient] = []

    def build(name: str, price: float = 0.10) -> Dest:
        client = VideoClient("http://127.0.0.1:9/v1", None, profile=profile(price))
        clients.append(client)
        return Dest(name, "veo", client)

    yield build
    for client in clients:
        await client.aclose()


def test_failover_takes_the_same_size_seconds_and_no_dearer(make: Make) -> None:
    same = make("same")
    assert takes(same, "720x1280", "4", RESERVED)
    assert not takes(same, "1280x720", "4", RESERVED)
    assert not takes(same, "720x1280", "12", RESERVED)
    assert not takes(make("dear", price=0.11), "720x1280", "4", RESERVED)
    assert takes(make("cheap", price=0.05), "720x1280", "4", RESERVED)


def test_failover_next_keeps_the_operators_order_without_the_tried(make: Make) -> None:
    a, b, c, d = make("a"), make("b"), make("c", price=0.5), make("d")
    chosen = next_destinations(
        [a, b, c, d], {"a"}, size="720x1280", seconds="4", micros_per_second=RESERVED
    )
    assert [dest.provider for dest in chosen] == ["b", "d"]


def test_failover_next_tries_demoted_providers_last(make: Make) -> None:
    clock = [0.0]
    health = Health(HealthTuning(failures=1, share=0.0), clock=lambda: clock[0])
    health.record("b", InternalServerError("down", status=500))
    chosen = next_destinations(
        [make("a"), make("b"), make("c")],
        {"a"},
        size="720x1280",
        seconds="4",
        micros_per_second=RESERVED,
        health=health,
    )
    assert [dest.provider for dest in chosen] == ["c", "b"]
