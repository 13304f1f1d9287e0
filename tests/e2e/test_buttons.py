"""The buttons on a result card, clicked in the process that posted it and after a restart."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from aiohttp import web

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation

from .botenv import BotEnv, StartBot
from .fake_discord import FakeInteraction
from .views import (
    JSON,
    assert_deleted,
    button_id,
    card_text,
    custom_ids,
    delivered,
    ephemeral_answer,
    field,
    has_card,
    has_mp4,
    modal_inputs,
    public,
    result_ids,
    row_when,
    status,
    video_id,
    video_key,
    video_ref,
)

RESTART = pytest.mark.parametrize("restart", [False, True], ids=["same-process", "after-restart"])
EXPIRED = "The provider's files for this video have expired."
# Coalescing is tested elsewhere; here a card may be edited as soon as its job moves.
FAST = 0.02


def button(action: str, card: JSON) -> str:
    return button_id(action, video_key(card))


async def result_card(
    start_bot: StartBot, *, restart: bool, sim_app: Any = None
) -> tuple[BotEnv, JSON, str]:
    """Alice's delivered card, and the bot to click it on: the same one, or a restarted one."""
    # Jobs finish as soon as they are made: what is under test is what comes after.
    sim_app = sim_app or make_app(SimulatorConfig(job_seconds=0.0))
    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a lighthouse at dusk"}, user=h.world.alice)
    card = await h.original(rec, has_mp4)
    video = video_id(card)
    await row_when(env.bot.videos, video, delivered)
    assert custom_ids(card) == result_ids(video_key(card))
    if restart:
        await h.close()
        env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    return env, card, video


def live(env: BotEnv, message: JSON) -> JSON:
    return env.harness.fake.messages[int(message["id"])]


async def answer(env: BotEnv, rec: FakeInteraction) -> JSON:
    return await ephemeral_answer(env.harness, rec)


@RESTART
@pytest.mark.parametrize(
    ("kind", "operation", "lineage"),
    [("remix", Operation.REMIX, "Remix of"), ("edit", Operation.EDIT, "Edit of")],
)
async def test_remix_and_edit_make_the_clickers_own_job(
    start_bot: StartBot, restart: bool, kind: str, operation: Operation, lineage: str
) -> None:
    env, card, parent = await result_card(start_bot, restart=restart)
    h, bob = env.harness, env.harness.world.bob
    assert custom_ids(live(env, card)) == result_ids(video_key(card))

    opener = await h.click(card, button(kind, card), user=bob)
    await h.response(opener)
    assert opener.response_type == 9
    assert opener.modal is not None
    assert opener.modal["title"] == f"{kind.capitalize()} this video"
    inputs = modal_inputs(opener.modal)
    assert list(inputs) == ["Prompt"]
    assert env.sim.calls[operation] == 0

    submit = await h.submit_modal(opener, {inputs["Prompt"]: "now at night"})
    new = await h.original(submit, has_card)
    assert not h.is_ephemeral(new)
    assert field(new, "By") == f"<@{bob['id']}>"
    shown = field(new, lineage) or ""
    assert video_ref(card) in shown
    assert f"by <@{h.world.alice['id']}>" in shown
    assert "now at night" in card_text(new)
    child = await env.bot.videos.get(video_id(new))
    assert child is not None
    assert (child.owner_id, child.parent_id, child.kind) == (int(bob["id"]), parent, kind)
    assert env.sim.calls[operation] == 1

    done = await h.original(submit, has_mp4)
    assert custom_ids(done) == result_ids(child.key)
    assert field(done, lineage) is not None


