"""Delivery: coalesced progress edits, the result at once, backoff that survives a restart.

Discord is a small recording fake of the three things Delivery uses (a client's partial
messageables, their partial messages, a poster); the database is a real SQLite file and the
files come from the stubs in `stubs.py`.
"""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.delivery import CardViews, Delivery, ResultFiles
from bot.delivery.files import GONE, Undeliverable
from bot.interactions.buttons import result_buttons, waiting_buttons
from bot.storage import Database, LeaseRepository, SqliteDatabase, VideoRepository, VideoRow
from bot.tracker.leases import Leases
from bot.tracker.service import JobEvent
from bot.videoapi.capabilities import Capabilities
from bot.videoapi.client import MIB
from bot.videoapi.errors import (
    APIConnectionError,
    InternalServerError,
    RedirectRefusedError,
    ResponseTooLargeError,
)
from bot.videoapi.models import ContentVariant, Operation, Video
from bot.videoapi.providers import DEFAULT_PROVIDER
from tests import cards

from .stubs import StubAssets, StubFit

WALL = 1_800_000_000
OWNER = 11
GUILD = 22
CHANNEL = 33
CARD = 5000
# A second configured provider, beside the default one.
SECOND = "second"


class Response:
    """What discord.HTTPException reads of a failed request."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "refused"


def refused(status: int = 500) -> discord.HTTPException:
    return discord.HTTPException(Response(status), "refused")


@dataclass
class Shown:
    """One message as Discord got it: a post, an edit of `message_id`, or a new message."""

    route: str
    message_id: int
    at: float
    fields: dict[str, Any]

    @property
    def components(self) -> list[dict[str, Any]]:
        """The card as Discord gets it (Components V2)."""
        layout: discord.ui.LayoutView = self.fields["view"]
        return layout.to_components()

    @property
    def status(self) -> str | None:
        return cards.heading(self.components)

    def field(self, name: str) -> str | None:
        return cards.facts(self.components).get(name)

    @property
    def files(self) -> list[str] | None:
        return self.fields.get("files")

    @property
    def buttons(self) -> list[str]:
        return [custom_id for row in cards.button_rows(self.components) for custom_id in row]


def snapshot(fields: dict[str, Any]) -> dict[str, Any]:
    """What a request carried, its files by name (and closed, as discord.py closes them)."""
    kept = dict(fields)
    uploads: list[discord.File] | None = kept.pop("attachments", kept.pop("files", None))
    if uploads is not None:
        kept["files"] = [upload.filename for upload in uploads]
        for upload in uploads:
            upload.close()
    return kept


@dataclass
class Channel:
    id: int


@dataclass
class Message:
    channel: Channel
    id: int


@dataclass
class Attached:
    filename: str


@dataclass
class Author:
    id: int


@dataclass
class Read:
    """A message as reading it back gives it: its author and the files it carries now."""

    id: int
    author: Author
    attachments: list[Attached]


BOT = Author(99)


class FakeDiscord:
    """Records every message shown; `refuse` holds what the next requests fail with."""

    def __init__(self) -> None:
        self.shown: list[Shown] = []
        self.refuse: list[Exception] = []
        self.gone: set[int] = set()
        # Messages read back (None: the channel's history).
        self.reads: list[int | None] = []
        self.user = BOT
        self._next_id = CARD

    def read(self, message_id: int) -> Read:
        carried = [s.files for s in self.shown if s.message_id == message_id and s.files]
        files = carried[-1] if carried else []
        return Read(message_id, BOT, [Attached(name) for name in files])

    def record(self, route: str, message_id: int, fields: dict[str, Any]) -> None:
        if self.refuse:
            raise self.refuse.pop(0)
        if message_id in self.gone:
            raise discord.NotFound(Response(404), "Unknown Message")
        self.shown.append(Shown(route, message_id, time.monotonic(), snapshot(fields)))

    def new_message(self, route: str, fields: dict[str, Any]) -> Message:
        self.record(route, self._next_id, fields)
        self._next_id += 1
        return Message(Channel(CHANNEL), self._next_id - 1)

    # What Delivery calls on its client.

    def get_partial_messageable(self, channel_id: int, *, guild_id: int | None) -> FakeChannel:
        assert (channel_id, guild_id) == (CHANNEL, GUILD)
        return FakeChannel(self)

    def get_guild(self, guild_id: int) -> None:
        return None


class FakeChannel:
    def __init__(self, discord_: FakeDiscord) -> None:
        self._discord = discord_

    def get_partial_message(self, message_id: int) -> FakePartialMessage:
        return FakePartialMessage(self._discord, message_id)

    async def send(self, **fields: Any) -> Message:
        return self._discord.new_message("send", fields)

    async def fetch_message(self, message_id: int) -> Read:
        self._discord.reads.append(message_id)
        if message_id in self._discord.gone:
            raise discord.NotFound(Response(404), "Unknown Message")
        return self._discord.read(message_id)

    async def history(self, *, limit: int) -> AsyncIterator[Read]:
        self._discord.reads.append(None)
        shown = {s.message_id for s in self._discord.shown} - self._discord.gone
        for message_id in sorted(shown, reverse=True)[:limit]:
            yield self._discord.read(message_id)


class FakePartialMessage:
    def __init__(self, discord_: FakeDiscord, message_id: int) -> None:
        self._discord = discord_
        self._id = message_id

    async def edit(self, **fields: Any) -> None:
        self._discord.record("edit", self._id, fields)


class Poster:
    interaction = None

    def __init__(self, discord_: FakeDiscord) -> None:
        self._discord = discord_

    lead = None

    async def show(self, layout: discord.ui.LayoutView) -> Message:
        return self._discord.new_message("post", {"view": layout})


class SettlingAssets(StubAssets):
    """The provider's files, with something else happening while they download."""

    meanwhile: Callable[[], Awaitable[object]] | None = None

    async def fetch(
        self,
        video_id: str,
        variant: ContentVariant,
        dest: Path,
        *,
        source: Path | None = None,
        provider: str | None = None,
    ) -> Path:
        if self.meanwhile is not None:
            await self.meanwhile()
        return await super().fetch(video_id, variant, dest, source=source)


