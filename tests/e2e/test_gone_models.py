"""A model the provider does not (or no longer) make, as a member meets it: the refusal names it,
nothing is held, /video keeps working for other models, and the model leaves the choices."""

from __future__ import annotations

from bot.videoapi.models import Operation

from .botenv import StartBot
from .views import ephemeral_reply, has_mp4, visible_messages_of


async def test_a_model_the_provider_refuses_is_named_and_left_off(start_bot: StartBot) -> None:
    # The bot's list has a model the provider (the simulator: sora-2, sora-2-pro) refuses with
    # OpenAI's 400 naming `model`, as a gateway whose upstream retired an id would.
    env = await start_bot(settings={"provider_models": "sora-2,veo-3.1"})
    h = env.harness
    rec = await h.autocomplete("video", {"prompt": "a cat", "model": ""}, "model")
    await h.response(rec)
    assert [c["value"] for c in rec.choices or []] == ["sora-2", "veo-3.1"]

    rec = await h.slash("video", {"prompt": "a cat", "model": "veo-3.1"}, user=h.world.alice)
    reply = await h.wait_for(lambda: ephemeral_reply(h, rec), what="an ephemeral answer")
    assert reply["content"] == "The provider retired model veo-3.1; choose another."
    assert not visible_messages_of(h, rec)
    usage = await env.bot.ledger.month(h.world.guild_id)
    assert usage.held_micros == 0

    rec = await h.autocomplete("video", {"prompt": "a cat", "model": ""}, "model")
    await h.response(rec)
    assert [c["value"] for c in rec.choices or []] == ["sora-2"]
    # Create still works: the refusal was the model's, not the route's.
    rec = await h.slash("video", {"prompt": "a dog", "model": "sora-2"}, user=h.world.alice)
    await h.original(rec, has_mp4, within=15)
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 2
