from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from bot.timing.backoff import Backoff
from bot.videoapi.client import VideoClient

from .helpers import API_KEY, BASE_URL, FakeDNS, RecordingSleep

MakeClient = Callable[..., VideoClient]


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE_URL, assert_all_called=False)


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def dns() -> FakeDNS:
    return FakeDNS()


@pytest.fixture
async def make_client(
    router: respx.Router, sleeper: RecordingSleep, dns: FakeDNS
) -> AsyncIterator[MakeClient]:
    clients: list[VideoClient] = []

    def make(**options: Any) -> VideoClient:
        options.setdefault("api_key", SecretStr(API_KEY))
        options.setdefault("backoff", Backoff(sleep=sleeper))
        options.setdefault("resolve", dns)
        client = VideoClient(BASE_URL, transport=httpx.MockTransport(router.handler), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> VideoClient:
    return make_client()