def failing(times: int, exc: Exception, real: Callable[..., Awaitable[Any]]) -> Any:
    """`real`, raising `exc` on its first `times` calls."""
    left = [exc] * times

    async def call(*args: Any, **kwargs: Any) -> Any:
        if left:
            raise left.pop()
        return await real(*args, **kwargs)

    return call


def on_failure(videos: VideoRepository, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once delivery has stored a failed attempt (and so scheduled the next one)."""
    stored = asyncio.Event()
    real = videos.delivery_failed

    async def delivery_failed(video_id: str, retry_at: float, **kw: Any) -> VideoRow | None:
        row = await real(video_id, retry_at, **kw)
        stored.set()
        return row

    monkeypatch.setattr(videos, "delivery_failed", delivery_failed)
    return stored


class Env:
    def __init__(self, videos: VideoRepository, make: Callable[..., Delivery]) -> None:
        self.videos = videos
        self.discord = FakeDiscord()
        # Each configured provider's client, by name; the default one's is `capabilities`.
        self.answers = {DEFAULT_PROVIDER: Capabilities(), SECOND: Capabilities()}
        self.capabilities = self.answers[DEFAULT_PROVIDER]
        self.assets = SettlingAssets({"video": 1000, "thumbnail": 100})
        self.events: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._make = make
        self.delivery = self.restart()

    def restart(self, **options: Any) -> Delivery:
        files = ResultFiles(self.assets, StubFit(500))  # type: ignore[arg-type]
        self.delivery = self._make(self.discord, files, self.answers, **options)
        self.events = asyncio.Queue()
        self.delivery.start(self.events)
        return self.delivery

    async def job(
        self, video_id: str = "video_1", provider: str = DEFAULT_PROVIDER, **changes: Any
    ) -> VideoRow:
        body: dict[str, Any] = {
            "id": video_id,
            "status": "queued",
            "model": "sora-2",
            "size": "720x1280",
            "seconds": "4",
            "created_at": WALL - 60,
        }
        return await self.videos.insert(
            Video.model_validate(body | changes),
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=CHANNEL,
            kind="create",
            prompt="a red kite",
            model="sora-2",
            size="720x1280",
            seconds="4",
            provider=provider,
        )

    async def refresh(self, row: VideoRow, **changes: Any) -> VideoRow:
        """The provider's news about `row`, stored as the tracker stores it."""
        body: dict[str, Any] = {"id": row.id, "status": row.status, "progress": row.progress}
        updated = await self.videos.apply_refresh(Video.model_validate(body | changes))
        assert updated is not None
        return updated

    async def done(self, row: VideoRow, **changes: Any) -> VideoRow:
        return await self.refresh(
            row, status="completed", progress=100, completed_at=WALL - 46, **changes
        )

    async def publish(self, row: VideoRow, predicted_end: float | None = None) -> None:
        self.events.put_nowait(JobEvent(row, None, predicted_end))
        # Delivery takes it off the queue and schedules the card's edit in the same step.
        while not self.events.empty():  # noqa: ASYNC110 - the queue is Delivery's, not ours
            await asyncio.sleep(0)

    async def settle(self) -> None:
        await asyncio.wait_for(self.delivery.idle(), 10)

    async def posted(self, row: VideoRow) -> VideoRow:
        """`row`'s first card, posted as Jobs posts it."""
        return await self.delivery.post_first(row, Poster(self.discord), None)  # type: ignore[arg-type]

    async def stored(self, row: VideoRow) -> VideoRow:
        fresh = await self.videos.get(row.id)
        assert fresh is not None
        return fresh


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        yield db


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    videos = VideoRepository(database)
    made: list[Delivery] = []

    def make(
        client: FakeDiscord,
        files: ResultFiles,
        answers: Mapping[str, Capabilities],
        **options: Any,
    ) -> Delivery:
        options = {"edit_interval": 0.2, "retry_base": 0.1, "retry_max": 0.15} | options
        delivery = Delivery(
            client,  # type: ignore[arg-type]
            videos,
            files,
            answers,
            views=CardViews(result_buttons, waiting_buttons),
            wall=lambda: float(WALL),
            **options,
        )
        made.append(delivery)
        return delivery

    yield Env(videos, make)
    for delivery in made:
        await delivery.stop()


# -- progress and result ---------------------------------------------------------------------


async def test_progress_edits_are_coalesced_and_spaced(env: Env) -> None:
    row = await env.posted(await env.job())
    posted_at = env.discord.shown[0].at
    for progress in (10, 20, 30):
        row = await env.refresh(row, status="in_progress", progress=progress)
        await env.publish(row)
    await env.settle()
    edits = [s for s in env.discord.shown if s.route == "edit"]
    # Three changes, one edit, showing the last of them, no sooner than the interval allows.
    assert len(edits) == 1
    assert edits[0].message_id == CARD
    assert "30%" in (edits[0].field("Progress") or "")
    assert edits[0].at >= posted_at + 0.2

    row = await env.refresh(row, progress=40)
    await env.publish(row)
    await env.settle()
    edits = [s for s in env.discord.shown if s.route == "edit"]
    assert len(edits) == 2
    assert edits[1].at >= edits[0].at + 0.2


async def test_a_result_card_offers_what_its_own_provider_serves(env: Env) -> None:
    # The second provider refused remix; the default one serves it; a removed one serves none.
    env.answers[SECOND].record(Operation.REMIX, served=False)
    made = ((DEFAULT_PROVIDER, "video_1"), (SECOND, "video_2"), ("removed", "video_3"))
    rows = [
        await env.done(await env.posted(await env.job(video_id, provider)))
        for provider, video_id in made
    ]
    for row in rows:
        await env.publish(row)
    await env.settle()
    shown = {s.message_id: s.buttons or [] for s in env.discord.shown if s.files}
    default, second, removed = (shown[CARD], shown[CARD + 1], shown[CARD + 2])
    assert f"videobot:v2:remix:{rows[0].key}" in default
    assert f"videobot:v2:remix:{rows[1].key}" not in second
    assert f"videobot:v2:delete:{rows[1].key}" in second
    assert removed == []


async def test_an_event_that_changes_nothing_shown_makes_no_edit(env: Env) -> None:
    row = await env.posted(await env.job())
    await env.publish(row)
    await env.publish(row)
    await env.settle()
    assert [s.route for s in env.discord.shown] == ["post"]


async def test_the_expected_finish_is_shown_while_it_runs(env: Env) -> None:
    row = await env.posted(await env.job())
    row = await env.refresh(row, status="in_progress", progress=50)
    await env.publish(row, predicted_end=WALL + 90)
    await env.settle()
    assert env.discord.shown[-1].field("Expected") == f"done <t:{WALL + 90}:R>"


async def test_the_result_goes_out_at_once(env: Env) -> None:
    env.restart(edit_interval=3600.0)
    row = await env.posted(await env.job())
    posted_at = env.discord.shown[0].at
    row = await env.refresh(row, status="in_progress", progress=50)
    await env.publish(row)
    row = await env.done(row)
    await env.publish(row)
    await env.settle()
    shown = env.discord.shown[1:]
    # The held-back progress edit is overtaken by the result; nothing waits out the interval.
    assert [(s.route, s.message_id, s.status) for s in shown] == [("edit", CARD, "✅ Done")]
    assert shown[0].files == [f"video-{row.key}.mp4"]
    assert shown[0].buttons is not None
    assert f"videobot:v2:remix:{row.key}" in shown[0].buttons
    assert shown[0].field("Took") == "14 s"
    assert shown[0].at - posted_at < 3600
    assert (await env.stored(row)).delivered_at is not None


async def test_a_delivered_result_is_not_posted_again(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()))
    await env.publish(row)
    await env.settle()
    await env.publish(row)
    await env.settle()
    assert [s.route for s in env.discord.shown] == ["post", "edit"]
    assert len(env.assets.fetched) == 1


