"""Autocomplete for `video` options (the videos the caller may see, by their prompt) and for
`model` options (every model offered across providers, with its provider and price)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Final

from discord import app_commands

from bot.spending.money import micros, usd
from bot.storage import VideoRepository, VideoRow
from bot.ui.text import excerpt
from bot.videoapi.models import VideoStatus
from bot.videoapi.providers import Offer

LABEL_MAX = 100
# Discord shows at most this many choices.
CHOICES_MAX: Final = 25


def choice_label(row: VideoRow) -> str:
    """An autocomplete label: the prompt's start, then status and length."""
    suffix = f" · {row.status.replace('_', ' ')} · {row.seconds}s"
    return textwrap.shorten(row.prompt, LABEL_MAX - len(suffix), placeholder="…") + suffix


async def video_choices(
    videos: VideoRepository,
    user_id: int,
    guild_id: int | None,
    current: str,
    *,
    status: VideoStatus | None,
) -> list[app_commands.Choice[str]]:
    """The videos `user_id` may see in `guild_id`, as choices carrying the bot's `#key`."""
    rows = await videos.list_visible(user_id, guild_id, status=status, text=current.strip() or None)
    return [app_commands.Choice(name=choice_label(row), value=row.ref) for row in rows]


def offer_text(offer: Offer, *, named: bool = True) -> str:
    """A model as the picker shows it: `veo-3.1 · openrouter · $0.50/s` (without the provider's
    name when only one is configured)."""
    price = usd(micros(offer.price_per_second))
    where = f" · {offer.provider}" if named else ""
    return f"{offer.model}{where} · {price}/s"


def offer_label(offer: Offer, *, named: bool = True) -> str:
    return excerpt(offer_text(offer, named=named), LABEL_MAX)


def allowed_offers(offers: Iterable[Offer], allowed: frozenset[str]) -> list[Offer]:
    """The offers a server may use (`allowed` empty: every one)."""
    return [offer for offer in offers if not allowed or offer.model in allowed]


def model_choices(
    offers: Iterable[Offer],
    current: str,
    allowed: frozenset[str] = frozenset(),
    *,
    named: bool = True,
) -> list[app_commands.Choice[str]]:
    """The models whose name or provider holds what was typed, each once, in the operator's
    order of preference."""
    wanted = current.lower().strip()
    return [
        app_commands.Choice(name=offer_label(offer, named=named), value=offer.model)
        for offer in allowed_offers(offers, allowed)
        if wanted in offer.model.lower() or wanted in offer.provider.lower()
    ][:CHOICES_MAX]


def models_text(
    offers: Iterable[Offer],
    allowed: frozenset[str] = frozenset(),
    room: int = 1000,
    *,
    named: bool = True,
) -> str:
    """One line per model a server may use, for /help and /limits, as many as fit in `room`
    characters (an embed field holds 1,024), then how many more."""
    shown = allowed_offers(offers, allowed)
    lines: list[str] = []
    used = 0
    for n, offer in enumerate(shown):
        also = f" (also {', '.join(offer.also)})" if offer.also else ""
        model, _, rest = offer_text(offer, named=named).partition(" · ")
        line = f"`{model}` · {rest}{also}"
        more = f"and {len(shown) - n} more"
        # Room is kept for the "more" line unless this is the last model.
        reserve = len(more) + 1 if n < len(shown) - 1 else 0
        if used + len(line) + reserve > room:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) or "none"
