"""A prompt contest from start to results, as members and managers see it in Discord."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import pytest

from bot.simulator import ManualClock
from bot.ui.contest import entry_view
from tests import cards
from tests.contests.driver import (
    DAY,
    HOUR,
    advance,
    answer,
    callbacks_for,
    cog,
    contest,
    make_video,
    run,
    vote,
    vote_id,
)
from tests.postgres import PostgresServer

from .botenv import BotEnv, StartBot
from .fake_discord import FakeDiscord, walk_components
from .harness import Harness, World
from .views import attachment_names, gallery, is_v2

JSON = dict[str, Any]


@pytest.fixture
def clock() -> ManualClock:
    """Contest time for every bot this test starts; it moves only when the test says."""
    return ManualClock(time.time())


@pytest.fixture
def start_bot(start_bot: StartBot, clock: ManualClock) -> StartBot:
    """Every bot of the test, restarts included, reads contest time from `clock`."""
    return functools.partial(start_bot, contest_clock=clock)


def fields(message: JSON) -> dict[str, str]:
    """An announcement's embed fields, or the named values of a Components V2 post."""
    if is_v2(message):
        return cards.facts(message["components"])
    [embed] = message["embeds"]
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def button(message: JSON) -> JSON:
    """An entry post's one button, its Vote."""
    [found] = [c for c in walk_components(message["components"]) if c["type"] == 2]
    return dict(found)


def is_results(message: JSON) -> bool:
    return is_v2(message) and cards.heading(message["components"]).startswith("🏆 Results")


async def start_contest(env: BotEnv, user: JSON, **options: Any) -> int:
    h = env.harness
    text = await run(
        h,
        "contest start",
        {"theme": "cats in space", "submit_for": "2h", "vote_for": "1d", **options},
        user,
    )
    assert text.startswith("Contest #"), text
    return int(text.removeprefix("Contest #").split()[0])


