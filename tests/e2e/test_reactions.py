"""Reactions on result cards: ⏩ extends as the reacting member's job, the owner's ❌ deletes."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.videoapi.models import Operation
from tests import cards

from .botenv import BotEnv, StartBot
from .harness import Harness
from .views import (
    JSON,
    assert_deleted,
    button_id,
    custom_ids,
    delivered,
    field,
    has_card,
    has_mp4,
    public,
    result_ids,
    row_when,
    settle_listeners,
    status,
    unfinished_of,
    video_id,
    video_key,
    video_ref,
)

EXTEND = "⏩"
DELETE = "❌"
DEFAULT_PROMPT = "Continue the scene naturally."
FAST = 0.02


async def start(start_bot: StartBot, **settings: object) -> BotEnv:
    return await start_bot(job_seconds=0.0, edit_interval=FAST, settings=settings or None)


async def result_card(env: BotEnv, prompt: str = "waves on a pier") -> tuple[JSON, str]:
    """Alice's delivered result card."""
    h = env.harness
    rec = await h.slash("video", {"prompt": prompt}, user=h.world.alice)
    card = await h.original(rec, has_mp4)
    video = video_id(card)
    await row_when(env.bot.videos, video, delivered)
    return card, video


def replies_to(h: Harness, card: JSON) -> list[JSON]:
    return [
        m
        for m in public(h)
        if str((m.get("message_reference") or {}).get("message_id")) == card["id"]
    ]


async def test_extend_emoji_extends_as_the_reacting_members_job(start_bot: StartBot) -> None:
    env = await start(start_bot)
    h = env.harness
    bob = h.world.bob
    card, parent = await result_card(env)

    await h.react(card, bob, EXTEND)
    [reply] = await h.wait_for(lambda: replies_to(h, card), what="the extension's card")
    assert cards.texts(reply["components"])[0] == f"<@{bob['id']}> extends this video."
    assert has_card(reply)
    assert field(reply, "By") == f"<@{bob['id']}>"
    assert video_ref(card) in (field(reply, "Extension of") or "")
    assert DEFAULT_PROMPT in cards.texts(reply["components"])
    child = video_id(reply)
    # Its card is the reply: the row says so once Discord has answered the post.
    row = await row_when(env.bot.videos, child, lambda r: r.status_message_id == int(reply["id"]))
    assert (row.owner_id, row.parent_id, row.kind, row.prompt) == (
        int(bob["id"]),
        parent,
        "extend",
        DEFAULT_PROMPT,
    )
    assert env.sim.calls[Operation.EXTEND] == 1

    # The reply is the extension's own status card: it receives the result and its buttons.
    done = await h.wait_for(
        lambda: has_mp4(h.fake.messages[int(reply["id"])]), what="the extension's mp4"
    )
    assert done
    final = h.fake.messages[int(reply["id"])]
    assert status(final) == "✅ Done"
    assert custom_ids(final) == result_ids(video_key(reply))
    # The parent's card is left as it was.
    assert custom_ids(h.fake.messages[int(card["id"])]) == result_ids(video_key(card))


async def test_a_replayed_reaction_starts_one_job(start_bot: StartBot) -> None:
    env = await start(start_bot)
    h = env.harness
    card, _ = await result_card(env)

    payload = await h.react(card, h.world.bob, EXTEND)
    h.feed("MESSAGE_REACTION_ADD", payload)  # the gateway delivers the same event again
    await settle_listeners()
    assert env.sim.calls[Operation.EXTEND] == 1
    [reply] = replies_to(h, card)
    await row_when(env.bot.videos, video_id(reply), delivered)
    assert len(replies_to(h, card)) == 1
    assert env.sim.calls[Operation.EXTEND] == 1


