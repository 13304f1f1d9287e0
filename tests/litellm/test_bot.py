"""The bot in Discord through the real LiteLLM proxy: what a server admin who points it there sees.

`plain` is the configuration the README recommends: the model list alone. Since 1.108 every id
LiteLLM answers names its model and deployment, so remixes are followed without
`general_settings.completion_model` (`pinned`), which would override the member's model.
"""

from __future__ import annotations

from collections import Counter

from tests.e2e.botenv import BotEnv, StartBot
from tests.e2e.views import (
    JSON,
    button_id,
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
from tests.litellm.conftest import Gateways
from tests.litellm.proxy import MASTER_KEY

FAST = 0.02
# Through LiteLLM a job takes the simulator's 0.6 s plus the proxy's own time.
WITHIN = 30.0


async def bot_on(start_bot: StartBot, gateway: str, provider: str = "litellm") -> BotEnv:
    return await start_bot(
        api_url=f"{gateway}/v1",
        api_key=MASTER_KEY,
        settings={"provider": provider},
        edit_interval=FAST,
    )


async def delivered_card(env: BotEnv, prompt: str) -> JSON:
    h = env.harness
    rec = await h.slash("video", {"prompt": prompt}, user=h.world.alice)
    card = await h.original(rec, has_mp4, within=WITHIN)
    await row_when(env.bot.videos, video_id(card), delivered, within=WITHIN)
    return card


def webp(env: BotEnv, reply: JSON) -> None:
    [attachment] = reply["attachments"]
    data = env.harness.fake.uploads[int(attachment["id"])]
    assert (data[:4], data[8:12]) == (b"RIFF", b"WEBP")


async def test_video_is_delivered_and_its_buttons_work_after_a_restart(
    start_bot: StartBot, gateways: Gateways
) -> None:
    env = await bot_on(start_bot, gateways.plain)
    card = await delivered_card(env, "a calico cat playing piano")
    assert status(card) == "✅ Done"
    video, key = video_id(card), video_key(card)
    assert len(video) > 100  # LiteLLM's own base64 id, stored as it came
    # No Delete: the preset knows LiteLLM has no DELETE route.
    assert custom_ids(card) == [
        button_id(a, key) for a in ("remix", "extend", "edit", "thumbnail", "spritesheet")
    ]
    requests = Counter(env.api_requests)
    assert requests["POST /v1/videos"] == 1
    assert not [r for r in requests if r == "GET /v1/videos"]  # never lists: it would 400
    await env.harness.close()

    env = await bot_on(start_bot, gateways.plain)
    h = env.harness
    thumb = await h.click(card, button_id("thumbnail", key), user=h.world.bob)
    webp(env, await ephemeral_answer(h, thumb, within=WITHIN))

    for action, label in (("remix", "Remix of"), ("extend", "Extension of")):
        opener = await h.click(card, button_id(action, key), user=h.world.bob)
        await h.response(opener)
        inputs = modal_inputs(opener.modal)
        values = {inputs["Prompt"]: f"{action}: now at night"}
        if action == "extend":
            values[inputs["Seconds to add (4, 8, 12, 16, 20)"]] = "4"
        submit = await h.submit_modal(opener, values)
        new = await h.original(submit, has_card)
        assert video_ref(card) in (field(new, label) or "")
        done = await h.original(submit, has_mp4, within=WITHIN)
        assert status(done) == "✅ Done"


async def test_delete_is_not_supported_and_then_left_off_cards(
    start_bot: StartBot, gateways: Gateways
) -> None:
    """Without the preset the bot finds out on first use: 405, said plainly, never offered again."""
    env = await bot_on(start_bot, gateways.pinned, provider="generic")
    h = env.harness
    card = await delivered_card(env, "a paper boat")
    key = video_key(card)
    assert button_id("delete", key) in custom_ids(card)
    ask = await h.click(card, button_id("delete", key), user=h.world.alice)
    question = await ephemeral_answer(h, ask)
    confirm = await h.click(question, button_id("confirm-delete", key), user=h.world.alice)
    [reply] = await h.wait_for(lambda: h.followups(confirm), WITHIN, what="the refusal")
    assert "not supported by this provider" in reply["content"]
    assert h.is_ephemeral(reply)
    row = await env.bot.videos.get(video_id(card))
    assert row is not None
    assert row.deleted_at is None  # still at the provider, so still in the library

    # The generic profile also learns that listing is refused (400) and retrieves instead.
    second = await delivered_card(env, "a second paper boat")
    assert button_id("delete", video_key(second)) not in custom_ids(second)