# -- failures, backoff, restarts -------------------------------------------------------------


async def test_a_failed_result_backs_off_with_the_stored_time_and_says_when(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()))
    env.assets.failures = [InternalServerError("down", status=503)] * 2
    await env.publish(row)
    await env.settle()

    stored = await env.stored(row)
    assert stored.delivered_at is not None
    assert stored.delivery_attempts == 2
    # The second wait doubles the first, capped at retry_max, less up to a quarter of jitter.
    assert stored.delivery_retry_at is not None
    assert WALL + 0.15 * 0.75 <= stored.delivery_retry_at <= WALL + 0.15
    edits = [s for s in env.discord.shown if s.route == "edit"]
    notes = [s.field("Note") for s in edits[:-1]]
    waiting = f"Your video is ready. Posting it failed, so I'll try again <t:{WALL}:R>."
    assert notes == [waiting, waiting]
    assert all(s.status == "✅ Done" and s.files is None for s in edits[:-1])
    assert edits[-1].files == [f"video-{row.key}.mp4"]
    assert edits[-1].field("Note") is None
    # Each try waits its turn: the second at least 0.075 s after the first, the third 0.1125 s.
    assert edits[1].at - edits[0].at >= 0.1 * 0.75
    assert edits[2].at - edits[1].at >= 0.15 * 0.75
    assert len(env.assets.fetched) == 3


