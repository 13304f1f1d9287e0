"""Every finished video reaches its owner: outages, lost answers, crashes, dead forms (issue 9)."""

from __future__ import annotations

import copy

from bot.simulator import SimulatorConfig, make_app
from bot.storage.videos import NOT_CONFIRMED
from bot.videoapi.models import Operation

from .botenv import BotEnv, StartBot
from .views import (
    JSON,
    attachment_names,
    button_id,
    card_text,
    custom_ids,
    delivered,
    ephemeral_answer,
    field,
    has_card,
    has_mp4,
    mentions,
    modal_inputs,
    public,
    row_when,
    status,
    video_id,
    video_key,
)

FAST = 0.02
# Delivery retries quickly here; in production it waits 30 s, doubling up to 10 min.
RETRY = {"delivery_retry_seconds": 0.3, "delivery_retry_max_seconds": 0.6}


def jobs_made(env: BotEnv) -> int:
    assert env.sim is not None
    return len(env.sim.jobs)


async def test_a_download_outage_delays_the_result_and_never_strands_it(
    start_bot: StartBot,
) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=0.5))
    env = await start_bot(sim_app=sim_app, settings=RETRY, edit_interval=FAST)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a tide pool"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    env.set_faults(unavailable_operations=frozenset({Operation.DOWNLOAD}))

    def waiting() -> bool:
        note = field(h.fake.messages[int(card["id"])], "Note") or ""
        return "Posting it failed, so I'll try again" in note

    await h.wait_for(waiting, 15, what="the card to say it retries")
    row = await env.bot.videos.get(video_id(card))
    assert row is not None
    assert row.delivery_attempts >= 1
    assert row.delivered_at is None

    # A restart in the middle keeps the schedule, and the result lands once.
    await h.close()
    env.set_faults(unavailable_operations=frozenset())
    env = await start_bot(sim_app=sim_app, settings=RETRY, edit_interval=FAST)
    h = env.harness
    await h.wait_for(lambda: has_mp4(h.fake.messages[int(card["id"])]), 15, what="the mp4")
    await row_when(env.bot.videos, video_id(card), delivered)
    assert status(h.fake.messages[int(card["id"])]) == "✅ Done"
    assert len([m for m in public(h) if m.get("attachments")]) == 1
    h.allow_errors()


async def test_files_gone_at_the_provider_end_the_job_failed_and_say_so(
    start_bot: StartBot,
) -> None:
    env = await start_bot(job_seconds=0.3, settings=RETRY, edit_interval=FAST)
    h = env.harness
    assert env.sim is not None
    env.set_faults(unavailable_operations=frozenset({Operation.DOWNLOAD}))
    rec = await h.slash("video", {"prompt": "a comet"}, user=h.world.alice)
    card = await h.original(rec, has_card)
    video = video_id(card)
    await row_when(env.bot.videos, video, lambda r: r.delivery_attempts >= 1)
    del env.sim.jobs[video]
    env.set_faults(unavailable_operations=frozenset())
    done = await h.wait_for(
        lambda: status(h.fake.messages[int(card["id"])]) == "❌ Failed", 15, what="the failure"
    )
    assert done
    message = h.fake.messages[int(card["id"])]
    assert "no longer" in (field(message, "Why") or "")
    row = await row_when(env.bot.videos, video, delivered)
    assert row.error_code in ("expired", "not_found")
    h.allow_errors()


async def test_a_lost_answer_whose_job_exists_is_adopted_without_a_second_job(
    start_bot: StartBot,
) -> None:
    env = await start_bot(
        job_seconds=0.3,
        rate_500_after_create=1.0,
        edit_interval=FAST,
        reconcile_wait=0.05,
    )
    h = env.harness
    rec = await h.slash("video", {"prompt": "a lantern festival"}, user=h.world.alice)
    done = await h.original(rec, has_mp4, within=15)
    assert status(done) == "✅ Done"
    assert jobs_made(env) == 1
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 1
    assert video_id(done) in env.sim.jobs


async def test_a_lost_answer_with_no_job_offers_retry_which_makes_one(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.3, rate_500=1.0, edit_interval=FAST, reconcile_wait=0.05)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a glass harbour"}, user=h.world.alice)
    card = await h.original(rec, lambda m: has_card(m) and status(m) == "❌ Failed", within=10)
    key = video_key(card)
    assert custom_ids(card) == [button_id("retry", key)]
    assert "not among its videos" in (field(card, "Why") or "")
    assert jobs_made(env) == 0
    seen = copy.deepcopy(card)  # the fake edits its messages in place

    env.set_faults(rate_500=0.0)
    # Only the owner may retry it, and only once.
    other = await h.click(card, button_id("retry", key), user=h.world.bob)
    assert "Only whoever asked" in (await ephemeral_answer(h, other))["content"]
    retry = await h.click(card, button_id("retry", key), user=h.world.alice)
    new = await h.original(retry, has_mp4, within=15)
    assert "a glass harbour" in card_text(new)
    # Once retried the card offers Delete instead of Retry; a client that has not drawn that
    # edit yet still shows Retry, and the bot refuses it.
    again = await h.click(seen, button_id("retry", key), user=h.world.alice, stale=True)
    assert "retried already" in (await ephemeral_answer(h, again))["content"]
    assert jobs_made(env) == 1