async def test_a_contest_from_start_to_results_across_a_restart(
    start_bot: StartBot, clock: ManualClock
) -> None:
    env = await start_bot()
    h, world = env.harness, env.harness.world
    carol = h.fake.add_user("carol")
    h.fake.add_member(world.guild_id, carol)
    old = await make_video(env, world.alice, clock() - HOUR)

    contest_id = await start_contest(env, world.owner, votes=2)
    row = await contest(env, contest_id)
    assert row.thread_id == row.announcement_id  # the thread is opened on the announcement
    assert row.thread_id is not None
    announcement = h.fake.messages[row.thread_id]
    assert announcement["embeds"][0]["title"] == "🏆 Prompt contest: cats in space"
    assert f"<t:{int(clock() + 2 * HOUR)}:R>" in fields(announcement)["Entries close"]
    assert f"<t:{int(clock() + 2 * HOUR + DAY)}:R>" in fields(announcement)["Voting closes"]

    # Entering: what is refused, and why.
    soon = clock() + 60
    alice_video = await make_video(env, world.alice, soon, prompt="a cat astronaut")
    bob_video = await make_video(env, world.bob, soon, prompt="a cat on the moon")
    failed = await make_video(env, world.alice, soon, status="failed")

    async def submit(user: JSON, video_id: str) -> str:
        return await run(h, "contest submit", {"contest": contest_id, "video": video_id}, user)

    assert "Only your own videos" in await submit(world.alice, bob_video.id)
    assert "made after the contest started" in await submit(world.alice, old.id)
    assert "failed" in await submit(world.alice, failed.id)
    assert "Your entry is in" in await submit(world.alice, alice_video.id)
    assert "already entered" in await submit(world.alice, alice_video.id)
    second = await make_video(env, world.alice, soon)
    assert "1 of the 1 videos allowed" in await submit(world.alice, second.id)
    assert "Your entry is in" in await submit(world.bob, bob_video.id)
    # A withdrawn entry disappears from the thread and frees the member's slot.
    draft = await make_video(env, carol, soon, prompt="a draft")
    assert "Your entry is in" in await submit(carol, draft.id)
    withdrawn = await run(h, "contest withdraw", {"contest": contest_id, "video": draft.id}, carol)
    assert "withdrawn" in withdrawn
    carol_video = await make_video(env, carol, soon, prompt="a cat nebula")
    assert "Your entry is in" in await submit(carol, carol_video.id)
    # Too big to upload here: the entry carries the thumbnail and says so.
    # Within what Discord takes, but over the bot's margin below the 20 MiB limit.
    big = {"big.mp4": b"\0" * (39 * 512 * 1024), "big.webp": b"RIFF thumb"}
    mod_video = await make_video(env, world.moderator, soon, prompt="a cat comet", files=big)
    assert "Your entry is in" in await submit(world.moderator, mod_video.id)

    entries = await cog(env).service.contests.entries(contest_id)
    assert [e.prompt for e in entries] == [
        "a cat astronaut",
        "a cat on the moon",
        "a cat nebula",
        "a cat comet",
    ]
    posts = {e.id: h.fake.messages[e.message_id or 0] for e in entries}
    e_alice, e_bob, e_carol, e_mod = entries
    assert attachment_names(posts[e_alice.id]) == [f"{alice_video.id}.mp4"]
    # The entry plays its video in its own post, above its Vote button.
    assert gallery(posts[e_alice.id]) == [f"attachment://{alice_video.id}.mp4"]
    assert fields(posts[e_alice.id])["By"] == f"<@{world.alice['id']}>"
    assert attachment_names(posts[e_mod.id]) == ["big.webp"]
    assert gallery(posts[e_mod.id]) == ["attachment://big.webp"]
    assert "thumbnail" in fields(posts[e_mod.id])["Note"]
    posted = [m["id"] for m in h.messages(row.thread_id) if is_v2(m)]
    assert posted == [str(e.message_id) for e in entries]  # the draft's post was deleted
    assert "Voting opens" in await vote(h, posts[e_bob.id], e_bob.id, world.alice)

    # Entries close: the announcement and the thread say voting is open.
    advance(env, clock, 2 * HOUR)
    await h.wait_for(
        lambda: any("voting is open" in m["content"] for m in h.messages(row.thread_id)),
        what="voting to open",
    )
    assert "Voting is open" in h.fake.messages[row.thread_id]["embeds"][0]["description"]
    late = await make_video(env, world.owner, clock() - 60)
    assert "Entries for contest" in await submit(world.owner, late.id)

    # Voting: not for oneself, pressing again takes it back, a budget of two.
    assert "your own entry" in await vote(h, posts[e_alice.id], e_alice.id, world.alice)
    assert await vote(h, posts[e_bob.id], e_bob.id, world.alice) == "Vote counted (1 of 2 left)."
    assert await vote(h, posts[e_bob.id], e_bob.id, world.alice) == "Vote withdrawn (2 of 2 left)."
    assert await vote(h, posts[e_bob.id], e_bob.id, world.alice) == "Vote counted (1 of 2 left)."
    # The same click event delivered twice counts once and is answered once.
    payload = h.component_payload(posts[e_carol.id], vote_id(e_carol.id), user=world.alice)
    click = h.fake.register_interaction(payload)
    h.feed("INTERACTION_CREATE", payload)
    assert await answer(h, click) == "Vote counted (0 of 2 left)."
    h.feed("INTERACTION_CREATE", payload)
    await asyncio.sleep(0.2)
    assert callbacks_for(h, click) == 1
    assert await cog(env).service.contests.vote_count(e_carol.id) == 1
    assert "all 2 of your votes" in await vote(h, posts[e_mod.id], e_mod.id, world.alice)
    robot = h.fake.add_user("robot", bot=True)
    h.fake.add_member(world.guild_id, robot)
    assert "Bots can't vote" in await vote(h, posts[e_mod.id], e_mod.id, robot)
    assert "secret" in await run(h, "contest leaderboard", {"contest": contest_id}, world.bob)

    # A restart in the voting phase: the old posts' buttons still count votes.
    await h.close()
    env = await start_bot()
    h = env.harness
    assert await vote(h, posts[e_carol.id], e_carol.id, world.bob) == "Vote counted (1 of 2 left)."
    assert await vote(h, posts[e_bob.id], e_bob.id, world.owner) == "Vote counted (1 of 2 left)."
    assert await vote(h, posts[e_alice.id], e_alice.id, world.moderator) == (
        "Vote counted (1 of 2 left)."
    )

    # The deadline: the contest closes by itself and the results are posted once.
    advance(env, clock, DAY)
    channel_id = world.channel_id

    def results() -> list[JSON]:
        return [m for m in h.messages(channel_id) if is_results(m)]

    [posted_results] = await h.wait_for(results, what="the results")
    places = fields(posted_results)
    # Bob and Carol tie on two votes; Bob entered first.
    assert list(places)[:3] == ["🥇 1st · 2 votes", "🥈 2nd · 2 votes", "🥉 3rd · 1 vote"]
    assert places["🥇 1st · 2 votes"].startswith(f"<@{world.bob['id']}>")
    assert places["🥈 2nd · 2 votes"].startswith(f"<@{carol['id']}>")
    assert places["🥉 3rd · 1 vote"].startswith(f"<@{world.alice['id']}>")
    text = "\n".join(cards.texts(posted_results["components"]))
    assert "> a cat on the moon" in text
    assert f"4. <@{world.moderator['id']}> · 0 votes" in text
    podium = [f"1-entry-{e_bob.id}.mp4", f"2-entry-{e_carol.id}.mp4", f"3-entry-{e_alice.id}.mp4"]
    assert attachment_names(posted_results) == podium
    # The leaderboard plays the podium's videos in one gallery.
    assert gallery(posted_results) == [f"attachment://{name}" for name in podium]
    await h.wait_for(
        lambda: all(button(h.fake.messages[int(p["id"])]).get("disabled") for p in posts.values()),
        what="every Vote button to be turned off",
    )
    frozen = h.fake.messages[int(posts[e_bob.id]["id"])]
    assert button(frozen)["label"] == "Vote · 2"
    # Turning the button off kept the rest of the post: its prompt and its video.
    assert "a cat on the moon" in cards.texts(frozen["components"])
    assert gallery(frozen) == gallery(posts[e_bob.id])
    assert "over" in h.fake.messages[row.thread_id]["embeds"][0]["description"]

    # Nothing posts the results again: not another pass, not /contest end.
    cog(env).service.scheduler.wake()
    ended = await run(h, "contest end", {"contest": contest_id}, world.owner)
    assert ended == f"Contest #{contest_id} is already closed."
    assert len(results()) == 1
    board = await h.original(
        await h.slash("contest leaderboard", {"contest": contest_id}, user=world.bob)
    )
    assert not h.is_ephemeral(board)
    assert "🥇 1st · 2 votes" in fields(board)


