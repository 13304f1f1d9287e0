"""A contest's messages: the announcement and its thread, entry posts, results, frozen buttons.

Everything goes through the bot's channel routes (no interaction token), so the scheduler can
post hours later, after a restart, exactly as a command can.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path
from typing import Final

import aiohttp
import discord

from bot.contests import media
from bot.contests.phases import Phase
from bot.delivery import UPLOAD_MARGIN, discord_file, upload_limit
from bot.interactions.attachments import AttachmentError
from bot.storage import ContestRepository, ContestRow, EntryRow, Standing, VideoRow
from bot.ui.contest import (
    announcement_card,
    entry_card,
    jump_url,
    podium_caption,
    standings_card,
    with_vote,
)
from bot.ui.text import excerpt
from bot.videoapi.models import Upload

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100
# A week, Discord's longest: a quiet thread stays open through most contests.
THREAD_ARCHIVE_MINUTES: Final = 10080
PODIUM = 3


class ContestPoster:
    def __init__(
        self,
        client: discord.Client,
        contests: ContestRepository,
        session: aiohttp.ClientSession,
    ) -> None:
        self._client = client
        self._contests = contests
        # For the files of result cards and entry posts, copied on Discord's CDN.
        self._session = session

    def upload_limit(self, guild_id: int) -> int:
        return int(upload_limit(None, self._client.get_guild(guild_id)) * UPLOAD_MARGIN)

    def channel(self, contest: ContestRow, *, thread: bool = False) -> discord.PartialMessageable:
        channel_id = contest.thread_id if thread and contest.thread_id else contest.channel_id
        return self._client.get_partial_messageable(channel_id, guild_id=contest.guild_id)

    async def announce(self, contest: ContestRow) -> ContestRow:
        """Post the announcement and open the entries' thread on it."""
        message = await self.channel(contest).send(
            embed=announcement_card(contest, Phase.SUBMISSIONS)
        )
        name = excerpt(f"Contest #{contest.id}: {contest.theme}", THREAD_NAME_MAX)
        try:
            thread = await message.create_thread(
                name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except BaseException:
            # An announcement nobody can enter through would only confuse.
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
            raise
        await self._contests.set_announcement(contest.id, message.id, thread.id)
        return await self._contests.get(contest.id) or contest

    async def show_phase(self, contest: ContestRow, phase: Phase) -> None:
        """Bring the announcement up to date; a deleted announcement is not worth failing for."""
        if contest.announcement_id is None:
            return
        results = None
        if contest.results_message_id is not None:
            results = jump_url(contest.guild_id, contest.channel_id, contest.results_message_id)
        message = self.channel(contest).get_partial_message(contest.announcement_id)
        try:
            await message.edit(embed=announcement_card(contest, phase, results))
        except discord.NotFound:
            log.info("the announcement of contest %d was deleted", contest.id)

    async def say_in_thread(self, contest: ContestRow, text: str) -> None:
        # Notices name people without pinging them.
        await self.channel(contest, thread=True).send(
            text, allowed_mentions=discord.AllowedMentions.none()
        )

    async def post_entry(
        self, contest: ContestRow, entry: EntryRow, file: Upload, note: str | None
    ) -> int:
        """Post an entry with its file (playing in it) and Vote button; the message id."""
        votes = 0 if contest.live_counts else None
        message = await self.channel(contest, thread=True).send(
            view=entry_card(contest, entry, note, media=file.filename, votes=votes),
            file=discord_file(file),
            # It names its author without pinging them.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return message.id

    async def delete_entry_post(self, contest: ContestRow, entry: EntryRow) -> None:
        if entry.message_id is None:
            return
        # Already deleted by someone: the entry is gone either way.
        with contextlib.suppress(discord.NotFound):
            await self.channel(contest, thread=True).get_partial_message(entry.message_id).delete()

    async def entry_file(self, video: VideoRow, limit: int, folder: Path) -> Upload:
        """The file of `video`'s result card, copied into `folder` within `limit` bytes."""
        return await media.from_card(self._client, self._session, video, limit, folder)

    async def post_results(self, contest: ContestRow, standings: list[Standing]) -> int:
        """The results in the contest's channel, with the podium's videos; the message id."""
        links = self._entry_links(contest, standings)
        with tempfile.TemporaryDirectory(prefix="videobot-") as folder:
            podium = standings[:PODIUM]
            shown = await self._podium_files(contest, podium, Path(folder))
            media = [(file.filename, podium_caption(standing)) for standing, file in shown]
            message = await self.channel(contest).send(
                view=standings_card(contest, standings, links, final=True, media=media),
                files=[file for _, file in shown],
                allowed_mentions=discord.AllowedMentions.none(),
            )
        return message.id

    async def freeze_entries(
        self, contest: ContestRow, standings: list[Standing], *, show_votes: bool
    ) -> None:
        """Turn every Vote button off, showing the final count when the contest closed."""
        thread = self.channel(contest, thread=True)
        for standing in standings:
            entry = standing.entry
            if entry.message_id is None:
                continue
            votes = standing.votes if show_votes else None
            try:
                # Read first: the whole post is sent back with its button turned off.
                post = await thread.fetch_message(entry.message_id)
                await post.edit(view=with_vote(post, entry.id, votes=votes, disabled=True))
            except discord.HTTPException:
                # One lost post must not keep the others' buttons live.
                log.warning("could not freeze entry %d of contest %d", entry.id, contest.id)

    def _entry_links(self, contest: ContestRow, standings: list[Standing]) -> dict[int, str]:
        thread_id = contest.thread_id or contest.channel_id
        return {
            s.entry.id: jump_url(contest.guild_id, thread_id, s.entry.message_id)
            for s in standings
            if s.entry.message_id is not None
        }

    async def _podium_files(
        self,
        contest: ContestRow,
        podium: list[Standing],
        folder: Path,
    ) -> list[tuple[Standing, discord.File]]:
        """The top entries' files, copied from their posts while their total fits the limit."""
        room = self.upload_limit(contest.guild_id)
        thread = self.channel(contest, thread=True)
        files: list[tuple[Standing, discord.File]] = []
        for standing in podium:
            if standing.entry.message_id is None:
                continue
            try:
                post = await thread.fetch_message(standing.entry.message_id)
            except discord.HTTPException:
                continue  # the results still link the entry, so the podium stays complete
            chosen = media.pick(post.attachments, room)
            if chosen is None:
                continue
            suffix = chosen.filename.rpartition(".")[2]
            name = f"{standing.place}-entry-{standing.entry.id}.{suffix}"
            try:
                copied = await media.copy(self._session, chosen, folder, room, name)
            except AttachmentError:
                log.warning("could not copy entry %d of contest %d", standing.entry.id, contest.id)
                continue  # linked all the same
            files.append((standing, discord_file(copied)))
            room -= chosen.size
        return files