async def test_the_first_failure_waits_retry_base(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()))
    env.assets.failures = [InternalServerError("down", status=503)]
    await env.publish(row)
    await env.settle()
    stored = await env.stored(row)
    assert stored.delivery_attempts == 1
    assert stored.delivery_retry_at is not None
    assert WALL + 0.1 * 0.75 <= stored.delivery_retry_at <= WALL + 0.1


async def test_a_restart_keeps_the_stored_schedule(env: Env) -> None:
    row = await env.done(await env.job())
    await env.videos.set_status_message(row.id, CHANNEL, CARD)
    await env.videos.delivery_failed(row.id, WALL + 0.3)
    row = await env.stored(row)
    env.restart()
    started = time.monotonic()
    await env.publish(row)
    await env.settle()
    assert len(env.discord.shown) == 1
    assert env.discord.shown[0].files == [f"video-{row.key}.mp4"]
    assert env.discord.shown[0].at >= started + 0.3
    assert len(env.assets.fetched) == 1


async def test_an_edit_discord_refuses_is_tried_again(env: Env) -> None:
    row = await env.posted(await env.job())
    env.discord.refuse = [refused(503)]
    row = await env.refresh(row, status="in_progress", progress=10)
    await env.publish(row)
    await env.settle()
    edits = [s for s in env.discord.shown if s.route == "edit"]
    assert len(edits) == 1
    assert "10%" in (edits[0].field("Progress") or "")


