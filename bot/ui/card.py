"""The status card of a job: one embed that shows everything a user wants to know at a glance."""

from __future__ import annotations

import discord

from bot.jobs.handoff import steps
from bot.jobs.requests import Lineage
from bot.spending.money import micros, usd
from bot.storage import VideoRow
from bot.storage.videos import NOT_STARTED
from bot.tracker.service import STATUS_UNKNOWN
from bot.ui.text import duration_text, excerpt, handoff_text, timestamp
from bot.videoapi.providers import DEFAULT_PROVIDER

BAR_CELLS = 12
PROMPT_SHOWN = 1000
# A provider's own words on a card: enough for any real reason, and well inside an embed
# field's 1024 characters with the sentence around them.
PROVIDER_TEXT_SHOWN = 300
# Discord's limit on an embed field's value.
FIELD_VALUE_MAX = 1024
# What a provider echoes of a job (model, size, seconds) and its id, as far as a card shows
# them: real ones are far shorter (an id is at most 512 characters), and a card Discord refuses
# for a field too long would never show the result.
ECHO_SHOWN = 100
ID_SHOWN = 512

COLOURS = {
    "queued": discord.Colour.light_grey(),
    "in_progress": discord.Colour.blurple(),
    "completed": discord.Colour.green(),
    "failed": discord.Colour.red(),
}
STATUS_TEXT = {
    "queued": "⏳ Queued",
    "in_progress": "🎬 Generating",
    "completed": "✅ Done",
    "failed": "❌ Failed",
}
KIND_TEXT = {"remix": "Remix of", "extend": "Extension of", "edit": "Edit of"}
WAITING_COLOUR = discord.Colour.dark_gold()

# Plain words for the error codes a provider or the bot itself gives.
FAILURE_TEXT = {
    "moderation_blocked": "The provider's safety system blocked this. Try rewording the prompt.",
    "timeout": "The provider did not finish in time, so the job was given up.",
    "not_found": "The provider no longer knows this video; it may have been deleted there.",
    "expired": "The provider no longer has this video's files.",
    "not_confirmed": (
        "The provider did not answer when asked to make this video, and it is not among its "
        "videos. Retry starts it again (a new job, billed again if the first one was made)."
    ),
}


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
) -> discord.Embed:
    """`finishes_at` is when the tracker expects the job to be done (unix seconds); `position`
    is a waiting job's place in line."""
    prompt = excerpt(job.prompt, PROMPT_SHOWN, one_line=False)
    colour = WAITING_COLOUR if job.waiting else COLOURS[job.status]
    embed = discord.Embed(description=prompt, colour=colour)
    embed.set_author(name=waiting_text(position) if job.waiting else STATUS_TEXT[job.status])
    embed.add_field(name="By", value=f"<@{job.owner_id}>")
    embed.add_field(name="Model", value=excerpt(job.model, ECHO_SHOWN))
    embed.add_field(name="Size", value=excerpt(job.size, ECHO_SHOWN))
    embed.add_field(name="Seconds", value=excerpt(job.seconds, ECHO_SHOWN))
    embed.add_field(name="Price", value=usd(micros(job.cost)))
    if lineage is not None:
        parent = excerpt(lineage.parent_prompt, 81, one_line=False)
        embed.add_field(
            name=KIND_TEXT.get(job.kind, "Based on"),
            value=f"{lineage.parent_ref} by <@{lineage.parent_owner_id}>: {parent}",
            inline=False,
        )
    if job.waiting:
        embed.add_field(
            name="Waiting",
            value=f"Since {timestamp(job.created_at)}. It starts on its own when a slot frees.",
            inline=False,
        )
    elif job.status in ("queued", "in_progress"):
        embed.add_field(name="Progress", value=progress_bar(job.progress), inline=False)
        # Relative timestamps tick in every client without a single edit.
        embed.add_field(name="Started", value=timestamp(job.created_at))
        if job.status == "in_progress" and finishes_at is not None:
            embed.add_field(name="Expected", value=f"done {timestamp(finishes_at)}")
    elif job.status == "completed" and job.completed_at is not None:
        embed.add_field(name="Took", value=duration_text(job.completed_at - job.created_at))
    elif job.status == "failed":
        embed.add_field(name="Why", value=failure_text(job), inline=False)
    if job.provider != DEFAULT_PROVIDER:
        # Several providers configured: which one made it (and answers for it).
        embed.add_field(name="Provider", value=excerpt(job.provider, ECHO_SHOWN))
    if handed := handoff_text(steps(job.handoff), job.provider):
        embed.add_field(
            name="Sent", value=excerpt(handed, FIELD_VALUE_MAX, one_line=False), inline=False
        )
    if note:
        # Notes may quote a provider (an undeliverable result's reason).
        embed.add_field(name="Note", value=excerpt(note, FIELD_VALUE_MAX), inline=False)
    embed.set_footer(text=footer(job))
    return embed


def footer(job: VideoRow) -> str:
    """The bot's short reference, then the provider's id (for a support request)."""
    return f"{job.ref} · {excerpt(job.id, ID_SHOWN)}"


def cancelled_card(job: VideoRow) -> discord.Embed:
    embed = discord.Embed(
        description=f"✖️ <@{job.owner_id}> cancelled this video before it started; "
        "nothing was charged.",
        colour=discord.Colour.dark_grey(),
    )
    embed.set_footer(text=job.ref)
    return embed


def deleted_card(job: VideoRow, actor_id: int) -> discord.Embed:
    embed = discord.Embed(
        description=f"🗑️ This video was deleted by <@{actor_id}>.", colour=discord.Colour.dark_grey()
    )
    embed.set_footer(text=footer(job))
    return embed
