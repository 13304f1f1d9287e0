"""Spending limits as members and admins meet them: refusals, prices, /limits and /usage."""

from __future__ import annotations

import asyncio
import io
import re
import time

from PIL import Image

from bot.simulator import SimulatorConfig, make_app
from bot.spending import periods
from bot.videoapi.models import Operation

from .botenv import StartBot
from .fake_discord import EVERYONE_PERMISSIONS
from .views import (
    delivered,
    embed,
    ephemeral_answer,
    ephemeral_reply,
    field,
    has_card,
    has_mp4,
    row_when,
    video_id,
    video_key,
)

RELATIVE = re.compile(r"<t:(\d+):R>")


def resets_at(text: str) -> int:
    found = RELATIVE.search(text)
    assert found, text
    return int(found.group(1))


async def test_a_budget_refusal_says_what_is_left_and_when_it_resets(start_bot: StartBot) -> None:
    # One 4-second sora-2 video costs $0.40: the budget fits exactly one.
    env = await start_bot(job_seconds=30.0, settings={"monthly_budget_usd": "0.40"})
    h = env.harness
    card = await h.original(await h.slash("video", {"prompt": "one"}, user=h.world.alice), has_card)
    assert field(card, "Price") == "$0.40"

    asked_at = time.time()
    rec = await h.slash("video", {"prompt": "two"}, user=h.world.bob)
    answer = await ephemeral_answer(h, rec)
    text = answer["content"]
    assert text.startswith(
        "That video costs $0.40, and this server has $0.00 left of its $0.40 budget for this "
        "month. The budget resets <t:"
    )
    assert resets_at(text) == int(periods.month(asked_at).end)
    assert [m["id"] for m in h.messages() if has_card(m)] == [card["id"]]
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 1


async def test_the_daily_seconds_refuse_with_what_is_left(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0, settings={"daily_seconds_per_user": 6})
    h = env.harness
    alice = h.world.alice
    await h.original(await h.slash("video", {"prompt": "four seconds"}, user=alice), has_card)
    asked_at = time.time()
    rec = await h.slash("video", {"prompt": "four more", "seconds": "4"}, user=alice)
    text = (await ephemeral_answer(h, rec))["content"]
    assert text.startswith(
        "That video needs 4 s, and you have 2 s left of your 6 s for today in this server. "
        "Your seconds reset <t:"
    )
    assert resets_at(text) == int(periods.day(asked_at).end)
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 1