# -- expiry ----------------------------------------------------------------------------------


async def test_files_expired_by_the_clock_end_the_job_failed(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()), expires_at=WALL - 1)
    await env.publish(row)
    await env.settle()
    result = env.discord.shown[-1]
    assert result.status == "❌ Failed"
    assert result.field("Why") == GONE
    assert result.files == []
    assert result.buttons == [f"videobot:v2:delete:{row.key}"]
    assert env.assets.fetched == []
    stored = await env.stored(row)
    assert (stored.status, stored.error_code, stored.error_message) == ("failed", "expired", GONE)
    assert stored.delivered_at is not None


async def test_files_the_provider_no_longer_has_end_the_job_failed(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()), expires_at=WALL + 3600)
    env.assets.gone = True
    await env.publish(row)
    await env.settle()
    result = env.discord.shown[-1]
    assert (result.status, result.field("Why"), result.files) == ("❌ Failed", GONE, [])
    stored = await env.stored(row)
    assert (stored.error_code, stored.delivery_attempts) == ("expired", 0)
    assert stored.delivered_at is not None


# -- the card itself -------------------------------------------------------------------------


async def test_a_first_card_discord_refuses_does_not_stop_the_job(env: Env) -> None:
    job = await env.job()
    env.discord.refuse = [refused(500)]
    row = await env.posted(job)
    assert row == job
    assert env.discord.shown == []
    assert (await env.stored(row)).status_message_id is None

    row = await env.done(row)
    await env.publish(row)
    await env.settle()
    [result] = env.discord.shown
    assert result.route == "send"
    assert cards.texts(result.components)[0] == f"<@{OWNER}> here is your video's status."
    assert result.files == [f"video-{row.key}.mp4"]
    stored = await env.stored(row)
    assert stored.status_message_id == result.message_id
    assert stored.delivered_at is not None


async def test_a_card_deleted_in_discord_is_posted_anew(env: Env) -> None:
    row = await env.posted(await env.job())
    env.discord.gone.add(CARD)
    row = await env.done(row)
    await env.publish(row)
    await env.settle()
    assert [s.route for s in env.discord.shown] == ["post", "send"]
    assert env.discord.shown[-1].files == [f"video-{row.key}.mp4"]
    assert (await env.stored(row)).status_message_id == env.discord.shown[-1].message_id


async def test_a_finished_job_posted_late_gets_its_result_at_once(env: Env) -> None:
    row = await env.done(await env.job())
    await env.posted(row)
    await env.settle()
    assert [(s.route, s.status) for s in env.discord.shown] == [
        ("post", "✅ Done"),
        ("edit", "✅ Done"),
    ]
    assert env.discord.shown[-1].files == [f"video-{row.key}.mp4"]


async def test_a_tombstone_clears_the_card(env: Env) -> None:
    row = await env.posted(await env.job())
    row = await env.stored(row)
    await env.delivery.tombstone(row, 99)
    tomb = env.discord.shown[-1]
    assert (tomb.route, tomb.message_id) == ("edit", CARD)
    assert (tomb.fields["content"], tomb.fields["embed"]) == (None, None)
    assert tomb.files == []
    assert tomb.buttons == []
    assert cards.texts(tomb.components) == [
        "🗑️ This video was deleted by <@99>.",
        f"-# {row.ref} · {row.id}",
    ]


async def test_a_tombstone_without_a_card_sends_nothing(env: Env) -> None:
    row = await env.job()
    await env.delivery.tombstone(row, 99)
    assert env.discord.shown == []


