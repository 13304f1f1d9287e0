"""The bot's permissions: one list, and the sentence that names what is missing."""

from __future__ import annotations

import discord

from bot.ui.permissions import BY_FLAG, cannot, missing, needed_permissions


def test_missing_keeps_the_lists_order() -> None:
    granted = needed_permissions()
    granted.attach_files = granted.embed_links = False
    assert [n.label for n in missing(granted)] == ["Embed Links", "Attach Files"]
    assert missing(needed_permissions()) == []
    assert len(missing(discord.Permissions.none())) == len(BY_FLAG)


def test_the_sentence_names_actions_and_permissions() -> None:
    one = [BY_FLAG["attach_files"]]
    assert cannot("#general", one) == "I can't attach files in #general: give me Attach Files."
    three = [BY_FLAG[f] for f in ("send_messages", "embed_links", "attach_files")]
    assert cannot("#art", three) == (
        "I can't send messages, show embeds or attach files in #art: "
        "give me Send Messages, Embed Links and Attach Files."
    )
