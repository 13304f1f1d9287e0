"""Turning job events into Discord messages: the live status card and, at the end, the video.

Edits are coalesced per card: only when what the card shows changes, and at most one edit per
card every `edit_interval` seconds. While the interaction's token is fresh the card is edited
through it; after that (or after a restart, when no token is known) through the bot's channel
route; if the card is gone, a new message mentioning the owner carries the result. A result is
marked delivered only after it was posted, and a delivered row is never posted again.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord

from bot.assets import Assets, file_name
from bot.permissions import BY_FLAG, MISSING_PERMISSIONS, cannot
from bot.storage import VideoRepository, VideoRow
from bot.tasks import cancel_and_wait
from bot.tracker import JobEvent
from bot.ui.buttons import result_view
from bot.ui.card import Lineage, shown_state, status_card
from bot.videoapi.capabilities import Capabilities
from bot.videoapi.errors import NotFoundError

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# Discord's reported limit can be a little above what it accepts once the request is framed.
UPLOAD_MARGIN = 0.95
# Switch to the channel route a minute before the 15-minute interaction token dies.
TOKEN_SAFETY = datetime.timedelta(minutes=1)
MAX_ATTEMPTS = 4
INVALID_WEBHOOK_TOKEN = 50027
REQUEST_TOO_LARGE = 40005
GONE = "The provider no longer has this video's files."


@dataclass(slots=True)
class _Card:
    row: VideoRow
    interaction: discord.Interaction[Any] | None = None
    upload_limit: int | None = None
    shown: tuple[object, ...] | None = None
    last_edit: float = float("-inf")
    lineage: Lineage | None = None
    lineage_loaded: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class _Upload:
    """A file to attach, by path: a discord.File can be sent only once."""

    path: Path
    filename: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def open(self) -> discord.File:
        return discord.File(self.path, filename=self.filename)


def _usable(interaction: discord.Interaction[Any] | None) -> bool:
    if interaction is None:
        return False
    return interaction.expires_at - TOKEN_SAFETY > discord.utils.utcnow()


def _size_text(size: int) -> str:
    """A file size as people read it: "12.0 MiB", "10 MiB", "48.8 KiB"."""
    mib = 1024 * 1024
    if size >= mib:
        text = f"{size / mib:.1f}"
        return f"{text.removesuffix('.0') if size % mib == 0 else text} MiB"
    return f"{size / 1024:.1f} KiB"


def _too_large(exc: discord.HTTPException) -> bool:
    return exc.status == 413 or exc.code == REQUEST_TOO_LARGE


def _token_dead(exc: discord.HTTPException) -> bool:
    return exc.status == 401 or exc.code == INVALID_WEBHOOK_TOKEN or exc.status == 404


class Delivery:
    def __init__(
        self,
        client: discord.Client,
        videos: VideoRepository,
        assets: Assets,
        capabilities: Capabilities,
        *,
        edit_interval: float = 5.0,
        retry_delay: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._videos = videos
        self._assets = assets
        self._capabilities = capabilities
        self._edit_interval = edit_interval
        self._retry_delay = retry_delay
        self._clock = clock
        self._cards: dict[str, _Card] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self, events: asyncio.Queue[JobEvent]) -> None:
        self._task = asyncio.create_task(self._consume(events), name="videobot-delivery")

    async def stop(self) -> None:
        await cancel_and_wait(self._task, *(card.task for card in self._cards.values()))
        self._task = None

    def posted(
        self,
        row: VideoRow,
        interaction: discord.Interaction[Any] | None,
    ) -> None:
        """This job's card was just posted: through an interaction, or (None) a channel route."""
        card = self._cards.setdefault(row.id, _Card(row))
        card.interaction = interaction
        card.upload_limit = interaction.filesize_limit if interaction is not None else None
        card.shown = shown_state(row)
        card.last_edit = self._clock()

    async def idle(self) -> None:
        """Wait until no card has an edit pending (tests and benchmarks)."""
        while pending := [c.task for c in self._cards.values() if c.task and not c.task.done()]:
            await asyncio.wait(pending)

    async def _consume(self, events: asyncio.Queue[JobEvent]) -> None:
        while True:
            event = await events.get()
            card = self._cards.setdefault(event.job.id, _Card(event.job))
            card.row = event.job
            if card.task is None or card.task.done():
                card.task = asyncio.create_task(self._flush(card))

    async def _flush(self, card: _Card) -> None:
        """Bring the card up to date, never sooner than edit_interval after its last edit."""
        attempts = 0
        # A finished row still needs its result, even when the card already shows its status (a
        # job the provider finished before the card was first posted).
        while card.row.finished or card.shown != shown_state(card.row):
            wait = card.last_edit + self._edit_interval - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            row = card.row
            try:
                if row.finished:
                    await self._finish(card)
                    return
                await self._show(card, embed=await self._embed(card, row))
                card.shown = shown_state(row)
            except Exception:
                attempts += 1
                log.exception("updating the card of %s failed (attempt %d)", row.id, attempts)
                if attempts >= MAX_ATTEMPTS:
                    return
                card.last_edit = self._clock() + self._retry_delay - self._edit_interval

    async def _finish(self, card: _Card) -> None:
        row = await self._videos.get(card.row.id)
        if row is None or row.delivered_at is not None or row.deleted_at is not None:
            self._cards.pop(card.row.id, None)
            return
        with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
            limit = self._upload_limit(row, card)
            files, note = await self._result_files(row, Path(folder), limit)
            view = result_view(row, self._capabilities.unsupported)
            try:
                embed = await self._embed(card, row, note)
                await self._show(card, embed=embed, files=files, view=view)
            except discord.Forbidden as exc:
                if not files or exc.code != MISSING_PERMISSIONS:
                    raise
                # Discord refused the file, not the card: the card alone, saying why.
                note = cannot(f"<#{row.channel_id}>", [BY_FLAG["attach_files"]])
                embed = await self._embed(card, row, f"{note} Then `/videos show` posts the video.")
                await self._show(card, embed=embed, files=[], view=view)
            except discord.HTTPException as exc:
                if not _too_large(exc) or not files or files[0].filename.endswith(".webp"):
                    raise
                # Discord reported a larger limit than it took: the thumbnail, then.
                log.info("the video of %s was refused as too large; sending its thumbnail", row.id)
                files, note = await self._thumbnail(row, files[0], None)
                embed = await self._embed(card, row, note)
                await self._show(card, embed=embed, files=files, view=view)
        await self._videos.mark_delivered(row.id)
        self._cards.pop(row.id, None)

    async def result_files(
        self, row: VideoRow, folder: Path, limit: int
    ) -> tuple[list[discord.File], str | None]:
        """A finished job's files to attach (downloaded into `folder`), and a note for its card."""
        files, note = await self._result_files(row, folder, limit)
        return [f.open() for f in files], note

    async def _result_files(
        self, row: VideoRow, folder: Path, limit: int
    ) -> tuple[list[_Upload], str | None]:
        if row.status != "completed":
            return [], None
        video = _Upload(folder / file_name(row.key, "video"), file_name(row.key, "video"))
        try:
            await self._assets.fetch(row.id, "video", video.path)
        except NotFoundError:
            return [], GONE
        if video.size <= int(limit * UPLOAD_MARGIN):
            return [video], None
        return await self._thumbnail(row, video, limit)

    async def _thumbnail(
        self, row: VideoRow, video: _Upload, limit: int | None
    ) -> tuple[list[_Upload], str | None]:
        """The thumbnail instead of a video too large to upload, and a note saying why."""
        name = file_name(row.key, "thumbnail")
        thumb = _Upload(video.path.with_name(name), name)
        try:
            await self._assets.fetch(row.id, "thumbnail", thumb.path, source=video.path)
        except NotFoundError:
            return [], GONE
        over = (
            "more than Discord accepts"
            if limit is None
            else f"over the {_size_text(limit)} upload limit"
        )
        note = (
            f"The video is {_size_text(video.size)}, {over} here, so this is its thumbnail. "
            "Get the whole file with `/videos download` while the provider keeps it."
        )
        return [thumb], note

    def _upload_limit(self, row: VideoRow, card: _Card) -> int:
        """The largest upload Discord reports for this card, before the safety margin."""
        limit = card.upload_limit
        if limit is None and row.guild_id is not None:
            guild = self._client.get_guild(row.guild_id)
            limit = guild.filesize_limit if guild is not None else None
        return limit or DEFAULT_UPLOAD_LIMIT

    async def _embed(self, card: _Card, row: VideoRow, note: str | None = None) -> discord.Embed:
        if not card.lineage_loaded and row.parent_id is not None:
            parent = await self._videos.get(row.parent_id)
            if parent is not None:
                card.lineage = Lineage.of(parent)
        card.lineage_loaded = True
        return status_card(row, card.lineage, note)

    async def _show(
        self,
        card: _Card,
        *,
        embed: discord.Embed,
        files: list[_Upload] | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        """Edit the card by the best route still open, or post it anew for its owner.

        `files` (None: leave the attachments as they are) are opened afresh for every attempt:
        discord.py closes a File once a request that carried it is done, even a failed one.
        """
        # Stamped when Discord has the edit, not when it is sent: a slow edit followed by a
        # quick one would otherwise land less than edit_interval apart.
        try:
            await self._route(card, embed=embed, files=files, view=view)
        finally:
            card.last_edit = self._clock()

    async def _route(
        self,
        card: _Card,
        *,
        embed: discord.Embed,
        files: list[_Upload] | None,
        view: discord.ui.View | None,
    ) -> None:
        row = card.row

        def fields() -> dict[str, Any]:
            chosen: dict[str, Any] = {"embed": embed}
            if files is not None:
                chosen["attachments"] = [f.open() for f in files]
            if view is not None:
                chosen["view"] = view
            return chosen

        if _usable(card.interaction):
            assert card.interaction is not None
            try:
                await card.interaction.edit_original_response(**fields())
                return
            except discord.HTTPException as exc:
                if not _token_dead(exc):
                    raise
                log.info("interaction token of %s is gone; using the channel route", row.id)
            card.interaction = None
        channel = self._client.get_partial_messageable(row.channel_id, guild_id=row.guild_id)
        if row.status_message_id is not None:
            try:
                await channel.get_partial_message(row.status_message_id).edit(**fields())
                return
            except discord.NotFound:
                log.info("the card of %s was deleted; posting a new one", row.id)
        fresh = fields()
        fresh["files"] = fresh.pop("attachments", [])
        message = await channel.send(
            content=f"<@{row.owner_id}> here is your video's status.",
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(row.owner_id)]),
            **fresh,
        )
        await self._videos.set_status_message(row.id, message.channel.id, message.id)
        card.row = row = await self._videos.get(row.id) or row