async def test_a_deadline_passed_while_the_bot_was_stopped(
    start_bot: StartBot, clock: ManualClock
) -> None:
    env = await start_bot()
    h, world = env.harness, env.harness.world
    contest_id = await start_contest(env, world.owner)
    video = await make_video(env, world.alice, clock() + 1)
    entered = await run(
        h, "contest submit", {"contest": contest_id, "video": video.id}, world.alice
    )
    assert "Your entry is in" in entered
    await h.close()

    clock.advance(2 * HOUR + DAY + 1)
    env = await start_bot()
    h = env.harness
    await h.wait_for(
        lambda: any(is_results(m) for m in h.messages(world.channel_id)),
        what="the results, posted on start",
    )
    row = await contest(env, contest_id)
    assert row.closed_at is not None
    assert row.voting_announced_at is None  # it went straight from entries to results


async def test_who_may_run_contests(start_bot: StartBot, clock: ManualClock) -> None:
    env = await start_bot()
    h, world = env.harness, env.harness.world
    start = {"theme": "dogs", "submit_for": "2h", "vote_for": "1d"}
    assert "Only members with Manage Server can start" in await run(
        h, "contest start", start, world.alice
    )
    for bad, why in (("2 hours", "like 90m"), ("1m", "between 5 min and 60 d"), ("61d", "60 d")):
        options = {**start, "submit_for": bad}
        assert why in await run(h, "contest start", options, world.owner)
    contest_id = await start_contest(env, world.owner)

    refused = await run(h, "contest cancel", {"contest": contest_id}, world.alice)
    assert refused == "Only members with Manage Server can cancel contests."
    assert "Only members with Manage Server" in await run(h, "contest role", {}, world.moderator)

    # A manager role lets its members run contests.
    [mods] = [r for r in h.fake.guilds[world.guild_id]["roles"] if r["name"] == "Moderators"]
    payload = h.command_payload("contest role", {}, user=world.owner)
    # The harness resolves users and channels; a role option is spelled out as Discord sends it.
    payload["data"]["options"][0]["options"] = [{"name": "role", "type": 8, "value": mods["id"]}]
    payload["data"]["resolved"] = {"roles": {mods["id"]: mods}}
    h.fake.register_interaction(payload)
    h.feed("INTERACTION_CREATE", payload)
    set_role = await answer(h, h.fake.interaction(payload))
    assert set_role == (
        f"Members with <@&{mods['id']}> can now run contests, as can those with Manage Server."
    )
    cancelled = await run(h, "contest cancel", {"contest": contest_id}, world.moderator)
    assert cancelled == f"Contest #{contest_id} is cancelled."
    row = await contest(env, contest_id)
    assert row.thread_id is not None
    assert "cancelled" in h.fake.messages[row.thread_id]["embeds"][0]["description"]
    listed = await h.original(await h.slash("contest list", {}, user=world.alice))
    assert f"**#{contest_id}** cats in space: cancelled" in listed["embeds"][0]["description"]

    other = await start_contest(env, world.owner)
    choices = await h.autocomplete("contest submit", {"contest": ""}, "contest", user=world.bob)
    await h.response(choices)
    assert [c["value"] for c in choices.choices or []] == [other, contest_id]


