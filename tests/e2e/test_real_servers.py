"""The bot through the servers people run: each simulator dialect, and ids no one would choose."""

from __future__ import annotations

import base64
import itertools
import re

import pytest

from bot.simulator import SimulatorConfig, make_app
from bot.videoapi.models import Operation
from bot.videoapi.presets import PRESETS

from .botenv import BotEnv, StartBot
from .fake_discord import walk_components
from .views import (
    JSON,
    button_id,
    card_text,
    custom_ids,
    delivered,
    ephemeral_answer,
    field,
    has_card,
    has_mp4,
    modal_inputs,
    row_when,
    status,
    video_id,
    video_key,
    video_ref,
)

FAST = 0.02
DIALECTS = ("vllm-omni", "sglang", "aquiles")
# Buttons a card shows on a server without remix, edit, extension: what it still serves.
GENERATION_ONLY_BUTTONS = ("thumbnail", "spritesheet", "delete")
CUSTOM_ID_MAX = 100


def webp(env: BotEnv, reply: JSON) -> bytes:
    [attachment] = reply["attachments"]
    data = env.harness.fake.uploads[int(attachment["id"])]
    assert (data[:4], data[8:12]) == (b"RIFF", b"WEBP"), "not a WebP image"
    return data


def opaque_ids() -> itertools.count[int]:
    return itertools.count(1)


def long_id(number: int) -> str:
    """140 characters, with `/` and a closing `=` as in LiteLLM's base64 ids."""
    raw = f"litellm:custom_llm_provider:openai;model_id:sora-2;video_id:{number:08d}???>>>"
    encoded = base64.b64encode(raw.encode().ljust(98, b"~")).decode()
    assert "/" in encoded
    assert encoded.endswith("=")
    assert len(encoded) == 132
    return f"video_x_{encoded}"


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_video_is_delivered_through_each_dialect(start_bot: StartBot, dialect: str) -> None:
    # The server serves what its preset says: Aquiles its own model names.
    profile = PRESETS[dialect]
    env = await start_bot(
        job_seconds=0.5,
        dialect=dialect,
        profile=profile,
        settings={"provider": dialect},
        edit_interval=FAST,
    )
    h = env.harness
    assert env.sim is not None
    rec = await h.slash("video", {"prompt": "a paper boat on a creek"}, user=h.world.alice)
    card = await h.original(rec, has_mp4, within=15)
    assert status(card) == "✅ Done"
    row = await row_when(env.bot.videos, video_id(card), delivered)
    assert (row.model, row.size, row.seconds) == (profile.default_model, "720x1280", "4")
    # Only what the server serves is offered.
    assert custom_ids(card) == [button_id(a, row.key) for a in GENERATION_ONLY_BUTTONS]
    assert env.sim.calls[Operation.CREATE] == 1

    # Each server sends the MP4 whatever variant is asked for: the thumbnail is made from it.
    click = await h.click(card, button_id("thumbnail", row.key), user=h.world.bob)
    reply = await ephemeral_answer(h, click)
    webp(env, reply)

    # A command for a missing operation says so, and asks the server nothing.
    calls = dict(env.sim.calls)
    options = {"video": row.ref, "prompt": "at night"}
    refused = await ephemeral_answer(h, await h.slash("remix", options, user=h.world.bob))
    assert "not supported by this provider" in refused["content"]
    assert dict(env.sim.calls) == calls


async def test_sglang_never_running_still_moves_the_card_to_done(start_bot: StartBot) -> None:
    env = await start_bot(
        job_seconds=0.5, dialect="sglang", settings={"provider": "sglang"}, edit_interval=FAST
    )
    h = env.harness
    rec = await h.slash("video", {"prompt": "a lantern in fog"}, user=h.world.alice)
    card = await h.original(rec, has_mp4, within=15)
    assert status(card) == "✅ Done"


async def test_vllm_omni_gets_multipart_and_json_servers_json(start_bot: StartBot) -> None:
    """vLLM-Omni answers a JSON create with a 400, so its preset sends multipart from the start."""
    env = await start_bot(
        job_seconds=0.2, dialect="vllm-omni", settings={"provider": "vllm-omni"}, edit_interval=FAST
    )
    h = env.harness
    rec = await h.slash("video", {"prompt": "a red kite"}, user=h.world.alice)
    await h.original(rec, has_mp4, within=15)
    assert env.api_requests.count("POST /v1/videos") == 1


