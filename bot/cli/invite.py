"""`videobot invite`: the link that adds the bot to a server, worked out offline."""

from __future__ import annotations

import base64
import binascii

import discord

from bot.config import Settings, SettingsError
from bot.ui.permissions import NEEDED, needed_permissions

SCOPES = ("bot", "applications.commands")


def application_id(settings: Settings) -> int:
    """DISCORD_APPLICATION_ID, or the bot's id: a token's first part is that id in base64."""
    if settings.discord_application_id is not None:
        return settings.discord_application_id
    token = settings.require_discord_token().get_secret_value().strip()
    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded.isdigit():
        raise SettingsError(
            "DISCORD_TOKEN does not look like a bot token: copy it again from the developer "
            "portal (Bot, Reset Token), or set DISCORD_APPLICATION_ID"
        )
    return int(decoded)


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(client_id, permissions=needed_permissions(), scopes=SCOPES)


def invite_text(settings: Settings) -> str:
    """The URL, then each permission it asks for and why."""
    value = needed_permissions().value
    width = max(len(n.label) for n in NEEDED)
    lines = [
        "Open this link and pick your server (you need Manage Server there):",
        invite_url(application_id(settings)),
        "",
        f"Scopes: {', '.join(SCOPES)}. Permissions ({value}):",
        *(f"  {n.label:<{width}}  {n.why}" for n in NEEDED),
    ]
    return "\n".join(lines)
