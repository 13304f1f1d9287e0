"""Two bot processes on one PostgreSQL database: each job followed and delivered by one of them,
and by the survivor when the other dies mid-job."""

from __future__ import annotations

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation
from tests.postgres import PostgresServer

from .botenv import BotEnv, StartBot
from .views import delivered, edits_of, has_card, has_mp4, row_when, status, uploads, video_id

# Lease times compressed: a dead process's jobs are taken over within about 3 s, with room for
# a live one to renew on a machine busy with the rest of the suite.
LEASES = {"lease_seconds": 2.0, "lease_renew_seconds": 0.5, "max_concurrent_jobs_per_user": 5}


async def start_job(env: BotEnv, prompt: str) -> dict[str, object]:
    h = env.harness
    rec = await h.slash("video", {"prompt": prompt}, user=h.world.alice)
    return await h.original(rec, lambda m: has_card(m) and status(m) == "🎬 Generating")


async def kill(env: BotEnv) -> None:
    """What a process that dies leaves behind: nothing renews or delivers, nothing is released."""
    await env.bot.tracker.stop()
    await env.bot.delivery.stop()


async def test_the_survivor_delivers_every_job_once(
    start_bot: StartBot, postgres: PostgresServer
) -> None:
    url = await postgres.new_database()
    # Long enough that no job ends before the kill, however slowly the four are started.
    sim_app = make_app(SimulatorConfig(job_seconds=8.0))
    doomed = await start_bot(sim_app=sim_app, database_url=url, settings=LEASES)
    survivor = await start_bot(sim_app=sim_app, database_url=url, settings=LEASES)
    cards = [await start_job(doomed, f"a lighthouse, take {n}") for n in range(3)]
    cards.append(await start_job(survivor, "a lighthouse, from the other side"))
    jobs = [video_id(card) for card in cards]
    # Each job is followed by exactly one process. (Which one is not asserted: a job may be
    # taken by the other process before its starter leases it; see the issue 12 note.)
    followed = (doomed.bot.tracker.tracked, survivor.bot.tracker.tracked)
    assert followed[0] | followed[1] == frozenset(jobs)
    assert not followed[0] & followed[1]

    fake = survivor.harness.fake
    await kill(doomed)
    assert not uploads(fake)  # mid-job: nothing was finished, nothing posted yet
    for card, job in zip(cards, jobs, strict=True):
        await survivor.harness.wait_for(lambda c=card: has_mp4(fake.messages[int(c["id"])]), 30)
        await row_when(survivor.bot.videos, job, delivered, within=10)
    await survivor.bot.delivery.idle()

    # Exactly one result per card, on that card: the survivor's, the other being dead.
    for card in cards:
        assert len([r for r in edits_of(fake, card["id"]) if r.files]) == 1
    assert len(uploads(fake)) == len(cards)
    assert survivor.sim is not None
    assert survivor.sim.calls[Operation.CREATE] == len(cards)