async def test_a_call_out_when_the_bot_stopped_is_found_after_the_restart(
    start_bot: StartBot,
) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=0.3))
    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    h = env.harness
    alice = int(h.world.alice["id"])
    # As a stop during the call leaves them: one made at the provider, one never sent.
    made = await env.bot.videos.begin_submit(
        owner_id=alice,
        guild_id=h.world.guild_id,
        channel_id=h.world.channel_id,
        kind="create",
        prompt="made before the stop",
        model="sora-2",
        size="720x1280",
        seconds="4",
    )
    assert env.sim is not None
    env.sim.create_job(model="sora-2", size="720x1280", seconds="4", prompt=made.prompt)
    lost = await env.bot.videos.begin_submit(
        owner_id=alice,
        guild_id=h.world.guild_id,
        channel_id=h.world.channel_id,
        kind="create",
        prompt="never reached the provider",
        model="sora-2",
        size="720x1280",
        seconds="4",
    )
    await h.close()

    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    h = env.harness

    def posted(prompt: str) -> JSON | None:
        found = [m for m in public(h) if has_card(m) and prompt in card_text(m)]
        return found[-1] if found else None

    adopted = await h.wait_for(lambda: posted(made.prompt), 15, what="the adopted job's card")
    await h.wait_for(lambda: has_mp4(h.fake.messages[int(adopted["id"])]), 15)
    assert mentions(adopted, h.world.alice)
    told = await h.wait_for(lambda: posted(lost.prompt), 15, what="the lost job's card")
    assert mentions(told, h.world.alice)
    assert status(told) == "❌ Failed"
    assert custom_ids(told) == [button_id("retry", lost.key)]
    row = await env.bot.videos.get_by_key(lost.key)
    assert row is not None
    assert row.error_code == NOT_CONFIRMED
    assert len(env.sim.jobs) == 1


async def test_a_card_discord_refuses_still_gets_its_result(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5, edit_interval=FAST)
    h = env.harness
    hook = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"
    h.fake.inject_error(hook, 403, 50001, "Missing Access", count=1)
    rec = await h.slash("video", {"prompt": "a kite festival"}, user=h.world.alice)
    result = await h.wait_for(
        lambda: next((m for m in public(h) if has_mp4(m)), None), 15, what="the result"
    )
    assert mentions(result, h.world.alice)
    assert attachment_names(result) == [f"video-{video_key(result)}.mp4"]
    assert rec.response_type is not None
    h.allow_errors()


async def test_a_form_opened_before_a_restart_is_answered_after_it(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=0.0))
    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    h = env.harness
    card = await h.original(
        await h.slash("video", {"prompt": "a lighthouse"}, user=h.world.alice), has_mp4
    )
    await row_when(env.bot.videos, video_id(card), delivered)
    opener = await h.click(card, button_id("remix", video_key(card)), user=h.world.bob)
    await h.response(opener)
    assert opener.modal is not None
    assert opener.modal["custom_id"] == f"videobot:v2:form:remix:{video_key(card)}"
    inputs = modal_inputs(opener.modal)
    await h.close()

    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    h = env.harness
    too_long = await h.submit_modal(opener, {inputs["Prompt"]: "x" * 4001})
    assert "at most 4,000 characters" in (await ephemeral_answer(h, too_long))["content"]
    submit = await h.submit_modal(opener, {inputs["Prompt"]: "now at night"})
    new = await h.original(submit, has_mp4, within=15)
    assert field(new, "By") == f"<@{h.world.bob['id']}>"


async def test_an_unknown_videobot_button_says_it_no_longer_works(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.0, edit_interval=FAST)
    h = env.harness
    message = h.fake.add_message(
        h.world.channel_id,
        h.fake.bot_user,
        "old",
        components=[
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": "Old", "custom_id": "videobot:v0:zap:9"}
                ],
            }
        ],
    )
    rec = await h.click(message, "videobot:v0:zap:9", user=h.world.alice, settle=0.0)
    reply = await ephemeral_answer(h, rec)
    assert reply["content"] == "This button no longer works; run the command again."


async def test_a_finished_card_says_how_long_it_took(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.5, edit_interval=FAST)
    h = env.harness
    done = await h.original(
        await h.slash("video", {"prompt": "a fox"}, user=h.world.alice), has_mp4
    )
    took = field(done, "Took") or ""
    assert took.endswith(" s")
    assert "min" not in took


async def test_videos_download_of_a_video_over_the_limit_sends_it_fitted(
    start_bot: StartBot,
) -> None:
    """Once a 413 ("Something went wrong"); now the same fitting as the card's."""
    env = await start_bot(job_seconds=0.0, big_assets=True, edit_interval=FAST)
    h = env.harness
    h.fake.set_attachment_limit(10 * 1024 * 1024)
    card = await h.original(
        await h.slash("video", {"prompt": "a dune"}, user=h.world.alice), has_mp4
    )
    rec = await h.slash("videos download", {"video": f"#{video_key(card)}"}, user=h.world.bob)
    reply = await ephemeral_answer(h, rec, within=15)
    [attachment] = reply["attachments"]
    assert attachment["filename"] == f"video-{video_key(card)}.mp4"
    assert attachment["size"] < 10 * 1024 * 1024
