"""Failover end to end: two providers side by side (the simulator as the contract, named `lab`,
and its OpenRouter dialect, named `openrouter`), one model both serve under the operator's
equivalence, the real bot on the fake Discord.

The lab refuses creates without making anything (402, then 503 "not accepted"): those jobs are
made at OpenRouter, within their reservations, and the cards say so. Counted at both servers:
one create that made a job per delivered video. A create at the lab whose answer times out is
found at the lab, never sent to OpenRouter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import pytest

from bot.app import VideoBot
from bot.config import Settings
from bot.simulator import STATE_KEY, SimulatorConfig, SimulatorState, make_app
from bot.simulator.server import serve_app
from bot.storage import open_database
from bot.videoapi.models import Operation
from bot.videoapi.presets import PRESETS
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import Providers, ProviderSpec
from bot.wiring import Tuning, build_bot, spec_client

from .botenv import CADENCE, CountingTransport
from .conftest import StartHarness
from .harness import Harness
from .views import delivered, field, has_mp4, row_when, status, video_id

# One model, named differently at each: the picker offers it once, as "veo-3.1".
EQUIVALENTS = {"veo-3.1": ("veo-3.1-fast", "google/veo-3.1-fast")}
LAB_PROFILE = ProviderProfile(
    models=("veo-3.1-fast",),
    sizes=("720x1280", "1280x720"),
    seconds=("4", "8"),
    price_per_second={"veo-3.1-fast": 0.10},
)
# The bot gives up on an answer after this (long enough for any answer on loopback under load);
# the lab's slow creates answer later.
READ_TIMEOUT = 2.0


class ImpatientTransport(CountingTransport):
    """Counts what the bot sends, and waits only READ_TIMEOUT for an answer."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions["timeout"] = {
            **request.extensions.get("timeout", {}),
            "read": READ_TIMEOUT,
        }
        return await super().handle_async_request(request)


@dataclass
class TwoProviders:
    harness: Harness
    bot: VideoBot
    lab: SimulatorState
    openrouter: SimulatorState

    def made(self) -> dict[str, int]:
        """Jobs each server made: its billable creates that created something."""
        return {"lab": len(self.lab.jobs), "openrouter": len(self.openrouter.jobs)}

    def creates(self) -> dict[str, int]:
        """Every create each server was sent, refused or not."""
        return {
            "lab": self.lab.calls[Operation.CREATE],
            "openrouter": self.openrouter.calls[Operation.CREATE],
        }


@pytest.fixture
async def two(start_harness: StartHarness, tmp_path: Path) -> AsyncIterator[TwoProviders]:
    async with AsyncExitStack() as stack:
        lab_app = make_app(
            SimulatorConfig(
                job_seconds=1.0,
                profile=LAB_PROFILE,
                create_refusals=("credits", "not_accepted"),
            )
        )
        openrouter_app = make_app(
            SimulatorConfig(job_seconds=1.0, dialect="openrouter", profile=PRESETS["openrouter"])
        )
        lab_url = await stack.enter_async_context(serve_app(lab_app))
        openrouter_url = await stack.enter_async_context(serve_app(openrouter_app))
        settings = Settings(_env_file=None, discord_token="fake", poll_interval=0.2)  # type: ignore[call-arg]
        specs = [
            ProviderSpec("lab", "generic", lab_url, None, LAB_PROFILE),
            ProviderSpec("openrouter", "openrouter", openrouter_url, None, PRESETS["openrouter"]),
        ]
        backends = {
            spec.name: await stack.enter_async_context(
                spec_client(settings, spec, transport=ImpatientTransport())
            )
            for spec in specs
        }
        db = await stack.enter_async_context(
            await open_database(None, tmp_path / "videobot.sqlite3")
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        tuning = Tuning(edit_interval=0.3, cadence=CADENCE, reconcile_wait=0.2)
        bot = build_bot(settings, db, Providers(backends, equivalents=EQUIVALENTS), session, tuning)
        harness = await start_harness(bot)
        stack.push_async_callback(harness.close)
        yield TwoProviders(harness, bot, lab_app[STATE_KEY], openrouter_app[STATE_KEY])


async def test_failover_creates_refused_at_the_first_are_made_at_the_second(
    two: TwoProviders,
) -> None:
    h = two.harness
    users = [h.fake.add_user(f"member{i}") for i in range(3)]
    for user in users:
        h.fake.add_member(h.world.guild_id, user)
    records = [
        await h.slash("video", {"prompt": f"clip {i}: a paper boat", "model": "veo-3.1"}, user=user)
        for i, user in enumerate(users)
    ]
    cards = [await h.original(record, has_mp4, within=20) for record in records]
    assert [status(card) for card in cards] == ["✅ Done"] * 3
    # The lab refused two creates without making anything (which two depends on which create
    # reached it first): OpenRouter made those; the other the lab made itself.
    made_by = {video_id(card): field(card, "Provider") for card in cards}
    assert sorted(made_by.values()) == ["lab", "openrouter", "openrouter"]
    assert sorted(str(field(card, "Sent")) for card in cards) == [
        "None",
        "lab made nothing (it did not accept the job), so it went to openrouter.",
        "lab made nothing (its credits ran out), so it went to openrouter.",
    ]
    moved = {video for video, provider in made_by.items() if provider == "openrouter"}
    assert moved == set(two.openrouter.jobs)
    assert {two.openrouter.jobs[video].model for video in moved} == {"google/veo-3.1-fast"}
    # Every create sent, and one that made a job per delivered video.
    assert two.creates() == {"lab": 3, "openrouter": 2}
    assert two.made() == {"lab": 1, "openrouter": 2}
    # Each job's reservation settled once, at the provider that made it.
    for card in cards:
        row = await row_when(two.bot.videos, video_id(card), delivered)
        assert [entry.state for entry in await two.bot.ledger.entries_for(row.key)] in (
            ["reserved"],
            ["settled"],
        )


async def test_failover_never_sends_a_create_that_timed_out_to_the_second(
    two: TwoProviders, caplog: pytest.LogCaptureFixture
) -> None:
    h = two.harness
    two.lab.create_refusals.clear()
    two.lab.config = two.lab.config.model_copy(update={"create_answer_delay": READ_TIMEOUT * 2})
    record = await h.slash(
        "video", {"prompt": "a slow boat", "model": "veo-3.1"}, user=h.world.alice
    )
    card = await h.original(record, has_mp4, within=20)
    # The answer was lost, the job was made: it is found at the lab, where it was sent.
    assert field(card, "Provider") == "lab"
    assert field(card, "Sent") is None
    assert video_id(card) in two.lab.jobs
    assert two.creates() == {"lab": 1, "openrouter": 0}
    assert two.made() == {"lab": 1, "openrouter": 0}
    assert "got no answer (the video API did not answer in time" in caplog.text
