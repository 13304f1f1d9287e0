"""The status card of a job: one embed that shows everything a user wants to know at a glance."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.storage import VideoRow

BAR_CELLS = 12
PROMPT_SHOWN = 1000

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

# Plain words for the error codes a provider or the bot itself gives.
FAILURE_TEXT = {
    "moderation_blocked": "The provider's safety system blocked this. Try rewording the prompt.",
    "timeout": "The provider did not finish in time, so the job was given up.",
    "not_found": "The provider no longer knows this video; it may have been deleted there.",
}


def progress_bar(progress: int) -> str:
    filled = round(max(0, min(100, progress)) * BAR_CELLS / 100)
    return "▰" * filled + "▱" * (BAR_CELLS - filled) + f" {progress}%"


def failure_text(job: VideoRow) -> str:
    if job.error_code in FAILURE_TEXT:
        return FAILURE_TEXT[job.error_code]
    detail = job.error_message or "no reason given"
    return f"The provider could not make this video: {detail}"


@dataclass(frozen=True, slots=True)
class Lineage:
    """Which video a job builds on, and whose it is."""

    parent_ref: str
    parent_prompt: str
    parent_owner_id: int

    @classmethod
    def of(cls, parent: VideoRow) -> Lineage:
        return cls(parent.ref, parent.prompt, parent.owner_id)


def shown_state(job: VideoRow) -> tuple[object, ...]:
    """What the card shows that can change; an edit is needed only when this changes."""
    return (job.status, job.progress, job.error_code, job.deleted_at is not None)


def status_card(
    job: VideoRow, lineage: Lineage | None = None, note: str | None = None
) -> discord.Embed:
    prompt = job.prompt if len(job.prompt) <= PROMPT_SHOWN else job.prompt[: PROMPT_SHOWN - 1] + "…"
    embed = discord.Embed(description=prompt, colour=COLOURS[job.status])
    embed.set_author(name=STATUS_TEXT[job.status])
    embed.add_field(name="By", value=f"<@{job.owner_id}>")
    embed.add_field(name="Model", value=job.model)
    embed.add_field(name="Size", value=job.size)
    embed.add_field(name="Seconds", value=job.seconds)
    if lineage is not None:
        excerpt = lineage.parent_prompt[:80] + ("…" if len(lineage.parent_prompt) > 80 else "")
        embed.add_field(
            name=KIND_TEXT.get(job.kind, "Based on"),
            value=f"{lineage.parent_ref} by <@{lineage.parent_owner_id}>: {excerpt}",
            inline=False,
        )
    if job.status in ("queued", "in_progress"):
        embed.add_field(name="Progress", value=progress_bar(job.progress), inline=False)
        # A relative timestamp ticks in every client without a single edit.
        embed.add_field(name="Started", value=f"<t:{job.created_at}:R>")
    elif job.status == "completed" and job.completed_at is not None:
        took = max(0, job.completed_at - job.created_at)
        embed.add_field(name="Took", value=f"{took // 60} min {took % 60} s")
    elif job.status == "failed":
        embed.add_field(name="Why", value=failure_text(job), inline=False)
    if note:
        embed.add_field(name="Note", value=note, inline=False)
    embed.set_footer(text=footer(job))
    return embed


def footer(job: VideoRow) -> str:
    """The bot's short reference, then the provider's id (for a support request)."""
    return f"{job.ref} · {job.id}"


def deleted_card(job: VideoRow, actor_id: int) -> discord.Embed:
    embed = discord.Embed(
        description=f"🗑️ This video was deleted by <@{actor_id}>.", colour=discord.Colour.dark_grey()
    )
    embed.set_footer(text=footer(job))
    return embed
