"""Prompt rules as admins and members see them: /limits rules, a blocked prompt that reaches no
API, the moderation check, age-restricted channels, and the provider's own refusal."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation
from tests.moderation_imitation import KEY, ModerationImitation

from .botenv import BotEnv, StartBot
from .views import JSON, embed, ephemeral_answer, field, has_card, public, status

CREATE = "POST /v1/videos"


async def admin(env: BotEnv, command: str, options: dict[str, object] | None = None) -> JSON:
    h = env.harness
    rec = await h.slash(f"limits rules {command}", options or {}, user=h.world.owner)
    return await ephemeral_answer(h, rec)


async def refused(env: BotEnv, prompt: str, channel_id: int | None = None) -> str:
    """What a member is told privately when `prompt` is refused; nothing public remains."""
    h = env.harness
    rec = await h.slash("video", {"prompt": prompt}, user=h.world.alice, channel_id=channel_id)
    answer = await ephemeral_answer(h, rec)
    for message in public(h, channel_id):
        assert prompt not in str(message), "the refused prompt was shown publicly"
    return str(answer["content"])


async def refusals(env: BotEnv) -> str | None:
    h = env.harness
    rec = await h.slash("usage", {"show": "server"}, user=h.world.owner)
    return field(await ephemeral_answer(h, rec), "Refused prompts")


async def test_prompt_rules_a_blocked_prompt_makes_no_api_call(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5)
    answer = await admin(env, "add", {"rules": "dragon*, blood bath, (a+)+$"})
    assert answer["content"].splitlines()[:2] == ["`dragon*` blocked", "`blood bath` blocked"]
    assert "patterns and punctuation are not taken" in answer["content"]
    shown = await admin(env, "show")
    assert embed(shown)["description"] == "`blood bath`, `dragon*`"

    sent_before = list(env.api_requests)
    said = await refused(env, "Two DRAGONS fighting at dawn")
    assert "`dragon*`" in said
    assert "Nothing was started or charged" in said
    assert "DRAGONS" not in said
    assert env.api_requests == sent_before
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 0
    assert (await env.bot.ledger.month(env.harness.world.guild_id)).held_micros == 0
    assert await refusals(env) == "Blocked words: 1"

    # Taken off: the same prompt goes out.
    assert "no longer blocked" in (await admin(env, "remove", {"rule": "DRAGON*"}))["content"]
    h = env.harness
    rec = await h.slash("video", {"prompt": "Two dragons at dawn"}, user=h.world.alice)
    await h.original(rec, has_card)
    assert env.sim.calls[Operation.CREATE] == 1


async def test_prompt_rules_are_for_server_managers(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5)
    h = env.harness
    rec = await h.slash("limits rules add", {"rules": "cat"}, user=h.world.alice)
    assert (await ephemeral_answer(h, rec))["content"] == "You need Manage Server to do that."


async def test_prompt_rules_moderation_check(start_bot: StartBot) -> None:
    imitation = ModerationImitation()
    async with imitation.serving():
        settings = {"moderation_api_key": KEY, "moderation_base_url": imitation.url}
        env = await start_bot(job_seconds=0.5, settings=settings)
        assert env.sim is not None
        said = await refused(env, "so much gore on the walls")
        assert "flagged your prompt (violence/graphic)" in said
        assert env.sim.calls[Operation.CREATE] == 0
        assert imitation.requests[-1] == {
            "model": "omni-moderation-latest",
            "input": "so much gore on the walls",
        }

        h = env.harness
        rec = await h.slash("video", {"prompt": "a quiet harbour"}, user=h.world.alice)
        await h.original(rec, has_card)
        assert env.sim.calls[Operation.CREATE] == 1

        # The check gives no verdict: the prompt is refused, not sent unchecked.
        imitation.fail_with = 503
        said = await refused(env, "a quiet harbour again")
        assert "not answering" in said
        assert env.sim.calls[Operation.CREATE] == 1
        assert await refusals(env) == (
            "Flagged by the moderation check: 1 · Moderation check not answering: 1"
        )


async def test_prompt_rules_age_restricted_only(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5)
    h, fake = env.harness, env.harness.fake
    nsfw = fake.add_channel(h.world.guild_id, "after-dark")
    nsfw["nsfw"] = True
    h.feed("GUILD_CREATE", fake.guild_create_payload(h.world.guild_id))
    answer = await admin(env, "age-restricted-only", {"on": True})
    assert "only in age-restricted channels" in answer["content"]
    assert field(await admin(env, "show"), "Where") == "Only in age-restricted channels"

    said = await refused(env, "a neon city at night")
    assert "only in age-restricted channels" in said
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 0
    rec = await h.slash(
        "video", {"prompt": "a neon city at night"}, user=h.world.alice, channel_id=int(nsfw["id"])
    )
    await h.original(rec, has_card)
    assert env.sim.calls[Operation.CREATE] == 1
    assert await refusals(env) == "Not an age-restricted channel: 1"


async def test_prompt_rules_a_provider_safety_refusal_is_a_card_state_and_releases(
    start_bot: StartBot,
) -> None:
    sim = make_app(SimulatorConfig(job_seconds=0.3, rate_moderation_failure=1.0))
    env = await start_bot(sim_app=sim)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a storm over the sea"}, user=h.world.alice)
    card = await h.original(rec, lambda m: has_card(m) and status(m).startswith("🛡️"), within=10)
    assert status(card) == "🛡️ Blocked by the provider's safety system"
    assert "nothing is charged" in (field(card, "Why") or "")
    # Released once the ledger follows the job's end (the card may be drawn first).
    month = await env.bot.ledger.month(h.world.guild_id)
    for _ in range(500):
        if month.held_micros == 0:
            break
        await asyncio.sleep(0.01)
        month = await env.bot.ledger.month(h.world.guild_id)
    assert (month.held_micros, month.spent_micros) == (0, 0)
    assert await refusals(env) == "The provider's safety system: 1"


@web.middleware
async def refuse_at_create(request: web.Request, handler: Handler) -> web.StreamResponse:
    """OpenAI's answer to a create its safety system refuses at once (the contract's error
    object with code `moderation_blocked`), for prompts that mention a storm."""
    if request.method == "POST" and request.path == "/v1/videos":
        body = await request.json()
        if "storm" in body.get("prompt", ""):
            error = {
                "message": "Your request was blocked by our moderation system.",
                "type": "invalid_request_error",
                "param": None,
                "code": "moderation_blocked",
            }
            return web.json_response({"error": error}, status=400)
    return await handler(request)


async def test_prompt_rules_a_create_the_provider_refuses_shows_the_blocked_card(
    start_bot: StartBot,
) -> None:
    sim = make_app(SimulatorConfig(job_seconds=0.3))
    sim.middlewares.insert(0, refuse_at_create)
    env = await start_bot(sim_app=sim, settings={"provider_body": "json"})
    h = env.harness
    rec = await h.slash("video", {"prompt": "a storm over the sea"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    assert not h.is_ephemeral(card)
    assert status(card) == "🛡️ Blocked by the provider's safety system"
    month = await env.bot.ledger.month(h.world.guild_id)
    assert (month.held_micros, month.spent_micros) == (0, 0)
    assert await refusals(env) == "The provider's safety system: 1"
    # Nothing was made: the next prompt goes out as usual.
    rec = await h.slash("video", {"prompt": "a calm sea"}, user=h.world.alice)
    assert status(await h.original(rec, has_card)) != status(card)