async def test_completion_settles_and_failure_releases(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    assert env.sim is not None
    done = await h.original(await h.slash("video", {"prompt": "ok"}, user=h.world.alice), has_card)
    bad = await h.original(await h.slash("video", {"prompt": "bad"}, user=h.world.bob), has_card)
    env.sim.complete(video_id(done))
    env.sim.fail(video_id(bad))
    ledger = env.bot.ledger
    await row_when(env.bot.videos, video_id(done), delivered)
    await row_when(env.bot.videos, video_id(bad), delivered)

    async def states() -> list[str]:
        keys = (video_key(done), video_key(bad))
        return [e.state for key in keys for e in await ledger.entries_for(key)]

    deadline = asyncio.get_running_loop().time() + 5
    while (found := await states()) != ["settled", "released"]:
        assert asyncio.get_running_loop().time() < deadline, found
        await asyncio.sleep(0.02)
    [settled] = await ledger.entries_for(video_key(done))
    assert (settled.seconds, settled.micros) == (4, 400_000)
    final = await h.original(
        await h.slash("videos show", {"video": f"#{video_key(done)}"}), has_mp4
    )
    assert field(final, "Price") == "$0.40"


async def test_limits_are_for_managers_and_every_value_is_checked(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    owner, alice = h.world.owner, h.world.alice
    rec = await h.slash("limits show", user=alice)
    assert (await ephemeral_answer(h, rec))["content"] == "You need Manage Server to do that."

    rec = await h.slash("limits set", {"limit": "monthly_budget", "value": "lots"}, user=owner)
    assert (await ephemeral_answer(h, rec))["content"] == (
        "monthly_budget must be an amount in USD like 25 or 12.50 (at most 6 decimals), "
        "or `default`, not 'lots'."
    )
    rec = await h.slash("limits set", {"limit": "jobs_per_member", "value": "0"}, user=owner)
    assert (await ephemeral_answer(h, rec))["content"] == (
        "jobs_per_member must be between 1 and 50, not 0."
    )
    rec = await h.slash("limits set", {"limit": "monthly_budget", "value": "12.5"}, user=owner)
    assert (await ephemeral_answer(h, rec))["content"] == "Monthly budget: $12.50."
    rec = await h.slash(
        "limits set", {"limit": "seconds_per_server_per_day", "value": "600"}, user=owner
    )
    assert (await ephemeral_answer(h, rec))["content"] == "Seconds in the server per day: 600 s."
    rec = await h.slash("limits set", {"limit": "jobs_per_member", "value": "default"}, user=owner)
    assert (await ephemeral_answer(h, rec))["content"] == (
        "Unfinished jobs per member: the operator's ceiling: 2 at once."
    )

    shown = embed(await ephemeral_answer(h, await h.slash("limits show", user=owner)))
    assert "**Monthly budget**: $12.50 (ceiling $50.00)" in shown["description"]
    assert "**Seconds per member per day**: 120 s (the ceiling)" in shown["description"]
    assert "**Seconds in the server per day**: 600 s (no ceiling)" in shown["description"]
    assert "Channels: every channel" in shown["fields"][0]["value"]


async def test_blocked_members_and_allowed_channels_and_roles(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    owner, alice = h.world.owner, h.world.alice
    guild = h.world.guild_id
    assert env.sim is not None

    rec = await h.slash("limits block", {"member": alice}, user=owner)
    assert "is blocked from making videos here" in (await ephemeral_answer(h, rec))["content"]
    rec = await h.slash("video", {"prompt": "let me"}, user=alice)
    await h.response(rec)
    assert rec.response_type == 4  # at once, privately: nothing public first
    reply = ephemeral_reply(h, rec)
    assert reply is not None
    assert reply["content"] == "You can't make videos in this server."
    await h.slash("limits unblock", {"member": alice}, user=owner)

    art = h.fake.add_channel(guild, "art")
    h.feed("GUILD_CREATE", h.fake.guild_create_payload(guild))
    rec = await h.slash("limits allow", {"channel": int(art["id"])}, user=owner)
    assert f"<#{art['id']}> is now allowed" in (await ephemeral_answer(h, rec))["content"]
    rec = await h.slash("video", {"prompt": "here?"}, user=alice)
    assert (await ephemeral_answer(h, rec))["content"] == (
        f"Videos can be made in this server only in <#{art['id']}>."
    )
    rec = await h.slash("video", {"prompt": "there"}, user=alice, channel_id=int(art["id"]))
    await h.original(rec, has_card)

    makers = h.fake.add_role(guild, "Makers", EVERYONE_PERMISSIONS)
    carol = h.fake.add_user("carol")
    h.fake.add_member(guild, carol, roles=[makers])
    h.feed("GUILD_CREATE", h.fake.guild_create_payload(guild))
    rec = await h.slash("limits allow", {"role": makers}, user=owner)
    await ephemeral_answer(h, rec)
    rec = await h.slash("video", {"prompt": "no role"}, user=alice, channel_id=int(art["id"]))
    assert (await ephemeral_answer(h, rec))["content"] == (
        f"Making videos in this server needs one of these roles: <@&{makers['id']}>."
    )
    rec = await h.slash("video", {"prompt": "a maker"}, user=carol, channel_id=int(art["id"]))
    await h.original(rec, has_card)
    assert env.sim.calls[Operation.CREATE] == 2


async def test_usage_for_a_member_and_for_the_server(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0, settings={"max_concurrent_jobs_per_user": 1})
    h = env.harness
    owner, alice = h.world.owner, h.world.alice
    await h.original(await h.slash("video", {"prompt": "one"}, user=alice), has_card)
    await h.original(await h.slash("video", {"prompt": "two"}, user=alice), has_card)

    mine = await ephemeral_answer(h, await h.slash("usage", user=alice))
    assert embed(mine)["title"] == "Your usage here"
    assert (field(mine, "Seconds today") or "").startswith("8 s of 120 s · resets <t:")
    assert field(mine, "Videos") == "1 running, 1 waiting · 1 at once"
    assert field(mine, "Spent this month") == "$0.80"

    rec = await h.slash("usage", {"show": "server"}, user=alice)
    assert (await ephemeral_answer(h, rec))["content"] == "You need Manage Server to do that."

    rec = await h.slash("usage", {"show": "server"}, user=owner)
    answer = await ephemeral_answer(h, rec)
    assert embed(answer)["title"].startswith("Usage in Test Guild, ")
    assert (field(answer, "This month") or "").startswith(
        "$0.80 of $50.00, the operator's ceiling ($0.80 held for videos running or waiting)"
        " · resets <t:"
    )
    assert field(answer, "Top members") == f"1. <@{alice['id']}> $0.80 · 8 s"
    [attachment] = answer["attachments"]
    assert attachment["filename"].startswith("usage-")
    assert embed(answer)["image"]["url"] == f"attachment://{attachment['filename']}"
    png = h.fake.uploads[int(attachment["id"])]
    assert Image.open(io.BytesIO(png)).size == (900, 360)


async def test_a_job_that_completed_while_the_bot_was_down_is_settled(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=30.0))
    first = await start_bot(sim_app=sim_app)
    h = first.harness
    card = await h.original(
        await h.slash("video", {"prompt": "overnight"}, user=h.world.alice), has_card
    )
    await h.close()
    assert first.sim is not None
    first.sim.complete(video_id(card))

    second = await start_bot(sim_app=sim_app)
    await row_when(second.bot.videos, video_id(card), delivered, within=10)
    deadline = asyncio.get_running_loop().time() + 5
    while (entry := (await second.bot.ledger.entries_for(video_key(card)))[0]).state != "settled":
        assert asyncio.get_running_loop().time() < deadline, entry
        await asyncio.sleep(0.02)
    assert (entry.seconds, entry.micros) == (4, 400_000)
    assert (await second.bot.ledger.month(second.harness.world.guild_id)).spent_micros == 400_000