async def test_a_generic_profile_learns_a_missing_route_and_hides_its_button(
    start_bot: StartBot,
) -> None:
    """Without a preset, a route the server lacks is found on first use and never offered again."""
    env = await start_bot(job_seconds=0.0, dialect="aquiles", edit_interval=FAST)
    h = env.harness
    first = await h.original(
        await h.slash("video", {"prompt": "dunes"}, user=h.world.alice), has_mp4
    )
    key = video_key(first)
    assert button_id("remix", key) in custom_ids(first)
    opener = await h.click(first, button_id("remix", key), user=h.world.alice)
    await h.response(opener)
    submit = await h.submit_modal(opener, {modal_inputs(opener.modal)["Prompt"]: "at night"})
    reply = await ephemeral_answer(h, submit)
    assert "not supported by this provider" in reply["content"]

    second = await h.original(
        await h.slash("video", {"prompt": "dunes again"}, user=h.world.alice), has_mp4
    )
    assert button_id("remix", video_key(second)) not in custom_ids(second)


async def test_a_long_opaque_id_has_working_buttons_after_a_restart(start_bot: StartBot) -> None:
    sim_app = make_app(SimulatorConfig(job_seconds=0.0))
    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    assert env.sim is not None
    numbers = opaque_ids()
    env.sim.new_video_id = lambda: long_id(next(numbers))
    h = env.harness
    rec = await h.slash("video", {"prompt": "a lighthouse at dusk"}, user=h.world.alice)
    card = await h.original(rec, has_mp4)
    video = video_id(card)
    assert len(video) == 140
    assert "/" in video
    assert video.endswith("=")
    await row_when(env.bot.videos, video, delivered)
    assert all(len(i) <= CUSTOM_ID_MAX for i in custom_ids(card))
    assert all(re.fullmatch(r"videobot:v2:[a-z-]+:\d+", i) for i in custom_ids(card))
    await h.close()

    env = await start_bot(sim_app=sim_app, edit_interval=FAST)
    h = env.harness
    thumb = await h.click(card, button_id("thumbnail", video_key(card)), user=h.world.bob)
    webp(env, await ephemeral_answer(h, thumb))

    opener = await h.click(card, button_id("remix", video_key(card)), user=h.world.bob)
    await h.response(opener)
    submit = await h.submit_modal(opener, {modal_inputs(opener.modal)["Prompt"]: "now at night"})
    new = await h.original(submit, has_card)
    assert video_ref(card) in (field(new, "Remix of") or "")
    child = await env.bot.videos.get(video_id(new))
    assert child is not None
    assert (child.parent_id, child.owner_id) == (video, int(h.world.bob["id"]))
    done = await h.original(submit, has_mp4)
    assert "now at night" in card_text(done)


async def test_a_card_posted_with_the_v1_template_still_works(start_bot: StartBot) -> None:
    """Cards posted before keys carry the provider's id; they keep working after the upgrade."""
    env = await start_bot(job_seconds=0.0, edit_interval=FAST)
    h = env.harness
    card = await h.original(
        await h.slash("video", {"prompt": "a kite"}, user=h.world.alice), has_mp4
    )
    video = video_id(card)
    await row_when(env.bot.videos, video, delivered)
    # As the card was posted by the bot before the upgrade: v1 ids name the provider's id.
    buttons = walk_components(h.fake.messages[int(card["id"])]["components"])
    for component in (c for c in buttons if "custom_id" in c):
        action = component["custom_id"].split(":")[2]
        component["custom_id"] = f"videobot:v1:{action}:{video}"
    click = await h.click(card, f"videobot:v1:thumbnail:{video}", user=h.world.bob)
    webp(env, await ephemeral_answer(h, click))
    ask = await h.click(card, f"videobot:v1:delete:{video}", user=h.world.alice)
    question = await ephemeral_answer(h, ask)
    assert custom_ids(question) == [button_id("confirm-delete", video_key(card))]