async def test_live_counts_in_another_channel(
    start_bot: StartBot, clock: ManualClock, fake_discord: FakeDiscord, world: World
) -> None:
    contests_channel = fake_discord.add_channel(world.guild_id, "contests")
    env = await start_bot()
    h = env.harness
    await make_video(env, world.alice, clock() - 60)
    contest_id = await start_contest(
        env, world.owner, channel=contests_channel["id"], live_counts=True
    )
    row = await contest(env, contest_id)
    assert row.channel_id == int(contests_channel["id"])
    assert row.thread_id in [int(m["id"]) for m in h.messages(row.channel_id)]

    video = await make_video(env, world.alice, clock() + 1, prompt="a cat in orbit")
    choices = await h.autocomplete(
        "contest submit", {"contest": contest_id, "video": ""}, "video", user=world.alice
    )
    await h.response(choices)
    # Only the caller's videos made since the start are offered.
    assert [(c["name"], c["value"]) for c in choices.choices or []] == [
        ("a cat in orbit", video.id)
    ]
    entered = await run(
        h, "contest submit", {"contest": contest_id, "video": video.id}, world.alice
    )
    assert "Your entry is in" in entered
    [entry] = await cog(env).service.contests.entries(contest_id)
    post = h.fake.messages[entry.message_id or 0]
    assert button(post)["label"] == "Vote · 0"

    advance(env, clock, 2 * HOUR)
    await h.wait_for(
        lambda: any("voting is open" in m["content"] for m in h.messages(row.thread_id)),
        what="voting to open",
    )
    click = await h.click(post, vote_id(entry.id), user=world.bob)
    await h.wait_for(lambda: h.followups(click), what="the voter's receipt")
    [receipt] = h.followups(click)
    assert receipt["content"] == "Vote counted (2 of 3 left)."
    assert h.is_ephemeral(receipt)
    counted = h.fake.messages[int(post["id"])]
    assert button(counted)["label"] == "Vote · 1"
    # The count's edit kept the rest of the post.
    assert gallery(counted) == gallery(post)
    assert "a cat in orbit" in cards.texts(counted["components"])
    # With live counts, everyone may see the standings while voting is open.
    board = await h.original(
        await h.slash("contest leaderboard", {"contest": contest_id}, user=world.bob)
    )
    assert h.is_ephemeral(board)
    assert cards.heading(board["components"]) == "📊 Standings so far: cats in space"


async def test_an_entry_whose_copy_arrives_over_the_limit_is_refused(
    start_bot: StartBot, clock: ManualClock
) -> None:
    env = await start_bot()
    h, world = env.harness, env.harness.world
    contest_id = await start_contest(env, world.owner)
    video = await make_video(env, world.alice, clock() + 60)
    [attachment] = h.fake.messages[video.status_message_id or 0]["attachments"]
    # The card says a few bytes; the CDN sends more than the 19 MiB that may be uploaded here.
    h.fake.uploads[int(attachment["id"])] = bytes(20 * 1024 * 1024)

    text = await run(h, "contest submit", {"contest": contest_id, "video": video.id}, world.alice)

    assert text == f"{attachment['filename']} is over 19 MiB."
    assert await cog(env).service.contests.entries(contest_id) == []


