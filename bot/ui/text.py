"""Text helpers shared by every message the bot writes: times, excerpts, sizes, plurals, lists.

No Discord import: a Discord timestamp is plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from bot.jobs.handoff import AGAIN, Step

# Discord refuses a message whose content is longer than this.
MESSAGE_MAX: Final = 2000
MIB: Final = 1024 * 1024


def excerpt(text: str, limit: int, *, one_line: bool = True) -> str:
    """`text` cut to at most `limit` characters with an ellipsis; on one line unless told not to."""
    flat = " ".join(text.split()) if one_line else text
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def timestamp(unix: float, style: str = "R") -> str:
    """A Discord timestamp, shown in each reader's own time zone and kept current without an edit.

    `R` reads "in 2 hours" or "5 minutes ago"; `f` is the full date and time.
    """
    return f"<t:{int(unix)}:{style}>"


def duration_text(seconds: int) -> str:
    """How long something took, as people say it: "14 s", "2 min 5 s", "1 h 3 min"."""
    seconds = max(0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def size_text(size: int) -> str:
    """A file size as people read it: "12.0 MiB", "10 MiB", "48.8 KiB"."""
    if size >= MIB:
        text = f"{size / MIB:.1f}"
        return f"{text.removesuffix('.0') if size % MIB == 0 else text} MiB"
    return f"{size / 1024:.1f} KiB"


def plural(count: int, one: str, many: str | None = None) -> str:
    """A count with its noun: "1 vote", "3 votes", "2 entries" (`many` when an s will not do)."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def join(words: Iterable[str], last: str = "and") -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c" (`last`: "and" or "or")."""
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


# Why a provider made nothing, as a card says it (bot/videoapi/refusals.py).
REFUSAL_TEXT: Final = {
    "key": "it refused the key",
    "credits": "its credits ran out",
    "forbidden": "it refused this account or request",
    "model": "it no longer serves this model",
    "unsupported": "it does not make videos this way",
    "busy": "it was too busy, even after waiting",
    "not_accepted": "it did not accept the job",
}


def handoff_text(steps: Sequence[Step], made_by: str) -> str | None:
    """What the bot did by itself to get a job made (by `made_by`, the provider that took it),
    one line a step; None if nothing."""
    lines = []
    for index, step in enumerate(steps):
        who = step.provider
        if step.why == AGAIN:
            lines.append(
                f"{who} did not answer, and its list showed nothing was made: "
                "sent to it once more, billed once."
            )
            continue
        # After a refusal the job moved on: to where the next step happened, or was made.
        to = steps[index + 1].provider if index + 1 < len(steps) else made_by
        why = REFUSAL_TEXT.get(step.why, step.why)
        lines.append(f"{who} made nothing ({why}), so it went to {to}.")
    return "\n".join(lines) or None
