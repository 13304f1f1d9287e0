"""Two bot processes on one PostgreSQL database: each job followed and delivered by one of them,
and by the survivor when the other dies mid-job; a job in line started by the process that has
its call."""

from __future__ import annotations

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation
from tests.postgres import PostgresServer

from .botenv import BotEnv, StartBot
from .harness import Upload, png
from .views import delivered, edits_of, has_card, has_mp4, row_when, status, uploads, video_id

WAITING = "⏸️ Waiting for a free slot"

# Lease times compressed: a dead process's jobs are taken over within about 5 s, with room for
# a live one to renew on a machine busy with the rest of the suite.
LEASES = {"lease_seconds": 4.0, "lease_renew_seconds": 1.0, "max_concurrent_jobs_per_user": 5}


async def start_job(env: BotEnv, prompt: str) -> dict[str, object]:
    h = env.harness
    rec = await h.slash("video", {"prompt": prompt}, user=h.world.alice)
    return await h.original(rec, lambda m: has_card(m) and status(m) == "⏳ Queued")


async def kill(env: BotEnv) -> None:
    """What a process that dies leaves behind: nothing renews or delivers, nothing is released."""
    await env.bot.tracker.stop()
    await env.bot.delivery.stop()


async def test_the_survivor_delivers_every_job_once(
    start_bot: StartBot, postgres: PostgresServer
) -> None:
    url = await postgres.new_database()
    # Held until the kill: no job ends before it, however slowly a busy machine starts them.
    sim_app = make_app(SimulatorConfig(job_seconds=3.0, hold=True))
    doomed = await start_bot(sim_app=sim_app, database_url=url, settings=LEASES)
    survivor = await start_bot(sim_app=sim_app, database_url=url, settings=LEASES)
    cards = [await start_job(doomed, f"a lighthouse, take {n}") for n in range(3)]
    cards.append(await start_job(survivor, "a lighthouse, from the other side"))
    jobs = [video_id(card) for card in cards]
    # The first process to start asks the provider about every job; the other asks nothing.
    assert (doomed.bot.tracker.leading, survivor.bot.tracker.leading) == (True, False)
    assert not [r for r in survivor.api_requests if r.startswith("GET")]

    fake = survivor.harness.fake
    await kill(doomed)
    assert not uploads(fake)  # mid-job: nothing was finished, nothing posted yet
    assert survivor.sim is not None
    survivor.sim.release()
    for card, job in zip(cards, jobs, strict=True):
        await survivor.harness.wait_for(lambda c=card: has_mp4(fake.messages[int(c["id"])]), 30)
        await row_when(survivor.bot.videos, job, delivered, within=10)
    await survivor.bot.delivery.idle()
    assert survivor.bot.tracker.leading

    # Exactly one result per card, on that card: the survivor's, the other being dead.
    for card in cards:
        assert len([r for r in edits_of(fake, card["id"]) if r.files]) == 1
    assert len(uploads(fake)) == len(cards)
    assert survivor.sim is not None
    assert survivor.sim.calls[Operation.CREATE] == len(cards)


async def test_a_job_in_line_starts_in_its_own_process_when_the_other_frees_the_slot(
    start_bot: StartBot, postgres: PostgresServer
) -> None:
    url = await postgres.new_database()
    sim_app = make_app(SimulatorConfig(job_seconds=30.0))
    one_each = LEASES | {"max_concurrent_jobs_per_user": 1}
    queuing = await start_bot(sim_app=sim_app, database_url=url, settings=one_each)
    freeing = await start_bot(sim_app=sim_app, database_url=url, settings=one_each)
    running = await start_job(freeing, "a lighthouse at dusk")
    h = queuing.harness
    options = {"prompt": "the ball rolls away", "image": Upload("ball.png", png(720, 1280))}
    rec = await h.slash("video", options, user=h.world.alice)
    queued = await h.original(rec, lambda m: has_card(m) and status(m).startswith(WAITING))

    # The other process follows the running job and sees its slot free first; only this one
    # holds the image, so this one starts the waiting job, on its card.
    assert freeing.sim is not None
    freeing.sim.complete(video_id(running))
    card = int(queued["id"])
    await h.wait_for(lambda: not status(h.fake.messages[card]).startswith(WAITING), 15)
    freeing.sim.complete(video_id(h.fake.messages[card]))
    await h.wait_for(lambda: has_mp4(h.fake.messages[card]), 15)
    assert freeing.sim.calls[Operation.CREATE] == 2
