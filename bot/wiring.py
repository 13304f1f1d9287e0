"""Every part of the bot, built from Settings in one place and handed to whoever uses it.

As discord.py's examples/advanced_startup.py: `videobot run` opens the database, the API and
the HTTP session here, and `VideoBot` receives the parts instead of building them. The parts that
post to Discord (delivery, the contest poster) need the bot's connection, so the bot calls
`build_parts` with itself once it exists; nothing else it does decides what a part is made of.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord
import httpx
from pydantic import SecretStr

from bot.app import BuildParts, Parts, StartupError, VideoBot
from bot.config import Settings
from bot.contests.clock import Clock
from bot.contests.poster import ContestPoster
from bot.contests.service import ContestService
from bot.delivery import CardViews, Delivery, ResultFiles
from bot.delivery.files import FittedCache
from bot.interactions import buttons
from bot.interactions.cooldown import MemberCooldown
from bot.interactions.sync import code_payloads
from bot.interactions.tree import explain
from bot.jobs.service import Jobs
from bot.media.assets import Assets
from bot.media.frames import DecodeLimits
from bot.media.pool import MediaPool, WorkerLimits
from bot.spending.service import Spending
from bot.storage import (
    ContestRepository,
    Database,
    GuildRepository,
    LeaseRepository,
    LedgerRepository,
    ReplyRepository,
    SqliteDatabase,
    VideoRepository,
    open_database,
)
from bot.tracker.budget import RequestBudget
from bot.tracker.cadence import Cadence
from bot.tracker.leases import Leases
from bot.tracker.service import Tracker
from bot.videoapi.backend import VideoBackend
from bot.videoapi.client import MIB, VideoClient
from bot.videoapi.openrouter.client import OpenRouterClient

log = logging.getLogger("videobot")


@dataclass(frozen=True, slots=True)
class Tuning:
    """How quickly the parts move where no operator chooses it: tests and benchmarks pass theirs."""

    # Seconds between two edits of one card: Discord's rate limits, with room to spare.
    edit_interval: float = 5.0
    # How often unfinished jobs are looked at; None: POLL_INTERVAL's.
    cadence: Cadence | None = None
    # How long a create whose answer was lost waits before looking for the job it may have made.
    reconcile_wait: float = 2.0
    # Contest deadlines read this clock: tests move it by days without sleeping.
    contest_clock: Clock = time.time


# With OpenRouter's webhooks each job's end is announced (the event is taken as the job's state):
# the tracker's own looks are only a slow safety net for an event that never came.
WEBHOOK_SAFETY_LOOK = 120.0


def cadence_of(settings: Settings) -> Cadence:
    if settings.uses_webhooks:
        look = WEBHOOK_SAFETY_LOOK
        return Cadence(base=look, floor=look, ceiling=look)
    return Cadence(base=settings.poll_interval, floor=min(1.0, settings.poll_interval))


def build_parts(
    settings: Settings,
    db: Database,
    api: VideoBackend,
    http_session: aiohttp.ClientSession,
    client: discord.Client,
    tuning: Tuning = Tuning(),
) -> Parts:
    """Every part, sharing one database, one API client and one session; `client` is the bot
    whose connection delivery and the contest poster post through."""
    videos = VideoRepository(db)
    leases = (
        Leases(
            LeaseRepository(db),
            ttl=settings.lease_seconds,
            renew_every=settings.lease_renew_seconds,
        )
        if db.shared
        else None
    )
    tracker = Tracker(
        api,
        videos,
        cadence=tuning.cadence or cadence_of(settings),
        deadline=settings.job_deadline_minutes * 60,
        status_give_up=settings.status_give_up_minutes * 60,
        leases=leases,
        announced=settings.uses_webhooks,
        # Status requests the provider allows: its profile's rate, tightened by its headers.
        budget=RequestBudget(api.profile.requests_per_minute),
    )
    media = MediaPool(
        settings.media_workers,
        DecodeLimits(settings.media_max_pixels, settings.media_max_seconds),
        WorkerLimits(settings.media_memory_mb * MIB, settings.media_timeout_seconds),
    )
    files = ResultFiles(
        Assets(api, media), media.reencode, FittedCache(settings.media_cache_mb * MIB)
    )
    delivery = Delivery(
        client,
        videos,
        files,
        api.capabilities,
        views=CardViews(buttons.result_view, buttons.waiting_view),
        edit_interval=tuning.edit_interval,
        retry_base=settings.delivery_retry_seconds,
        retry_max=settings.delivery_retry_max_seconds,
        leases=leases,
        replies=ReplyRepository(db),
    )
    ledger = LedgerRepository(db, videos)
    spending = Spending(GuildRepository(db), settings.default_limits)
    jobs = Jobs(
        api,
        videos,
        ledger,
        spending,
        tracker,
        delivery,
        explain=explain,
        reconcile_wait=tuning.reconcile_wait,
        leases=leases,
    )
    contests = ContestRepository(db)
    return Parts(
        db=db,
        api=api,
        http_session=http_session,
        videos=videos,
        leases=leases,
        tracker=tracker,
        media=media,
        result_files=files,
        asset_cooldown=MemberCooldown(
            settings.asset_cooldown_uses, settings.asset_cooldown_seconds
        ),
        delivery=delivery,
        ledger=ledger,
        spending=spending,
        jobs=jobs,
        contests=ContestService(
            contests,
            videos,
            ContestPoster(client, contests, http_session),
            clock=tuning.contest_clock,
            # Other processes on the database post results too: whoever claims them posts.
            claimant=leases.holder if leases is not None else None,
        ),
    )


def build_bot(
    settings: Settings,
    db: Database,
    api: VideoBackend,
    http_session: aiohttp.ClientSession,
    tuning: Tuning = Tuning(),
) -> VideoBot:
    """The bot with every part built from `settings` on this database, API and session."""
    parts: BuildParts = functools.partial(
        build_parts, settings, db, api, http_session, tuning=tuning
    )
    return VideoBot(settings=settings, parts=parts)


@asynccontextmanager
async def open_bot(settings: Settings) -> AsyncIterator[VideoBot]:
    """The configured database, API and HTTP session, and the bot on them; closed after."""
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(
            await open_database(settings.database_dsn(), settings.database_path)
        )
        api = await stack.enter_async_context(open_api(settings))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        bot = build_bot(settings, db, api, session)
        if settings.uses_webhooks:
            await stack.enter_async_context(webhook_receiver(settings, bot.tracker))
        yield bot


def webhook_receiver(settings: Settings, tracker: Tracker) -> AbstractAsyncContextManager[str]:
    """OpenRouter's events, verified, each handed to the tracker as its job's state."""
    assert settings.webhook_public_url is not None
    assert settings.openrouter_webhook_secret is not None
    # The receiver (aiohttp's server) loads only when webhooks are used, as the simulator does.
    from bot.videoapi.openrouter.client import as_video
    from bot.videoapi.openrouter.webhooks import Event, Receiver, serve_receiver

    async def handle(event: Event) -> None:
        tracker.sighted(event.data.id, as_video(event.data.job()))

    path = urlsplit(settings.webhook_public_url).path or "/"
    receiver = Receiver(settings.openrouter_webhook_secret, path, handle)
    return serve_receiver(receiver, settings.webhook_listen)


async def run_bot(settings: Settings) -> None:
    """Open the database and the API, run the bot until SIGTERM/SIGINT, then close in order."""
    token = settings.require_discord_token()
    async with open_bot(settings) as bot:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: asyncio.create_task(bot.close()))
        async with bot:
            try:
                await bot.start(token.get_secret_value())
            except discord.LoginFailure:
                raise StartupError("DISCORD_TOKEN was refused by Discord") from None
            except (aiohttp.ClientConnectionError, OSError) as exc:
                raise StartupError(f"cannot reach Discord: {exc}") from None


async def commands_in_code(settings: Settings) -> list[dict[str, Any]]:
    """The global slash commands as this code defines them, built without logging in and
    without the real database (a contest cog on it could act on due contests)."""
    async with (
        await SqliteDatabase.open(":memory:") as db,
        VideoClient(settings.openai_base_url, None, profile=settings.profile()) as api,
        aiohttp.ClientSession() as session,
    ):
        bot = build_bot(settings, db, api, session)
        try:
            await bot.load_extensions()
            return [dict(payload) for payload in code_payloads(bot.tree)]
        finally:
            await bot.close()


@asynccontextmanager
async def open_api(settings: Settings) -> AsyncIterator[VideoBackend]:
    """The configured API, or the built-in simulator on loopback when no key is set."""
    if settings.uses_simulator:
        # The simulator (an aiohttp app, PyAV for its media) loads only when it is used: with a
        # real provider it would be ~20 MiB of RSS for nothing.
        from bot.simulator import SimulatorConfig, serve

        config = SimulatorConfig(
            job_seconds=settings.simulator_job_seconds,
            profile=settings.profile(),
            # PROVIDER=openrouter tries OpenRouter's API at no cost.
            dialect="openrouter" if settings.provider == "openrouter" else "openai",
        )
        async with serve(
            config, host=settings.simulator_host, port=settings.simulator_port
        ) as base_url:
            log.warning(
                "OPENAI_API_KEY is not set: using the BUILT-IN SIMULATOR at %s "
                "(fake videos, no cost). Set OPENAI_API_KEY to use a real provider.",
                base_url,
            )
            async with provider_client(settings, base_url, None) as client:
                yield client
    else:
        async with provider_client(
            settings, settings.openai_base_url, settings.openai_api_key
        ) as client:
            yield client


def provider_client(
    settings: Settings,
    base_url: str,
    api_key: SecretStr | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> VideoClient:
    """A client of the provider at `base_url`, bounded as the settings say: OpenRouter's own
    API for PROVIDER=openrouter, the OpenAI contract for every other preset."""
    bounds: dict[str, Any] = {
        "profile": settings.profile(),
        "download_limit": settings.provider_max_download_mib * MIB,
        "download_timeout": settings.provider_download_timeout_seconds,
        "transport": transport,
    }
    if settings.provider == "openrouter":
        callback = settings.webhook_public_url if settings.uses_webhooks else None
        return OpenRouterClient(
            base_url,
            api_key,
            allowed_models=settings.provider_models,
            callback_url=callback,
            **bounds,
        )
    return VideoClient(base_url, api_key, **bounds)
