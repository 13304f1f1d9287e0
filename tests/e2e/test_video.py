"""/video from a user's point of view: a card, progress edits, the MP4 on the card."""

from __future__ import annotations

from typing import Any

from bot.videoapi.models import Operation

from .botenv import StartBot

JSON = dict[str, Any]


def _card(message: JSON) -> JSON:
    [embed] = message["embeds"]
    return embed


def _status(message: JSON) -> str:
    return str(_card(message).get("author", {}).get("name", ""))


async def test_video_card_progress_and_mp4(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=2.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a calico cat playing piano"}, user=h.world.alice)
    await h.response(rec)
    assert rec.ack_latency < 3
    card = await h.original(rec, lambda m: bool(m.get("embeds")))
    assert not h.is_ephemeral(card)
    assert "a calico cat playing piano" in _card(card)["description"]

    done = await h.original(rec, lambda m: bool(m.get("attachments")), within=15)
    assert _status(done) == "✅ Done"
    [attachment] = done["attachments"]
    assert attachment["filename"].endswith(".mp4")
    assert env.sim.calls[Operation.CREATE] == 1