async def test_a_configured_extend_emoji(start_bot: StartBot) -> None:
    env = await start(start_bot, extend_emoji="🔁")
    h = env.harness
    card, _ = await result_card(env)
    await h.react(card, h.world.bob, EXTEND)  # no longer the shortcut
    await settle_listeners()
    assert env.sim.calls[Operation.EXTEND] == 0
    await h.react(card, h.world.bob, "🔁")
    [reply] = await h.wait_for(lambda: replies_to(h, card), what="the extension's card")
    await row_when(env.bot.videos, video_id(reply), delivered)
    assert env.sim.calls[Operation.EXTEND] == 1


def without_reactions(message: JSON) -> JSON:
    return {k: v for k, v in message.items() if k != "reactions"}


async def failed_card(env: BotEnv) -> JSON:
    h = env.harness
    env.set_faults(rate_moderation_failure=1.0)
    rec = await h.slash("video", {"prompt": "something blocked"}, user=h.world.alice)
    # Failed by the provider's safety system, which the card says in its own words.
    blocked = "🛡️ Blocked by the provider's safety system"
    card = await h.original(rec, lambda m: has_card(m) and status(m) == blocked)
    await row_when(env.bot.videos, video_id(card), delivered)
    card = h.fake.messages[int(card["id"])]
    assert custom_ids(card) == [button_id("delete", video_key(card))]
    env.set_faults(rate_moderation_failure=0.0)
    return card


@pytest.mark.parametrize("case", ["failed-job", "not-a-result", "by-a-bot", "by-the-bot"])
async def test_extend_emoji_is_ignored(start_bot: StartBot, case: str) -> None:
    env = await start(start_bot)
    h = env.harness
    world = h.world
    reactor: JSON = world.bob
    if case == "failed-job":
        message = await failed_card(env)
    elif case == "not-a-result":
        message = h.fake.add_message(world.channel_id, world.alice, "look at this")
    else:
        message, _ = await result_card(env)
        if case == "by-a-bot":
            reactor = h.fake.add_user("otherbot", bot=True)
            h.fake.add_member(world.guild_id, reactor)
        else:
            reactor = h.fake.bot_user
    before = Counter(env.sim.calls)
    shown = [without_reactions(m) for m in public(h)]

    await h.react(message, reactor, EXTEND)
    await settle_listeners()
    assert env.sim.calls == before
    assert [without_reactions(m) for m in public(h)] == shown
    assert await unfinished_of(env.bot.videos, int(reactor["id"])) == 0


async def test_delete_emoji_by_someone_else_is_ignored(start_bot: StartBot) -> None:
    env = await start(start_bot)
    h = env.harness
    card, video = await result_card(env)
    await h.react(card, h.world.bob, DELETE)
    await settle_listeners()
    row = await env.bot.videos.get(video)
    assert row is not None
    assert row.deleted_at is None
    assert env.sim.calls[Operation.DELETE] == 0
    message = h.fake.messages[int(card["id"])]
    assert status(message) == "✅ Done"
    assert custom_ids(message) == result_ids(video_key(card))


async def test_owners_delete_emoji_deletes(start_bot: StartBot) -> None:
    env = await start(start_bot)
    h = env.harness
    alice = h.world.alice
    card, video = await result_card(env)
    await h.react(card, alice, DELETE)
    await settle_listeners()
    await assert_deleted(env, card, video, alice)


async def test_a_bug_while_extending_by_reaction_is_told_with_an_error_id(
    start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = await start(start_bot)
    h = env.harness
    bob = h.world.bob
    card, _ = await result_card(env)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug while the call is out")

    monkeypatch.setattr(env.bot.api, "extend", broken)
    h.allow_errors()
    await h.react(card, bob, EXTEND)

    def notice() -> JSON | None:
        return next((m for m in public(h) if m["content"].startswith(f"<@{bob['id']}> ")), None)

    told = await h.wait_for(notice, what="a notice for the reacting member")
    assert "Something went wrong on my side" in told["content"]
    assert "quote error `" in told["content"]
    # Nothing of the job is left: Bob's slots and reservation are free.
    assert await unfinished_of(env.bot.videos, int(bob["id"])) == 0
    assert await env.bot.ledger.open_entries() == []
