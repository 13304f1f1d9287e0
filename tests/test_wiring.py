"""The wiring: every part built from Settings, on one database, one API client and one session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from discord import app_commands

from bot.app import VideoBot
from bot.config import Settings
from bot.errors import UserError, VideoNotFound
from bot.spending.moderation import Moderation
from bot.spending.rules import PromptRefused
from bot.storage import Database, LeaseRepository, SqliteDatabase, open_database
from bot.storage.notices import ChangeFeed
from bot.tracker.cadence import Cadence
from bot.tracker.leases import Leases
from bot.videoapi.models import Video
from bot.videoapi.openrouter.client import OpenRouterClient
from bot.wiring import (
    WEBHOOK_SAFETY_LOOK,
    Tuning,
    build_bot,
    cadence_of,
    change_feed,
    moderation_of,
    open_api,
)
from tests.postgres import PostgresServer

# Long before any real clock reads now: only the tuned contest clock puts a contest's
# submissions at this moment.
NOW = 1_000_000_000.0
GUILD = 10
OWNER, OTHER = 1, 2


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, discord_token="fake", **values)  # type: ignore[call-arg]


@asynccontextmanager
async def wired(
    chosen: Settings, db: Database, tuning: Tuning | None = None
) -> AsyncIterator[VideoBot]:
    """The bot as `videobot run` builds it on the built-in simulator, never logged in."""
    async with open_api(chosen) as api, aiohttp.ClientSession() as session:
        bot = build_bot(chosen, db, api, session, tuning or Tuning())
        try:
            yield bot
        finally:
            await bot.close()


async def test_every_part_is_built_on_the_one_database_client_and_session(tmp_path: Path) -> None:
    chosen = settings()
    assert chosen.uses_simulator
    async with (
        await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db,
        open_api(chosen) as api,
        aiohttp.ClientSession() as session,
    ):
        bot = build_bot(chosen, db, api, session)
        try:
            assert bot.settings is chosen
            assert bot.db is db
            assert bot.api is api
            assert bot.http_session is session
            # Alone on its SQLite file: no leases to take, nobody to share jobs with.
            assert bot.leases is None
        finally:
            await bot.close()


async def test_the_contest_service_reads_the_videos_the_jobs_store_at_the_tuned_time(
    tmp_path: Path,
) -> None:
    async with (
        await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db,
        wired(settings(), db, Tuning(contest_clock=lambda: NOW)) as bot,
    ):
        row = await bot.videos.insert(
            Video.model_validate(
                {"id": "video_1", "status": "completed", "created_at": int(NOW), "progress": 100}
            ),
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=20,
            kind="create",
            prompt="a heron in the rain",
            model="sora-2",
            size="1280x720",
            seconds="4",
        )
        contest = await bot.contests.contests.create(
            guild_id=GUILD,
            channel_id=20,
            created_by=OWNER,
            theme="rain",
            max_entries=1,
            vote_budget=3,
            live_counts=False,
            starts_at=NOW - 60,
            submissions_end_at=NOW + 3600,
            voting_end_at=NOW + 7200,
        )
        # Found through the same database, and open for entries by the tuned clock.
        with pytest.raises(UserError, match=r"^Only your own videos"):
            await bot.contests.submit(contest, user_id=OTHER, video_id=row.id, upload_limit=1)
        with pytest.raises(VideoNotFound):
            await bot.contests.submit(contest, user_id=OTHER, video_id="video_9", upload_limit=1)


async def test_the_settings_reach_the_parts(tmp_path: Path) -> None:
    chosen = settings(asset_cooldown_uses=1, asset_cooldown_seconds=60)
    async with (
        await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db,
        wired(chosen, db) as bot,
    ):
        bot.asset_cooldown.hit(OWNER)
        with pytest.raises(app_commands.CommandOnCooldown):
            bot.asset_cooldown.hit(OWNER)
        bot.asset_cooldown.hit(OTHER)


async def test_the_tracker_gives_a_silent_job_up_after_the_set_minutes(tmp_path: Path) -> None:
    async with (
        await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db,
        wired(settings(status_give_up_minutes=3), db) as bot,
    ):
        assert bot.tracker.status_give_up == 180


@pytest.mark.parametrize(
    ("poll_interval", "expected"),
    [(5.0, Cadence(base=5.0, floor=1.0)), (0.2, Cadence(base=0.2, floor=0.2))],
)
def test_the_cadence_follows_the_poll_interval(poll_interval: float, expected: Cadence) -> None:
    assert cadence_of(settings(poll_interval=poll_interval)) == expected


async def test_a_shared_database_gets_leases(postgres: PostgresServer) -> None:
    chosen = settings(lease_seconds=60, lease_renew_seconds=20)
    url = await postgres.new_database()
    async with await open_database(url, Path("unused")) as db, wired(chosen, db) as bot:
        # Other processes on this database: each job is followed by the holder of its lease.
        assert db.shared
        assert bot.leases is not None


async def test_only_processes_sharing_postgresql_hear_of_their_jobs_changes(
    tmp_path: Path,
) -> None:
    url = "postgresql://bot@127.0.0.1:5432/videobot"
    # The feed is only built here, never started: any database serves.
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        leases = Leases(LeaseRepository(db), holder="this one")
        assert isinstance(change_feed(settings(database_url=url), db, leases), ChangeFeed)
        # One process on its SQLite file, or no other process: nothing to hear.
        assert change_feed(settings(), db, leases) is None
        assert change_feed(settings(database_url=url), db, None) is None


async def test_provider_openrouter_without_a_key_runs_on_the_openrouter_dialect() -> None:
    async with open_api(settings(provider="openrouter")) as api:
        assert isinstance(api, OpenRouterClient)
        assert api.base_url.endswith("/api/v1")
        # The catalogue was read on opening: the simulator's models, not the preset's one.
        assert "alibaba/wan-2.6" in api.profile.models


def test_provider_api_key_is_the_neutral_name_for_the_key_openrouter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("PROVIDER_API_KEY", "sk-or-neutral")
    key = settings().openai_api_key
    assert key is not None
    assert key.get_secret_value() == "sk-or-neutral"
    monkeypatch.delenv("PROVIDER_API_KEY")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-old-name")
    key = settings().openai_api_key
    assert key is not None
    assert key.get_secret_value() == "sk-old-name"


def test_with_openrouter_webhooks_the_tracker_only_takes_a_slow_safety_look() -> None:
    hooks = {"provider": "openrouter", "webhook_public_url": "https://bot.example/hooks"}
    assert cadence_of(settings(**hooks)).base == 5.0
    slow = cadence_of(settings(openrouter_webhook_secret="s", **hooks))
    assert slow.base == slow.floor == slow.ceiling == WEBHOOK_SAFETY_LOOK


async def test_prompt_rules_moderation_is_wired_only_with_its_key() -> None:
    async with aiohttp.ClientSession() as session:
        assert moderation_of(settings(), session) is None
        checked = moderation_of(
            settings(moderation_api_key="sk-mod", moderation_base_url="http://127.0.0.1:9/v1/"),
            session,
        )
    assert isinstance(checked, Moderation)


async def test_prompt_rules_are_handed_to_jobs_and_the_bot(tmp_path: Path) -> None:
    async with (
        await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db,
        wired(settings(), db) as bot,
    ):
        assert not bot.prompts.moderated
        await bot.prompts.store.add(GUILD, "wolf", OWNER, NOW, most=10)
        request = bot.jobs.created(
            "a wolf",
            model=None,
            size=None,
            seconds=None,
            owner_id=OWNER,
            guild_id=GUILD,
            channel_id=3,
        )
        with pytest.raises(PromptRefused):
            await bot.jobs.start(request, Refusing())


class Refusing:
    """A first card's place that is never shown: the job is refused before it would be."""

    interaction = None

    async def begin(self) -> None:
        return None

    async def abort(self) -> None:
        return None
