"""The channel permissions the bot uses, each with why: the invite asks for exactly these, and
`videobot check`, the error handler and delivery compare what Discord granted against them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import discord

from bot.ui.text import join

# Discord's error codes for a request the bot's permissions do not allow.
MISSING_ACCESS: Final = 50001
MISSING_PERMISSIONS: Final = 50013


@dataclass(frozen=True, slots=True)
class Needed:
    flag: str  # the discord.Permissions attribute
    label: str  # as Discord's settings name it
    action: str  # completes "I can't ..."
    why: str


NEEDED: Final[tuple[Needed, ...]] = (
    Needed(
        "view_channel",
        "View Channels",
        "see this channel",
        "edit a status card through the channel once the 15-minute interaction token has expired",
    ),
    Needed(
        "send_messages",
        "Send Messages",
        "send messages",
        "post a card anew when it was deleted, answer reactions, announce contests",
    ),
    Needed(
        "embed_links",
        "Embed Links",
        "show embeds",
        "status cards, library pages and contest cards are embeds",
    ),
    Needed(
        "attach_files",
        "Attach Files",
        "attach files",
        "the finished MP4 (or its thumbnail) is attached to its status card",
    ),
    Needed(
        "read_message_history",
        "Read Message History",
        "read the message history",
        "reply to the result someone reacted to, and copy contest winners' videos from their posts",
    ),
    Needed(
        "create_public_threads",
        "Create Public Threads",
        "create threads",
        "every contest collects its entries in a thread on its announcement",
    ),
    Needed(
        "send_messages_in_threads",
        "Send Messages in Threads",
        "send messages in threads",
        "contest entries and notices are posted in the contest's thread",
    ),
)

BY_FLAG: Final[dict[str, Needed]] = {needed.flag: needed for needed in NEEDED}


def needed_permissions() -> discord.Permissions:
    """Every permission of NEEDED, as the one value the invite asks for."""
    return discord.Permissions(**dict.fromkeys(BY_FLAG, True))


def missing(granted: discord.Permissions) -> list[Needed]:
    """What the bot needs and was not granted, in NEEDED's order."""
    return [needed for needed in NEEDED if not getattr(granted, needed.flag)]


def cannot(where: str, lacking: list[Needed]) -> str:
    """ "I can't attach files in #general: give me Attach Files." """
    actions = join((n.action for n in lacking), "or")
    labels = join((n.label for n in lacking), "and")
    return f"I can't {actions} in {where}: give me {labels}."