def results_in(h: Harness, channel_id: int) -> list[JSON]:
    return [m for m in h.messages(channel_id) if is_results(m)]


async def closed_unposted(
    start_bot: StartBot, clock: ManualClock, postgres: PostgresServer
) -> tuple[BotEnv, BotEnv, int]:
    """Two processes on one PostgreSQL database, and a contest of one entry that some process
    closed and then stopped before posting its results: both find it in their next pass."""
    url = await postgres.new_database()
    first = await start_bot(database_url=url)
    second = await start_bot(database_url=url)
    h, world = first.harness, first.harness.world
    contest_id = await start_contest(first, world.owner)
    video = await make_video(first, world.alice, clock() + 1)
    entered = await run(
        h, "contest submit", {"contest": contest_id, "video": video.id}, world.alice
    )
    assert "Your entry is in" in entered
    clock.advance(2 * HOUR + DAY + 1)
    assert await cog(first).service.contests.close(contest_id, clock())
    return first, second, contest_id


async def test_processes_sharing_a_database_post_the_results_once(
    start_bot: StartBot, clock: ManualClock, postgres: PostgresServer
) -> None:
    first, second, contest_id = await closed_unposted(start_bot, clock, postgres)
    await asyncio.gather(*(cog(env).service.scheduler.run_due() for env in (first, second)))
    h = first.harness
    [posted] = results_in(h, h.world.channel_id)
    row = await contest(second, contest_id)
    assert row.results_message_id == int(posted["id"])
    thread = h.messages(row.thread_id or 0)
    assert len([m for m in thread if "Voting is over" in m["content"]]) == 1


async def test_results_whose_poster_died_are_posted_once_its_claim_runs_out(
    start_bot: StartBot, clock: ManualClock, postgres: PostgresServer
) -> None:
    _, second, contest_id = await closed_unposted(start_bot, clock, postgres)
    service = cog(second).service
    # A process claimed them and died while posting: the others wait out its claim.
    assert await service.contests.claim_results(contest_id, "gone", clock() + 300, clock())
    assert await service.scheduler.run_due() == clock() + 60
    h = second.harness
    assert results_in(h, h.world.channel_id) == []
    clock.advance(301)
    assert await service.scheduler.run_due() is None
    assert len(results_in(h, h.world.channel_id)) == 1


async def test_a_vote_from_another_server_is_refused(
    start_bot: StartBot, clock: ManualClock
) -> None:
    env = await start_bot()
    h, world, fake = env.harness, env.harness.world, env.harness.fake
    contest_id = await start_contest(env, world.owner)
    video = await make_video(env, world.alice, clock() + 60, prompt="a cat astronaut")
    entered = await run(
        h, "contest submit", {"contest": contest_id, "video": video.id}, world.alice
    )
    assert "Your entry is in" in entered
    [entry] = await cog(env).service.contests.entries(contest_id)
    advance(env, clock, 2 * HOUR)
    thread = (await contest(env, contest_id)).thread_id
    await h.wait_for(
        lambda: any("voting is open" in m["content"] for m in h.messages(thread)),
        what="voting to open",
    )

    # The entry's Vote button, as it would arrive from a message in another server.
    other = fake.add_guild("Elsewhere")
    other_id = int(other["id"])
    channel_id = int(fake.add_channel(other_id, "general")["id"])
    stranger = fake.add_user("stranger")
    fake.add_member(other_id, stranger)
    h.feed("GUILD_CREATE", fake.guild_create_payload(other_id))
    channel = env.bot.get_partial_messageable(channel_id, guild_id=other_id)
    sent = await channel.send("vote here", view=entry_view(entry.id))
    answer_text = await vote(h, fake.messages[sent.id], entry.id, stranger)
    assert answer_text == "This entry was withdrawn, so it can't get votes."
    assert await cog(env).service.contests.vote_count(entry.id) == 0
    # In its own server the same entry takes votes.
    post = fake.messages[entry.message_id or 0]
    assert await vote(h, post, entry.id, world.bob) == "Vote counted (2 of 3 left)."
