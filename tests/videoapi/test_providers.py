"""The registry of several providers: names, the routing of a model, the one picker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import InvalidParameterError
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import DEFAULT_PROVIDER, ProviderRemoved, Providers, routed

# Nothing is sent in these tests: the address only has to be well formed.
NOWHERE = "http://127.0.0.1:9"


def client(models: tuple[str, ...], prices: dict[str, float]) -> VideoClient:
    return VideoClient(
        NOWHERE, None, profile=ProviderProfile(models=models, price_per_second=prices)
    )


@pytest.fixture
async def providers() -> AsyncIterator[Providers]:
    registry = Providers(
        {
            "openrouter": client(("google/veo-3.1", "kling-2"), {"google/veo-3.1": 0.5}),
            "gateway": client(("veo-3.1-generate-001", "wan2.2", "kling-2"), {"wan2.2": 0.0}),
            "local": client(("wan2.2",), {"wan2.2": 0.0}),
        },
        equivalents={"veo-3.1": ("google/veo-3.1", "veo-3.1-generate-001")},
    )
    yield registry
    await registry.aclose()


async def test_routing_a_model_goes_to_the_first_provider_serving_it(providers: Providers) -> None:
    route = providers.route("wan2.2")
    assert (route.provider, route.model) == ("gateway", "wan2.2")
    assert [r.provider for r in providers.serving("wan2.2")] == ["gateway", "local"]
    assert providers.route("kling-2").provider == "openrouter"


async def test_routing_an_equivalent_names_the_model_as_each_provider_does(
    providers: Providers,
) -> None:
    routes = providers.serving("veo-3.1")
    assert [(r.provider, r.model) for r in routes] == [
        ("openrouter", "google/veo-3.1"),
        ("gateway", "veo-3.1-generate-001"),
    ]
    # Asked by one member's id: the whole group, still in the operator's order.
    assert [r.provider for r in providers.serving("veo-3.1-generate-001")] == [
        "openrouter",
        "gateway",
    ]


async def test_routing_without_a_model_takes_the_first_providers_default(
    providers: Providers,
) -> None:
    route = providers.route(None)
    assert (route.provider, route.model) == ("openrouter", "google/veo-3.1")


async def test_routing_an_unknown_model_lists_the_offered_ones(providers: Providers) -> None:
    with pytest.raises(InvalidParameterError, match=r"veo-3\.1, kling-2, wan2\.2, not 'sora-2'"):
        providers.route("sora-2")


async def test_several_providers_offer_each_model_once_in_preference_order(
    providers: Providers,
) -> None:
    offers = [(o.model, o.provider, o.price_per_second, o.also) for o in providers.offers()]
    assert offers == [
        ("veo-3.1", "openrouter", 0.5, ("gateway",)),
        ("kling-2", "openrouter", 0.10, ("gateway",)),
        ("wan2.2", "gateway", 0.0, ("local",)),
    ]


async def test_several_providers_a_retired_model_is_left_off_the_picker(
    providers: Providers,
) -> None:
    providers.get("openrouter").capabilities.retire("kling-2")
    assert [(o.model, o.provider) for o in providers.offers()] == [
        ("veo-3.1", "openrouter"),
        ("wan2.2", "gateway"),
        ("kling-2", "gateway"),
    ]
    assert providers.route("kling-2").provider == "gateway"


async def test_routing_a_removed_provider_says_so(providers: Providers) -> None:
    with pytest.raises(ProviderRemoved) as caught:
        providers.get("gone")
    assert caught.value.provider == "gone"
    assert "'gone'" in str(caught.value)
    assert "gone" not in providers
    assert providers.names == ("openrouter", "gateway", "local")


async def test_routing_one_backend_alone_is_the_default_provider() -> None:
    alone = client(("sora-2",), {})
    registry = routed(alone)
    assert registry.names == (DEFAULT_PROVIDER,)
    assert registry.get(DEFAULT_PROVIDER) is alone
    assert routed(registry) is registry
    await registry.aclose()


def test_routing_needs_a_provider() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Providers({})


async def test_routing_without_a_model_skips_a_default_refused_as_gone(
    providers: Providers,
) -> None:
    providers.get("openrouter").capabilities.retire("google/veo-3.1")
    route = providers.route(None)
    # The picker's first model now: the first provider's next one.
    assert (route.provider, route.model) == ("openrouter", "kling-2")


async def test_routing_a_model_served_under_its_groups_own_name() -> None:
    registry = Providers(
        {
            "first": client(("google/veo-3.1",), {}),
            "second": client(("veo-3.1",), {}),
        },
        equivalents={"veo-3.1": ("google/veo-3.1", "veo-3.1-generate-001")},
    )
    assert [(r.provider, r.model) for r in registry.serving("veo-3.1")] == [
        ("first", "google/veo-3.1"),
        ("second", "veo-3.1"),
    ]
    assert [o.model for o in registry.offers()] == ["veo-3.1"]
    await registry.aclose()