async def test_a_tombstone_discord_refuses_is_only_logged(env: Env) -> None:
    row = await env.stored(await env.posted(await env.job()))
    env.discord.refuse = [refused(500)]
    await env.delivery.tombstone(row, 99)
    assert [s.route for s in env.discord.shown] == ["post"]


# -- results that cannot be delivered, or recorded --------------------------------------------


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Undeliverable("The file is not a video."), "The file is not a video."),
        (
            ResponseTooLargeError("the video is larger than the cap", limit=1024 * MIB),
            "The provider's file is larger than the 1024 MiB this bot downloads, so it cannot "
            "be posted.",
        ),
        (
            RedirectRefusedError("the provider redirected to a private or local address"),
            "The provider sent its file from a private or local address, which this bot never "
            "fetches from, so it cannot be posted.",
        ),
    ],
)
async def test_a_result_no_retry_can_post_ends_with_its_reason(
    env: Env, failure: Exception, reason: str
) -> None:
    row = await env.done(await env.posted(await env.job()))
    env.assets.failures = [failure]
    await env.publish(row)
    await env.settle()

    result = env.discord.shown[-1]
    assert (result.route, result.status, result.files) == ("edit", "✅ Done", [])
    assert result.field("Note") == reason
    # Given up at once: one download, no retry scheduled, nothing left pending.
    assert len(env.assets.fetched) == 1
    stored = await env.stored(row)
    assert stored.delivered_at is not None
    assert stored.delivery_attempts == 0
    assert env.delivery._cards == {}


async def test_an_undeliverable_result_is_not_downloaded_again_when_discord_fails(
    env: Env,
) -> None:
    row = await env.done(await env.posted(await env.job()))
    env.assets.failures = [Undeliverable("The provider's file is not a video.")]
    # The reason's first post fails (Discord), then the note about the retry fails too.
    env.discord.refuse = [refused(503), refused(503)]
    await env.publish(row)
    await env.settle()

    assert env.discord.shown[-1].field("Note") == "The provider's file is not a video."
    assert len(env.assets.fetched) == 1
    assert (await env.stored(row)).delivered_at is not None


