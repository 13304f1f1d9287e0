"""Jobs and prompt rules: a refused prompt reserves and sends nothing; a provider's safety
refusal ends the job in its own card state with its reservation released.

The same real parts as tests/jobs/test_service.py (a respx provider behind a real VideoClient,
a real SQLite file, the real ledger), with the server's rules handed in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.interactions.tree import explain
from bot.jobs.requests import Asker
from bot.jobs.service import Jobs
from bot.spending.rules import PromptRefused, PromptRules
from bot.spending.service import Spending
from bot.storage import Database, GuildRepository
from bot.storage.rules import PROVIDER_BLOCKED, RulesRepository
from bot.tracker.service import JobEvent

from .test_service import (
    CHANNEL,
    GUILD,
    LIMIT,
    LIMITS,
    NOW,
    OWNER,
    Env,
    Poster,
    build_env,
    database,
    finish_one_running,
    refreshed,
    running,
    slots_held,
    video_json,
)

__all__ = ["database"]  # the fixture, shared with test_service

SAFETY_400 = {
    "error": {
        "message": "Your request was blocked by our moderation system.",
        "type": "invalid_request_error",
        "param": None,
        "code": "moderation_blocked",
    }
}
# OpenRouter's moderation error: a 403 with the reasons in `error.metadata`.
OPENROUTER_403 = {
    "error": {
        "code": 403,
        "message": "google/veo-3.1 requires moderation on OpenRouter. Your input was flagged.",
        "metadata": {"reasons": ["violence"], "flagged_input": "…", "provider_name": None},
    }
}


@pytest.fixture
def rules(database: Database) -> RulesRepository:
    return RulesRepository(database)


@pytest.fixture
async def env(database: Database, rules: RulesRepository) -> AsyncIterator[Env]:
    built = build_env(database)
    # The same parts, with the server's prompt rules in front of the ledger.
    built.jobs = Jobs(
        built.api,
        built.videos,
        built.ledger,
        Spending(GuildRepository(database), LIMITS),
        built.tracker,
        built.delivery,
        explain=explain,
        reconcile_wait=0.0,
        clock=lambda: NOW,
        prompts=PromptRules(rules, wall_clock=lambda: NOW),
    )
    yield built
    await built.api.aclose()


async def test_prompt_rules_a_blocked_prompt_reserves_and_sends_nothing(
    env: Env, rules: RulesRepository
) -> None:
    await rules.add(GUILD, "kite*", OWNER, NOW, most=10)
    env.router.post("/videos").respond(200, json=video_json("video_ok"))
    poster = Poster()
    with pytest.raises(PromptRefused):
        await env.jobs.start(env.request("two red KITES"), poster)
    assert poster.calls == ["begin", "abort"]
    assert env.calls("POST", "/videos") == []
    assert await env.videos.list_visible(OWNER, GUILD) == []
    assert await env.ledger.open_entries() == []
    assert (await rules.month(GUILD, NOW)).by_reason["rule"] == 1
    # Another prompt goes out as before.
    row = await env.jobs.start(env.request("a red balloon"), Poster())
    assert row.id == "video_ok"


@pytest.mark.parametrize(("status", "body"), [(400, SAFETY_400), (403, OPENROUTER_403)])
async def test_prompt_rules_a_providers_safety_refusal_is_a_released_blocked_job(
    env: Env, rules: RulesRepository, status: int, body: dict[str, object]
) -> None:
    env.router.post("/videos").respond(status, json=body)
    poster = Poster()
    row = await env.jobs.start(env.request("a storm"), poster)
    # Not taken back: the card shows the refusal, for the record.
    assert poster.calls == ["begin"]
    assert (row.status, row.error_code) == ("failed", PROVIDER_BLOCKED)
    assert [posted.key for posted, _ in env.delivery.posted] == [row.key]
    assert await env.states(row.key) == ["released"]
    assert await env.held() == 0
    assert await slots_held(env) == 0
    assert (await rules.month(GUILD, NOW)).provider == 1
    assert len(env.calls("POST", "/videos")) == 1


async def test_prompt_rules_a_waiting_job_the_provider_blocks_ends_blocked(env: Env) -> None:
    await running(env, LIMIT, tracked=False)
    waiting = await env.jobs.start(env.request(), Poster())
    env.router.post("/videos").respond(400, json=SAFETY_400)
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    env.jobs.watch(events)
    try:
        await finish_one_running(env, events)
        row = await refreshed(env)
    finally:
        await env.jobs.stop()
    assert (row.key, row.status, row.error_code) == (waiting.key, "failed", PROVIDER_BLOCKED)
    assert await env.states(row.key) == ["released"]


async def test_prompt_rules_age_restricted_only_refuses_elsewhere(
    env: Env, rules: RulesRepository
) -> None:
    await rules.set_age_restricted_only(GUILD, True)
    env.router.post("/videos").respond(200, json=video_json("video_ok"))
    with pytest.raises(PromptRefused):
        await env.jobs.start(env.request(), Poster(), Asker(channel_ids=(CHANNEL,)))
    assert env.calls("POST", "/videos") == []
    row = await env.jobs.start(
        env.request(), Poster(), Asker(channel_ids=(CHANNEL,), age_restricted=True)
    )
    assert row.id == "video_ok"
