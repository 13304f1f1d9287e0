"""The parts every Components V2 message of the bot is made of: one coloured container with a
heading, facts, a gallery of the message's own files, rows of buttons and a footer.

Discord's limits these keep to: at most 5 buttons in an action row, 1 to 10 items in a media
gallery, 1024 characters of alt text an item, 25 options in a select of 100 characters each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import discord

from bot.ui.text import excerpt

ROW_BUTTONS: Final = 5
GALLERY_ITEMS: Final = 10
MEDIA_DESCRIPTION_SHOWN: Final = 1024
SELECT_OPTIONS: Final = 25
OPTION_SHOWN: Final = 100


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """Named values on one line, as a card shows them: "**Model** sora-2 · **Size** 720x1280"."""
    return " · ".join(f"**{name}** {value}" for name, value in pairs)


def heading(text: str) -> discord.ui.TextDisplay[Any]:
    return discord.ui.TextDisplay(f"### {text}")


def subtext(text: str) -> discord.ui.TextDisplay[Any]:
    """Small grey text under the rest, as an embed's footer was."""
    return discord.ui.TextDisplay(f"-# {text}")


def media_gallery(files: Sequence[tuple[str, str | None]]) -> discord.ui.MediaGallery[Any]:
    """Files of the same message, by name with their alt text, shown in it: an MP4 plays
    inline, an image shows. At most the first ten."""
    items = [
        discord.MediaGalleryItem(
            f"attachment://{name}",
            description=excerpt(alt, MEDIA_DESCRIPTION_SHOWN) if alt else None,
        )
        for name, alt in files[:GALLERY_ITEMS]
    ]
    return discord.ui.MediaGallery(*items)


def button_rows(buttons: Sequence[discord.ui.Item[Any]]) -> list[discord.ui.ActionRow[Any]]:
    """Buttons in rows of at most five, in the order given."""
    return [
        discord.ui.ActionRow(*buttons[i : i + ROW_BUTTONS])
        for i in range(0, len(buttons), ROW_BUTTONS)
    ]


def layout(
    *items: discord.ui.Item[Any], colour: discord.Colour, lead: str | None = None
) -> discord.ui.LayoutView:
    """A persistent Components V2 message: `lead` (a mention) above one coloured container."""
    view = discord.ui.LayoutView(timeout=None)
    if lead:
        view.add_item(discord.ui.TextDisplay(lead))
    view.add_item(discord.ui.Container(*items, accent_colour=colour))
    return view