@RESTART
async def test_extend_checks_seconds_before_calling_the_api(
    start_bot: StartBot, restart: bool
) -> None:
    env, card, parent = await result_card(start_bot, restart=restart)
    h, bob = env.harness, env.harness.world.bob

    opener = await h.click(card, button("extend", card), user=bob)
    await h.response(opener)
    assert opener.response_type == 9
    inputs = modal_inputs(opener.modal)
    assert list(inputs) == ["Prompt", "Seconds to add (4, 8, 12, 16, 20)"]
    seconds = inputs["Seconds to add (4, 8, 12, 16, 20)"]

    bad = await h.submit_modal(opener, {inputs["Prompt"]: "the tide comes in", seconds: "5"})
    reply = await answer(env, bad)
    assert "seconds must be one of 4, 8, 12, 16, 20 for sora-2, not '5'" in reply["content"]
    assert env.sim.calls[Operation.EXTEND] == 0
    assert [m["id"] for m in public(h)] == [card["id"]]

    # The modal stays open after a refusal: fixing the value goes through.
    good = await h.submit_modal(opener, {inputs["Prompt"]: "the tide comes in", seconds: "8"})
    new = await h.original(good, has_card)
    assert field(new, "By") == f"<@{bob['id']}>"
    assert video_ref(card) in (field(new, "Extension of") or "")
    child = await env.bot.videos.get(video_id(new))
    assert child is not None
    assert (child.owner_id, child.parent_id, child.kind) == (int(bob["id"]), parent, "extend")
    assert env.sim.calls[Operation.EXTEND] == 1
    done = await h.original(good, has_mp4)
    assert custom_ids(done) == result_ids(child.key)


@RESTART
@pytest.mark.parametrize("variant", ["thumbnail", "spritesheet"])
async def test_thumbnail_and_spritesheet_come_back_ephemerally(
    start_bot: StartBot, restart: bool, variant: str
) -> None:
    env, card, _ = await result_card(start_bot, restart=restart)
    h = env.harness
    rec = await h.click(card, button(variant, card), user=h.world.bob)
    reply = await answer(env, rec)
    [attachment] = reply["attachments"]
    assert attachment["filename"] == f"video-{video_key(card)}-{variant}.webp"
    data = h.fake.uploads[int(attachment["id"])]
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    assert len(h.messages(visible_to=h.world.alice)) == 1  # nothing for the channel to see


@pytest.mark.parametrize("how", ["expires_at", "gone-upstream"])
async def test_expired_assets_get_a_clear_answer(start_bot: StartBot, how: str) -> None:
    env, card, video = await result_card(start_bot, restart=False)
    h = env.harness
    if how == "expires_at":
        sql = "UPDATE videos SET expires_at = ? WHERE id = ?"
        await env.bot.db.execute(sql, (int(time.time()) - 60, video))
    else:
        del env.sim.jobs[video]
    downloads = env.sim.calls[Operation.DOWNLOAD]
    for variant in ("thumbnail", "spritesheet"):
        rec = await h.click(card, button(variant, card), user=h.world.alice)
        reply = await answer(env, rec)
        assert reply["content"] == EXPIRED
        assert not reply["attachments"]
    if how == "expires_at":
        assert env.sim.calls[Operation.DOWNLOAD] == downloads


async def confirm_and_delete(env: BotEnv, card: JSON, video: str, user: JSON) -> None:
    h = env.harness
    ask = await h.click(card, button("delete", card), user=user)
    question = await answer(env, ask)
    assert "cannot be undone" in question["content"]
    assert custom_ids(question) == [button("confirm-delete", card)]
    assert env.sim.calls[Operation.DELETE] == 0
    confirm = await h.click(question, button("confirm-delete", card), user=user)
    await h.wait_for(lambda: live(env, question)["content"] == "Deleted.", what="Deleted.")
    assert confirm.response_type is not None


@RESTART
async def test_owner_deletes_after_confirming(start_bot: StartBot, restart: bool) -> None:
    env, card, video = await result_card(start_bot, restart=restart)
    alice = env.harness.world.alice
    await confirm_and_delete(env, card, video, alice)
    await assert_deleted(env, card, video, alice)


async def test_a_confirmation_from_before_a_restart_still_deletes(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=0.0))
    env, card, video = await result_card(start_bot, restart=False, sim_app=sim_app)
    h = env.harness
    alice = h.world.alice
    ask = await h.click(card, button("delete", card), user=alice)
    question = await answer(env, ask)
    await h.close()

    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    h = env.harness
    await h.click(question, button("confirm-delete", card), user=alice)
    await h.wait_for(lambda: live(env, question)["content"] == "Deleted.", what="Deleted.")
    await assert_deleted(env, card, video, alice)


async def test_moderator_may_delete(start_bot: StartBot) -> None:
    env, card, video = await result_card(start_bot, restart=False)
    moderator = env.harness.world.moderator
    await confirm_and_delete(env, card, video, moderator)
    await assert_deleted(env, card, video, moderator)


