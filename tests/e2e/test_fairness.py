"""A member's jobs beyond their concurrency limit wait in line instead of being refused."""

from __future__ import annotations

import sqlite3

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation

from .botenv import BotEnv, StartBot
from .fake_discord import FakeInteraction
from .harness import Harness
from .views import (
    JSON,
    card_text,
    custom_ids,
    ephemeral_answer,
    has_card,
    row_when,
    status,
    video_id,
    video_key,
)

WAITING = "⏸️ Waiting for a free slot"


def waiting(message: JSON) -> bool:
    return has_card(message) and status(message).startswith(WAITING)


def started(message: JSON) -> bool:
    return has_card(message) and not status(message).startswith(WAITING)


def cancel_id(message: JSON) -> str:
    return f"videobot:v2:cancel:{video_key(message)}"


async def cards(h: Harness, recs: list[FakeInteraction]) -> list[JSON]:
    return [await h.original(rec, has_card) for rec in recs]


async def finish(env: BotEnv, card: JSON) -> None:
    assert env.sim is not None
    job = video_id(card)
    env.sim.complete(job)
    await row_when(env.bot.videos, job, lambda row: row.status == "completed")


async def test_a_third_job_waits_in_line_and_starts_when_a_slot_frees(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=30.0)
    h = env.harness
    alice = h.world.alice
    # Three commands at once: the slot check and the reservation happen in one transaction.
    recs = [
        await h.slash("video", {"prompt": f"a lantern, take {n}"}, user=alice) for n in range(3)
    ]
    shown = await cards(h, recs)
    [queued] = [m for m in shown if waiting(m)]
    running = [m for m in shown if m is not queued]
    assert status(queued) == f"{WAITING}, number 1 in line"
    assert custom_ids(queued) == [cancel_id(queued)]
    assert env.sim.calls[Operation.CREATE] == 2

    # Others are not held back by Alice's line.
    rec = await h.slash("video", {"prompt": "bob's own"}, user=h.world.bob)
    await h.original(rec, started)
    assert env.sim.calls[Operation.CREATE] == 3

    # Once one of hers finishes, the waiting one starts on its own, on the same card.
    await finish(env, running[0])
    card = await h.wait_for(
        lambda: (m := h.fake.messages[int(queued["id"])]) and started(m) and m, within=5
    )
    assert env.sim.calls[Operation.CREATE] == 4
    assert custom_ids(card) == []  # the Cancel button went with the wait
    row = await env.bot.videos.get_by_key(video_key(queued))
    assert row is not None
    assert row.at_provider
    assert row.waiting_since is None


async def test_only_the_owner_cancels_a_waiting_job_and_nothing_is_charged(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=30.0, settings={"max_concurrent_jobs_per_user": 1})
    h = env.harness
    alice = h.world.alice
    await h.original(await h.slash("video", {"prompt": "first"}, user=alice), started)
    queued = await h.original(await h.slash("video", {"prompt": "second"}, user=alice), waiting)
    key = video_key(queued)
    [entry] = await env.bot.ledger.entries_for(key)
    assert entry.state == "reserved"

    click = await h.click(queued, cancel_id(queued), user=h.world.bob)
    answer = await ephemeral_answer(h, click)
    assert "Only whoever asked for this video can cancel it" in answer["content"]

    click = await h.click(queued, cancel_id(queued), user=alice)
    await h.response(click)
    card = h.fake.messages[int(queued["id"])]
    assert "cancelled this video before it started" in card_text(card)
    assert custom_ids(card) == []
    assert await env.bot.videos.get_by_key(key) is None
    # The entry stays in the ledger, released, and no longer names the row.
    with sqlite3.connect(env.db_path) as db:
        kept = db.execute("SELECT state, video_key FROM ledger WHERE id = ?", (entry.id,))
        assert kept.fetchall() == [("released", None)]
    db.close()
    assert env.sim.calls[Operation.CREATE] == 1


async def test_the_line_keeps_its_order_across_a_restart(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=60.0))
    settings = {"max_concurrent_jobs_per_user": 1}
    first = await start_bot(sim_app=sim_app, settings=settings)
    h = first.harness
    alice = h.world.alice
    running = await h.original(await h.slash("video", {"prompt": "now"}, user=alice), started)
    line = []
    for name in ("A", "B"):
        rec = await h.slash("video", {"prompt": f"later {name}"}, user=alice)
        line.append(await h.original(rec, waiting))
    assert [status(m) for m in line] == [f"{WAITING}, number {n} in line" for n in (1, 2)]
    await h.close()

    second = await start_bot(sim_app=sim_app, settings=settings)
    h2 = second.harness
    assert [r.prompt for r in await second.bot.videos.waiting_rows()] == ["later A", "later B"]
    await finish(second, running)
    a_card = await h2.wait_for(lambda: started(h2.fake.messages[int(line[0]["id"])]), within=5)
    assert a_card
    b_card = await h2.wait_for(lambda: h2.fake.messages[int(line[1]["id"])], within=5)
    assert waiting(b_card)
    await h2.wait_for(
        lambda: status(h2.fake.messages[int(line[1]["id"])]) == f"{WAITING}, number 1 in line",
        within=5,
    )
    assert [r.prompt for r in await second.bot.videos.waiting_rows()] == ["later B"]
    assert second.sim is not None
    assert second.sim.calls[Operation.CREATE] == 2  # the first job, then A