async def test_a_result_posted_but_not_recorded_is_recorded_from_memory_not_posted_again(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = await env.done(await env.posted(await env.job()))
    disk_full = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(
        env.videos, "mark_delivered", failing(2, disk_full, env.videos.mark_delivered)
    )
    monkeypatch.setattr(
        env.videos, "delivery_failed", failing(9, disk_full, env.videos.delivery_failed)
    )
    await env.publish(row)
    await env.settle()

    assert [s.route for s in env.discord.shown] == ["post", "edit"]
    assert env.discord.shown[-1].files == [f"video-{row.key}.mp4"]
    assert len(env.assets.fetched) == 1
    assert (await env.stored(row)).delivered_at is not None


async def test_a_failure_that_cannot_be_recorded_is_retried_from_memory(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = await env.done(await env.posted(await env.job()))
    env.assets.failures = [OSError(errno.ENOSPC, "No space left on device")]
    disk_full = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(
        env.videos, "delivery_failed", failing(1, disk_full, env.videos.delivery_failed)
    )
    await env.publish(row)
    await env.settle()

    assert env.discord.shown[-1].files == [f"video-{row.key}.mp4"]
    assert len(env.assets.fetched) == 2
    assert (await env.stored(row)).delivered_at is not None


async def test_a_result_waiting_out_a_provider_failure_goes_when_the_provider_answers(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After many failures the next try would be minutes away.
    env.restart(retry_base=0.05, retry_max=3600.0)
    row = await env.done(await env.posted(await env.job()))
    for _ in range(12):
        await env.videos.delivery_failed(row.id, WALL)
    row = await env.stored(row)
    failed = on_failure(env.videos, monkeypatch)
    env.assets.failures = [APIConnectionError("could not reach the video API")]
    await env.publish(row)
    await asyncio.wait_for(failed.wait(), 10)
    assert env.delivery._cards[row.key].retry_at > time.monotonic() + 60

    # The tracker's next status request is answered: the provider is back.
    env.capabilities.answered()
    await env.settle()

    assert env.discord.shown[-1].files == [f"video-{row.key}.mp4"]
    assert (await env.stored(row)).delivered_at is not None


async def test_a_provider_answering_again_wakes_only_the_results_of_its_own_jobs(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.restart(retry_base=0.05, retry_max=3600.0)
    failed = on_failure(env.videos, monkeypatch)
    # One finished job at each provider (and one of a provider no longer configured), whose
    # next try after many failures is minutes away.
    rows: dict[str, VideoRow] = {}
    made = ((DEFAULT_PROVIDER, "video_1"), (SECOND, "video_2"), ("removed", "video_3"))
    for provider, video_id in made:
        row = await env.done(await env.posted(await env.job(video_id, provider)))
        for _ in range(12):
            await env.videos.delivery_failed(row.id, WALL)
        rows[provider] = row = await env.stored(row)
        env.assets.failures = [APIConnectionError("could not reach the video API")]
        failed.clear()
        await env.publish(row)
        await asyncio.wait_for(failed.wait(), 10)
    cards_ = {provider: env.delivery._cards[row.key] for provider, row in rows.items()}
    assert all(card.retry_at > time.monotonic() + 60 for card in cards_.values())

    # The default provider is back: its result goes now, the second one's keeps its backoff.
    first = cards_[DEFAULT_PROVIDER].task
    assert first is not None
    env.capabilities.answered()
    await asyncio.wait_for(first, 10)
    assert (await env.stored(rows[DEFAULT_PROVIDER])).delivered_at is not None
    assert cards_[SECOND].retry_at > time.monotonic() + 60
    assert (await env.stored(rows[SECOND])).delivered_at is None

    # Then the second provider answers too: its own result goes. No answer is the removed
    # provider's: its result is not tried again early.
    second = cards_[SECOND].task
    assert second is not None
    env.answers[SECOND].answered()
    await asyncio.wait_for(second, 10)
    assert (await env.stored(rows[SECOND])).delivered_at is not None
    assert cards_["removed"].retry_at > time.monotonic() + 60
    assert [video_id for video_id, *_ in env.assets.fetched] == [
        "video_1",
        "video_2",
        "video_3",
        "video_1",
        "video_2",
    ]


async def test_a_discord_failure_is_not_retried_early_when_the_provider_answers(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.restart(retry_base=0.05, retry_max=3600.0)
    row = await env.done(await env.posted(await env.job()))
    for _ in range(12):
        await env.videos.delivery_failed(row.id, WALL)
    row = await env.stored(row)
    failed = on_failure(env.videos, monkeypatch)
    env.discord.refuse = [refused(503)]
    await env.publish(row)
    await asyncio.wait_for(failed.wait(), 10)

    env.capabilities.answered()
    for _ in range(20):
        await asyncio.sleep(0)

    # Discord failed it, not the provider: the backoff stands.
    assert len(env.assets.fetched) == 1
    assert env.delivery._cards[row.key].retry_at > time.monotonic() + 60


async def test_the_card_shows_the_price_the_ledger_settled_at(env: Env) -> None:
    row = await env.posted(await env.job())
    await env.videos.set_cost(row.key, 0.8)
    row = await env.done(row)

    async def settle_meanwhile() -> None:
        # The provider made 2 of the 8 seconds reserved; the ledger settles while files download.
        await env.videos.set_cost(row.key, 0.2)

    env.assets.meanwhile = settle_meanwhile
    await env.publish(row)
    await env.settle()

    assert env.discord.shown[-1].files == [f"video-{row.key}.mp4"]
    assert env.discord.shown[-1].field("Price") == "$0.20"


# -- several processes: read back before posting, fenced writes ------------------------------


async def test_a_result_already_on_the_card_is_recorded_not_posted_again(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()))
    # A process that posted the result and died (or lost the database) before recording it.
    env.discord.shown.append(
        Shown("edit", CARD, time.monotonic(), {"files": [f"video-{row.key}.mp4"]})
    )
    env.restart()
    await env.publish(row)
    await env.settle()

    assert [s.route for s in env.discord.shown] == ["post", "edit"]
    assert env.discord.reads == [CARD]
    assert env.assets.fetched == []  # not even downloaded again
    assert (await env.stored(row)).delivered_at is not None


async def test_a_result_posted_anew_for_a_deleted_card_is_found_in_the_channel(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()))
    env.discord.gone.add(CARD)
    env.discord.shown.append(
        Shown("send", CARD + 1, time.monotonic(), {"files": [f"video-{row.key}.mp4"]})
    )
    await env.publish(row)
    await env.settle()

    assert [s.route for s in env.discord.shown] == ["post", "send"]
    assert env.discord.reads == [CARD, None]
    assert (await env.stored(row)).delivered_at is not None


async def test_a_card_without_the_result_gets_it(env: Env) -> None:
    row = await env.done(await env.posted(await env.job()))
    await env.publish(row)
    await env.settle()

    assert env.discord.reads == [CARD]
    assert env.discord.shown[-1].files == [f"video-{row.key}.mp4"]


class Shared:
    """Two processes' leases on the test's database, on one clock the test moves."""

    def __init__(self, database: Database) -> None:
        self.now = float(WALL)
        self.mine = self._leases(database, "mine")
        self.theirs = self._leases(database, "theirs")

    def _leases(self, database: Database, holder: str) -> Leases:
        repository = LeaseRepository(database)
        return Leases(repository, ttl=20.0, holder=holder, clock=lambda: self.now)

    async def taken_over(self, key: int) -> None:
        """This process stalled past its lease, and the other took the job."""
        self.now += 21.0
        assert await self.theirs.claim(key)


async def test_a_pending_edit_of_a_job_another_process_took_is_dropped(
    env: Env, database: Database
) -> None:
    shared = Shared(database)
    env.restart(leases=shared.mine)
    row = await env.job()
    assert await shared.mine.claim(row.key)  # before its call, as jobs leases it
    row = await env.posted(row)
    await shared.taken_over(row.key)
    row = await env.refresh(row, status="in_progress", progress=40)
    await env.publish(row)
    await env.settle()

    # Checked at the moment of the write: the other process's card is left alone.
    assert [s.route for s in env.discord.shown] == ["post"]
    assert shared.mine.fence(row.key) is None


async def test_a_renewal_that_finds_the_lease_lost_drops_the_waiting_edit_at_once(
    env: Env, database: Database
) -> None:
    shared = Shared(database)
    env.restart(leases=shared.mine, edit_interval=3600.0)
    row = await env.job()
    assert await shared.mine.claim(row.key)  # before its call, as jobs leases it
    row = await env.posted(row)
    row = await env.refresh(row, status="in_progress", progress=40)
    await env.publish(row)  # waits out the interval
    await shared.taken_over(row.key)
    assert await shared.mine.renew() == set()
    await env.settle()  # at once: the edit's task was cancelled

    assert [s.route for s in env.discord.shown] == ["post"]


async def test_a_result_of_a_job_another_process_took_is_neither_posted_nor_recorded(
    env: Env, database: Database
) -> None:
    shared = Shared(database)
    env.restart(leases=shared.mine)
    row = await env.job()
    assert await shared.mine.claim(row.key)
    row = await env.done(await env.posted(row))
    # The other process takes the job over while this one downloads its result.
    env.assets.meanwhile = lambda: shared.taken_over(row.key)
    await env.publish(row)
    await env.settle()

    assert [s.route for s in env.discord.shown] == ["post"]
    assert (await env.stored(row)).delivered_at is None
    # The new holder records under its own number.
    theirs = shared.theirs.fence(row.key)
    assert await env.videos.mark_delivered(row.id, fence=(theirs or 0) - 1) is False
    assert await env.videos.mark_delivered(row.id, fence=theirs) is True


async def test_a_first_card_of_a_job_taken_over_while_its_call_was_out_is_not_posted(
    env: Env, database: Database
) -> None:
    shared = Shared(database)
    env.restart(leases=shared.mine)
    row = await env.job()
    assert await shared.mine.claim(row.key)
    await shared.taken_over(row.key)  # stopped during the call; the other process took it
    await env.posted(row)

    assert env.discord.shown == []