async def test_non_owner_delete_is_refused(start_bot: StartBot) -> None:
    env, card, video = await result_card(start_bot, restart=False)
    h = env.harness
    world = h.world
    before = Counter(env.sim.calls)

    rec = await h.click(card, button("delete", card), user=world.bob)
    reply = await answer(env, rec)
    assert reply["content"].startswith("Only the owner can delete this video")
    assert reply["components"] == []

    # Nor can a confirmation be used by anyone but who may delete.
    ask = await h.click(card, button("delete", card), user=world.alice)
    question = await answer(env, ask)
    rec = await h.click(question, button("confirm-delete", card), user=world.bob)
    reply = await answer(env, rec)
    assert reply["content"].startswith("Only the owner can delete this video")

    message = live(env, card)
    assert status(message) == "✅ Done"
    assert custom_ids(message) == result_ids(video_key(card))
    row = await env.bot.videos.get(video)
    assert row is not None
    assert row.deleted_at is None
    assert env.sim.calls == before
    assert video in env.sim.jobs


async def test_media_buttons_and_download_share_a_cooldown_per_member(start_bot: StartBot) -> None:
    env = await start_bot(
        job_seconds=0.0,
        edit_interval=FAST,
        settings={"asset_cooldown_uses": 2, "asset_cooldown_seconds": 600},
    )
    h = env.harness
    alice, bob = h.world.alice, h.world.bob
    rec = await h.slash("video", {"prompt": "a lighthouse at dusk"}, user=alice)
    card = await h.original(rec, has_mp4)
    await row_when(env.bot.videos, video_id(card), delivered)

    for variant in ("thumbnail", "spritesheet"):
        got = await answer(env, await h.click(card, button(variant, card), user=bob))
        assert [a["filename"] for a in got["attachments"]] == [
            f"video-{video_key(card)}-{variant}.webp"
        ]
    downloads = env.sim.calls[Operation.DOWNLOAD]
    before = int(time.time())
    options = {"video": video_id(card), "variant": "video"}
    for third in (
        await h.slash("videos download", options, user=bob),
        await h.click(card, button("thumbnail", card), user=bob),
    ):
        refused = await answer(env, third)
        assert not refused["attachments"]
        text, _, rest = refused["content"].partition("<t:")
        assert text == "Slow down: you can use this again "
        when, _, end = rest.partition(":R>")
        assert end == "."
        assert before + 590 <= int(when) <= int(time.time()) + 600
    # Nothing was fetched for the refused ones, and another member is not held up.
    assert env.sim.calls[Operation.DOWNLOAD] == downloads
    got = await answer(env, await h.click(card, button("thumbnail", card), user=alice))
    assert [a["filename"] for a in got["attachments"]] == [
        f"video-{video_key(card)}-thumbnail.webp"
    ]


# LiteLLM 1.106.12's answer to a remix of a Gemini video: refused before anything was sent
# upstream (tests/videoapi/test_chain_refusals.py has every transformation's).
REMIX_REFUSED = {
    "error": {
        "message": "litellm.APIConnectionError: Video remix is not supported by Google Veo. "
        "Please use video_generation() to create new videos.",
        "type": "internal_server_error",
        "param": None,
        "code": "500",
    }
}


async def test_a_remix_the_gateway_refuses_is_not_supported_and_offers_no_retry(
    start_bot: StartBot,
) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=0.0))
    refused: list[str] = []

    @web.middleware
    async def gemini_behind_litellm(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "POST" and request.path.endswith("/remix"):
            refused.append(request.path)
            return web.json_response(REMIX_REFUSED, status=500)
        return await handler(request)

    sim_app.middlewares.insert(0, gemini_behind_litellm)
    env, card, _ = await result_card(start_bot, restart=False, sim_app=sim_app)
    h, bob = env.harness, env.harness.world.bob

    opener = await h.click(card, button("remix", card), user=bob)
    await h.response(opener)
    submit = await h.submit_modal(opener, {modal_inputs(opener.modal)["Prompt"]: "at night"})
    reply = await answer(env, submit)

    assert reply["content"] == "That is not supported by this provider (remix)."
    assert len(refused) == 1
    # No card for a job that was never made, so no Retry (a new, billed job) either.
    assert [m["id"] for m in public(h)] == [card["id"]]
    assert env.bot.api.unsupported >= {Operation.REMIX}
    again = await h.click(card, button("remix", card), user=bob)
    assert (await answer(env, again))["content"] == reply["content"]
    assert len(refused) == 1
