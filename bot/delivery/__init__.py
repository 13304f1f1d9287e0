"""Job events to Discord messages: every card, its coalesced edits, its result and its files."""

from bot.delivery.files import (
    BOT_UPLOAD_LIMIT,
    UPLOAD_MARGIN,
    Expired,
    Fit,
    ResultFiles,
    discord_file,
    upload_limit,
)
from bot.delivery.posters import CardPoster, InteractionPoster, ReplyPoster
from bot.delivery.service import CardViews, Delivery

__all__ = [
    "BOT_UPLOAD_LIMIT",
    "UPLOAD_MARGIN",
    "CardPoster",
    "CardViews",
    "Delivery",
    "Expired",
    "Fit",
    "InteractionPoster",
    "ReplyPoster",
    "ResultFiles",
    "discord_file",
    "upload_limit",
]
