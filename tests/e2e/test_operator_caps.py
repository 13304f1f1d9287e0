"""The operator's money under hostile use: ceilings a server's admins cannot lift, a budget
for the whole bot, servers it may stay in, and bad input to /limits answered clearly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage import GuildRepository, GuildSettings
from bot.videoapi.models import Operation

from .botenv import StartBot
from .fake_discord import EVERYONE_PERMISSIONS
from .harness import Harness, Upload
from .test_characters import mp4_clip
from .views import embed, ephemeral_answer, field, has_card

MESSAGE_CHARS = 2000


async def set_limit(h: Harness, limit: str, value: str) -> str:
    rec = await h.slash("limits set", {"limit": limit, "value": value}, user=h.world.owner)
    content: str = (await ephemeral_answer(h, rec))["content"]
    return content


async def test_an_admin_can_lower_a_limit_never_lift_or_remove_it(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0, settings={"monthly_budget_usd": "0.40"})
    h = env.harness
    assert await set_limit(h, "monthly_budget", "1000000") == (
        "monthly_budget can be at most $0.40 in this server: that is the ceiling the bot's "
        "operator set. A lower value, or `default` for the ceiling, works."
    )
    assert await set_limit(h, "monthly_budget", "none") == (
        "Monthly budget: the operator's ceiling: $0.40."
    )
    assert await set_limit(h, "seconds_per_member_per_day", "none") == (
        "Seconds per member per day: the operator's ceiling: 120 s."
    )
    assert await set_limit(h, "jobs_per_member", "3") == (
        "jobs_per_member can be at most 2 in this server: that is the ceiling the bot's "
        "operator set. A lower value, or `default` for the ceiling, works."
    )
    # Still the operator's $0.40: one 4-second video, then a refusal.
    await h.original(await h.slash("video", {"prompt": "one"}, user=h.world.alice), has_card)
    rec = await h.slash("video", {"prompt": "two"}, user=h.world.bob)
    assert (await ephemeral_answer(h, rec))["content"].startswith(
        "That video costs $0.40, and this server has $0.00 left of its $0.40 budget"
    )
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 1


async def test_a_limit_set_below_the_ceiling_is_shown_beside_it(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    assert await set_limit(h, "monthly_budget", "2.50") == "Monthly budget: $2.50."
    shown = embed(await ephemeral_answer(h, await h.slash("limits show", user=h.world.owner)))
    assert "**Monthly budget**: $2.50 (ceiling $50.00) · `monthly_budget`" in shown["description"]
    assert "**Unfinished jobs per member**: 2 at once (the ceiling)" in shown["description"]
    rec = await h.slash("usage", {"show": "server"}, user=h.world.owner)
    answer = await ephemeral_answer(h, rec)
    assert (field(answer, "This month") or "").startswith(
        "$0.00 of $2.50, under a ceiling of $50.00 · resets <t:"
    )


async def test_the_operators_higher_ceiling_for_one_server(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0, settings={"monthly_budget_usd": "0.40"})
    h = env.harness
    # What `videobot limits GUILD monthly_budget 200` writes; the bot reads it within a minute,
    # at once after a change of its own.
    guilds = GuildRepository(env.bot.db)
    await guilds.set(h.world.guild_id, "monthly_budget_micros", 200_000_000, "guild_ceilings")
    env.bot.spending.forget(h.world.guild_id)
    assert await set_limit(h, "monthly_budget", "150") == "Monthly budget: $150.00."
    assert (await env.bot.spending.limits(h.world.guild_id)).monthly_budget_micros == 150_000_000


async def test_the_bot_wide_budget_caps_every_server_together(start_bot: StartBot) -> None:
    # Each server may spend $50; the bot may spend $0.40 in all of them.
    env = await start_bot(job_seconds=30.0, settings={"bot_monthly_budget_usd": "0.40"})
    h = env.harness
    other = h.fake.add_guild("Other Guild")
    other_id = int(other["id"])
    channel = h.fake.add_channel(other_id, "general")
    carol = h.fake.add_user("carol")
    h.fake.add_member(other_id, carol)
    h.feed("GUILD_CREATE", h.fake.guild_create_payload(other_id))
    await h.original(await h.slash("video", {"prompt": "one"}, user=h.world.alice), has_card)
    rec = await h.slash("video", {"prompt": "two"}, user=carol, channel_id=int(channel["id"]))
    assert (await ephemeral_answer(h, rec))["content"].startswith(
        "That video costs $0.40, and the bot has $0.00 left of its budget for this month, "
        "shared by every server it is in."
    )
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 1


async def test_concurrent_limit_changes_all_survive(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    changes = {
        "seconds_per_member_per_day": "60",
        "seconds_per_server_per_day": "600",
        "monthly_budget": "3",
        "jobs_per_member": "1",
        "jobs_per_server": "4",
    }
    answers = await asyncio.gather(*(set_limit(h, k, v) for k, v in changes.items()))
    assert len(answers) == 5
    assert await GuildRepository(env.bot.db).get(h.world.guild_id) == GuildSettings(
        h.world.guild_id, 1, 4, 60, 600, 3_000_000
    )


@pytest.mark.parametrize(
    ("limit", "value", "answer"),
    [
        (
            "monthly_budget",
            "1e999999",
            "monthly_budget must be an amount in USD like 25 or 12.50 (at most 6 decimals), "
            "or `default`, not '1e999999'.",
        ),
        ("monthly_budget", "9" * 5000, "monthly_budget must be between $0.00 and $1,000,000.00."),
        (
            "jobs_per_member",
            "9" * 5000,
            "jobs_per_member must be between 1 and 50.",
        ),
        (
            "seconds_per_member_per_day",
            "²",
            "seconds_per_member_per_day must be a whole number of seconds like 120, or "
            "`default`, not '²'.",
        ),
        (
            "monthly_budget",
            "2,50",
            "monthly_budget: '2,50' is ambiguous. Write numbers without commas, with a dot for "
            "cents: 2.50, or 1000.",
        ),
    ],
)
async def test_bad_values_are_answered_clearly(
    start_bot: StartBot, limit: str, value: str, answer: str
) -> None:
    env = await start_bot()
    assert await set_limit(env.harness, limit, value) == answer


@pytest.mark.parametrize("length", [6_000, 10_000])
async def test_a_long_value_is_quoted_short(start_bot: StartBot, length: int) -> None:
    env = await start_bot()
    answer = await set_limit(env.harness, "monthly_budget", "y" * length)
    assert len(answer) <= MESSAGE_CHARS
    assert answer.endswith("not '" + "y" * 39 + "…'.")


async def test_block_and_reset_of_someone_not_in_the_server(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    stranger = h.fake.add_user("stranger")
    rec = await h.slash("limits block", {"member": stranger}, user=h.world.owner)
    assert (await ephemeral_answer(h, rec))["content"] == (
        f"<@{stranger['id']}> is blocked from making videos here."
    )
    assert int(stranger["id"]) in (await env.bot.spending.access(h.world.guild_id)).blocked
    rec = await h.slash("limits reset", {"member": stranger}, user=h.world.owner)
    assert (await ephemeral_answer(h, rec))["content"].startswith(
        f"<@{stranger['id']}>'s seconds for today start again from 0."
    )


async def test_a_role_without_resolved_data_is_not_allowed(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    makers = h.fake.add_role(h.world.guild_id, "Makers", EVERYONE_PERMISSIONS)
    h.feed("GUILD_CREATE", h.fake.guild_create_payload(h.world.guild_id))
    payload = h.command_payload("limits allow", {"role": makers}, user=h.world.owner)
    del payload["data"]["resolved"]
    rec = h._interact(payload)
    assert (await ephemeral_answer(h, rec))["content"] == (
        "Discord didn't tell me which role that is. Pick it from the list."
    )
    assert (await env.bot.spending.access(h.world.guild_id)).roles == frozenset()
    await h.original(await h.slash("video", {"prompt": "still open"}), has_card)


async def test_a_long_allow_list_stays_within_discords_limits(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    guilds = GuildRepository(env.bot.db)
    for n in range(120):
        await guilds.add_access(h.world.guild_id, "channel", 10**17 + n)
        await guilds.add_access(h.world.guild_id, "blocked", 10**17 + n)
    env.bot.spending.forget(h.world.guild_id)
    rec = await h.slash("limits allow", {"channel": h.world.channel_id}, user=h.world.owner)
    answer = (await ephemeral_answer(h, rec))["content"]
    assert len(answer) <= MESSAGE_CHARS
    assert "more" in answer
    shown = embed(await ephemeral_answer(h, await h.slash("limits show", user=h.world.owner)))
    assert len(shown["fields"][0]["value"]) <= 1024


async def test_a_blocked_member_cannot_make_a_character(
    start_bot: StartBot, tmp_path: Path
) -> None:
    env = await start_bot()
    h = env.harness
    data = await mp4_clip(env, tmp_path)
    # Each admin command is answered before the next step, so none is still running at teardown.
    await ephemeral_answer(
        h, await h.slash("limits block", {"member": h.world.alice}, user=h.world.owner)
    )
    rec = await h.slash(
        "character create", {"name": "Nemo", "video": Upload("nemo.mp4", data)}, user=h.world.alice
    )
    assert (await ephemeral_answer(h, rec))["content"] == "You can't make videos in this server."
    art = h.fake.add_channel(h.world.guild_id, "art")
    h.feed("GUILD_CREATE", h.fake.guild_create_payload(h.world.guild_id))
    await ephemeral_answer(
        h, await h.slash("limits allow", {"channel": int(art["id"])}, user=h.world.owner)
    )
    rec = await h.slash(
        "character create", {"name": "Nemo", "video": Upload("nemo.mp4", data)}, user=h.world.bob
    )
    assert (await ephemeral_answer(h, rec))["content"] == (
        f"Videos can be made in this server only in <#{art['id']}>."
    )
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE_CHARACTER] == 0


async def test_characters_have_a_daily_quota(start_bot: StartBot, tmp_path: Path) -> None:
    env = await start_bot(settings={"characters_per_member_per_day": 1})
    h = env.harness
    data = await mp4_clip(env, tmp_path)
    rec = await h.slash("character create", {"name": "One", "video": Upload("a.mp4", data)})
    assert embed(await ephemeral_answer(h, rec))["title"] == "One"
    rec = await h.slash("character create", {"name": "Two", "video": Upload("b.mp4", data)})
    assert (await ephemeral_answer(h, rec))["content"].startswith(
        "You have made your 1 of 1 characters for today. More <t:"
    )
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE_CHARACTER] == 1


async def test_the_bot_leaves_servers_outside_the_allowlist(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    env.bot.settings.allowed_guild_ids = frozenset({h.world.guild_id})
    stranger_guild = h.fake.add_guild("Someone's server")
    stranger_id = int(stranger_guild["id"])
    h.fake.add_member(stranger_id, h.fake.bot_user)
    h.feed("GUILD_CREATE", h.fake.guild_create_payload(stranger_id))
    await h.wait_for(
        lambda: h.fake.member(stranger_id, h.fake.application_id) is None,
        5.0,
        what="the bot to leave",
    )
    assert h.fake.member(h.world.guild_id, h.fake.application_id) is not None


async def test_the_bot_leaves_servers_outside_the_allowlist_at_start(start_bot: StartBot) -> None:
    env = await start_bot(settings={"allowed_guild_ids": "1, 2"})
    h = env.harness
    await h.wait_for(
        lambda: h.fake.member(h.world.guild_id, h.fake.application_id) is None,
        5.0,
        what="the bot to leave",
    )


async def test_two_characters_at_once_cannot_both_pass_the_quota(
    start_bot: StartBot, tmp_path: Path
) -> None:
    env = await start_bot(settings={"characters_per_member_per_day": 1})
    h = env.harness
    data = await mp4_clip(env, tmp_path)
    first = await h.slash("character create", {"name": "One", "video": Upload("a.mp4", data)})
    second = await h.slash("character create", {"name": "Two", "video": Upload("b.mp4", data)})
    answers = [await ephemeral_answer(h, rec) for rec in (first, second)]
    assert embed(answers[0])["title"] == "One"
    assert answers[1]["content"] == "You are making a character already; wait for it first."
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE_CHARACTER] == 1
