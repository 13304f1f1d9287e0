"""Text helpers shared by every message the bot writes."""

from __future__ import annotations

from typing import Final

# Discord refuses a message whose content is longer than this.
MESSAGE_MAX: Final = 2000


def excerpt(text: str, limit: int) -> str:
    """`text` on one line, cut to at most `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
