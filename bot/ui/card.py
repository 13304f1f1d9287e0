"""The status card of a job: one Components V2 layout for every state, showing at a glance
what a user wants to know, and the finished video itself, playing inside the card.

A state's heading and accent colour come from STATUS_TEXT and COLOURS, keyed by the row's
status: a new state is an entry in each (and its words in FAILURE_TEXT if it ends a job).

A `Container` whose accent colour follows the status holds the status, the prompt, the facts
(who asked, model, size, seconds, price, lineage), what the state adds (progress and times, how
long it took, why it failed), a note, the result's file in a `MediaGallery` (an
`attachment://` of the same message: an MP4 plays inline) and the buttons in action rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.jobs.handoff import steps
from bot.jobs.requests import Lineage
from bot.spending.money import micros, usd
from bot.storage import VideoRow
from bot.storage.rules import SAFETY_CODES
from bot.storage.videos import NOT_STARTED
from bot.tracker.service import STATUS_UNKNOWN
from bot.ui.layout import (
    MEDIA_DESCRIPTION_SHOWN,
    button_rows,
    facts,
    heading,
    layout,
    media_gallery,
    subtext,
)
from bot.ui.text import duration_text, excerpt, handoff_text, timestamp
from bot.videoapi.providers import DEFAULT_PROVIDER

BAR_CELLS = 12
PROMPT_SHOWN = 1000
# A provider's own words on a card: enough for any real reason.
PROVIDER_TEXT_SHOWN = 300
# A note (it may quote a provider: an undeliverable result's reason).
NOTE_SHOWN = 1024
# What a provider echoes of a job (model, size, seconds) and its id, as far as a card shows
# them: real ones are far shorter (an id is at most 512 characters), and a card Discord refuses
# for its text too long would never show the result. With the prompt and a note at their
# longest the card stays inside the 4000 characters of text a message holds.
ECHO_SHOWN = 100
ID_SHOWN = 512

COLOURS = {
    "queued": discord.Colour.light_grey(),
    "in_progress": discord.Colour.blurple(),
    "completed": discord.Colour.green(),
    "failed": discord.Colour.red(),
    "blocked": discord.Colour.dark_orange(),
}
STATUS_TEXT = {
    "queued": "⏳ Queued",
    "in_progress": "🎬 Generating",
    "completed": "✅ Done",
    "failed": "❌ Failed",
    "blocked": "🛡️ Blocked by the provider's safety system",
}
KIND_TEXT = {"remix": "Remix of", "extend": "Extension of", "edit": "Edit of"}
WAITING_COLOUR = discord.Colour.dark_gold()
GONE_COLOUR = discord.Colour.dark_grey()

# Plain words for the error codes a provider or the bot itself gives.
FAILURE_TEXT = {
    "moderation_blocked": (
        "The provider's safety system refused this prompt, so nothing was made and nothing is "
        "charged. Try rewording it."
    ),
    "timeout": "The provider did not finish in time, so the job was given up.",
    "not_found": "The provider no longer knows this video; it may have been deleted there.",
    "expired": "The provider no longer has this video's files.",
    "not_confirmed": (
        "The provider did not answer when asked to make this video, and it is not among its "
        "videos. Retry starts it again (a new job, billed again if the first one was made)."
    ),
}


def shown_status(job: VideoRow) -> str:
    """The state a card shows: the job's status, or `blocked` for a provider's refusal."""
    if job.status == "failed" and job.error_code in SAFETY_CODES:
        return "blocked"
    return job.status


def progress_bar(progress: int) -> str:
    filled = round(max(0, min(100, progress)) * BAR_CELLS / 100)
    return "▰" * filled + "▱" * (BAR_CELLS - filled) + f" {progress}%"


def failure_text(job: VideoRow) -> str:
    detail = excerpt(job.error_message or "no reason given", PROVIDER_TEXT_SHOWN)
    if job.error_code == NOT_STARTED:
        return f"It waited for a free slot, then could not start: {detail}"
    if job.error_code == STATUS_UNKNOWN:
        # The tracker's own words, with how long it waited; the reservation was released.
        return f"{detail} It was given up, and nothing is charged for it."
    if job.error_code in FAILURE_TEXT:
        return FAILURE_TEXT[job.error_code]
    if job.error_code in SAFETY_CODES:
        return FAILURE_TEXT["moderation_blocked"]
    return f"The provider could not make this video: {detail}"


def shown_state(job: VideoRow) -> tuple[object, ...]:
    """What the card shows that can change; an edit is needed only when this changes."""
    return (job.status, job.progress, job.error_code, job.deleted_at is not None, job.waiting)


def waiting_text(position: int | None) -> str:
    if position is None:
        return "⏸️ Waiting for a free slot"
    return f"⏸️ Waiting for a free slot, number {position} in line"


def status_card(
    job: VideoRow,
    lineage: Lineage | None = None,
    note: str | None = None,
    *,
    finishes_at: float | None = None,
    position: int | None = None,
    media: Sequence[str] = (),
    buttons: Sequence[discord.ui.Item[Any]] = (),
    lead: str | None = None,
) -> discord.ui.LayoutView:
    """`finishes_at` is when the tracker expects the job to be done (unix seconds); `position`
    is a waiting job's place in line; `media` the names of the files sent with the card (the
    MP4, or the thumbnail instead); `lead` a line above the card (the mention of its owner)."""
    colour = WAITING_COLOUR if job.waiting else COLOURS[shown_status(job)]
    items: list[discord.ui.Item[Any]] = [
        heading(waiting_text(position) if job.waiting else STATUS_TEXT[shown_status(job)]),
        discord.ui.TextDisplay(excerpt(job.prompt, PROMPT_SHOWN, one_line=False)),
        discord.ui.Separator(),
    ]
    about = [
        facts(
            [
                ("By", f"<@{job.owner_id}>"),
                ("Model", excerpt(job.model, ECHO_SHOWN)),
                ("Size", excerpt(job.size, ECHO_SHOWN)),
                ("Seconds", excerpt(job.seconds, ECHO_SHOWN)),
                ("Price", usd(micros(job.cost))),
            ]
        )
    ]
    if lineage is not None:
        parent = excerpt(lineage.parent_prompt, 81, one_line=False)
        about.append(
            facts(
                [
                    (
                        KIND_TEXT.get(job.kind, "Based on"),
                        f"{lineage.parent_ref} by <@{lineage.parent_owner_id}>: {parent}",
                    )
                ]
            )
        )
    about += _progress(job, finishes_at)
    where: list[tuple[str, str]] = []
    if job.provider != DEFAULT_PROVIDER:
        # Several providers configured: which one made it (and answers for it).
        where.append(("Provider", excerpt(job.provider, ECHO_SHOWN)))
    if handed := handoff_text(steps(job.handoff), job.provider):
        where.append(("Sent", excerpt(handed, NOTE_SHOWN)))
    if where:
        about.append(facts(where))
    items.append(discord.ui.TextDisplay("\n".join(about)))
    if note:
        items.append(discord.ui.TextDisplay(facts([("Note", excerpt(note, NOTE_SHOWN))])))
    if media:
        alt = excerpt(job.prompt, MEDIA_DESCRIPTION_SHOWN)
        items.append(media_gallery([(name, alt) for name in media]))
    items += button_rows(buttons)
    items.append(subtext(footer(job)))
    return layout(*items, colour=colour, lead=lead)


def _progress(job: VideoRow, finishes_at: float | None) -> list[str]:
    """The lines the job's state adds: its wait, its progress and times, its duration, or why
    it failed."""
    if job.waiting:
        since = f"Since {timestamp(job.created_at)}. It starts on its own when a slot frees."
        return [facts([("Waiting", since)])]
    if job.status in ("queued", "in_progress"):
        # Relative timestamps tick in every client without a single edit.
        times = [("Started", timestamp(job.created_at))]
        if job.status == "in_progress" and finishes_at is not None:
            times.append(("Expected", f"done {timestamp(finishes_at)}"))
        return [facts([("Progress", progress_bar(job.progress))]), facts(times)]
    if job.status == "completed":
        if job.completed_at is None:
            return []
        return [facts([("Took", duration_text(job.completed_at - job.created_at))])]
    # Any other end (failed, or a state of its own in COLOURS and STATUS_TEXT) says why.
    return [facts([("Why", failure_text(job))])] if job.finished else []


def footer(job: VideoRow) -> str:
    """The bot's short reference, then the provider's id (for a support request)."""
    return f"{job.ref} · {excerpt(job.id, ID_SHOWN)}"


def cancelled_card(job: VideoRow) -> discord.ui.LayoutView:
    said = f"✖️ <@{job.owner_id}> cancelled this video before it started; nothing was charged."
    return layout(discord.ui.TextDisplay(said), subtext(job.ref), colour=GONE_COLOUR)


def deleted_card(job: VideoRow, actor_id: int) -> discord.ui.LayoutView:
    said = f"🗑️ This video was deleted by <@{actor_id}>."
    return layout(discord.ui.TextDisplay(said), subtext(footer(job)), colour=GONE_COLOUR)
