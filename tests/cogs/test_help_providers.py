"""/help with several providers: a command is left out only when no provider serves it."""

from __future__ import annotations

from bot.videoapi.client import VideoClient
from bot.videoapi.models import Operation
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import Providers
from cogs.help import help_card, lacking_everywhere, served

NOWHERE = "http://127.0.0.1:9/v1"


def client(missing: set[Operation]) -> VideoClient:
    return VideoClient(NOWHERE, None, profile=ProviderProfile(missing=frozenset(missing)))


async def test_several_providers_lack_only_what_none_serves() -> None:
    providers = Providers(
        {
            "a": client({Operation.EXTEND, Operation.DELETE}),
            "b": client({Operation.EXTEND, Operation.LIST}),
        }
    )
    try:
        supports = served(providers)
        assert supports(Operation.EXTEND) is False
        # b has not been asked about delete yet: it may serve it.
        assert supports(Operation.DELETE) is None
        providers.get("b").capabilities.record(Operation.DELETE, served=True)
        assert supports(Operation.DELETE) is True
        assert lacking_everywhere(providers) == {Operation.EXTEND}
        card = help_card(
            [], lacking_everywhere(providers), 0, 2, "`wan2.2` · b · $0.00/s", several=True
        )
        assert card.footer.text == "No provider here serves: extend. Those commands are left out."
        assert [f.value for f in card.fields if f.name == "Models"] == ["`wan2.2` · b · $0.00/s"]
    finally:
        await providers.aclose()
