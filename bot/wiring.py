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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
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
from bot.spending.moderation import Moderation
from bot.spending.rules import PromptRules
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
from bot.storage.rules import RulesRepository
from bot.tracker.cadence import Cadence
from bot.tracker.leases import Leases
from bot.tracker.service import Tracker
from bot.videoapi.backend import VideoBackend
from bot.videoapi.client import MIB, VideoClient
from bot.videoapi.health import Health, watched
from bot.videoapi.openrouter.client import OpenRouterClient
from bot.videoapi.providers import DEFAULT_PROVIDER, Providers, ProviderSpec, routed

if TYPE_CHECKING:
    from bot.storage.notices import ChangeFeed

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


def change_feed(settings: Settings, db: Database, leases: Leases | None) -> ChangeFeed | None:
    """With other processes on PostgreSQL: notices of changed jobs, instead of polling for them."""
    url = settings.database_dsn()
    if leases is None or not url:
        return None
    from bot.storage.notices import ChangeFeed  # asyncpg is loaded only for PostgreSQL

    return ChangeFeed(url, db, leases.holder)


def build_parts(
    settings: Settings,
    db: Database,
    api: VideoBackend | Providers,
    http_session: aiohttp.ClientSession,
    client: discord.Client,
    tuning: Tuning = Tuning(),
) -> Parts:
    """Every part, sharing one database, the providers' clients and one session; `client` is
    the bot whose connection delivery and the contest poster post through."""
    # Every call to a provider, whoever makes it, counts in its health: creates and failover
    # try a failing provider last.
    health = Health()
    configured = routed(api)
    providers = configured.wrapped(lambda name, backend: watched(backend, name, health))
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
        # Each provider's status requests within its own budget: its profile's rate,
        # tightened by its headers.
        providers,
        videos,
        cadence=tuning.cadence or cadence_of(settings),
        deadline=settings.job_deadline_minutes * 60,
        status_give_up=settings.status_give_up_minutes * 60,
        leases=leases,
        changes=change_feed(settings, db, leases),
        announced=settings.uses_webhooks,
    )
    media = MediaPool(
        settings.media_workers,
        DecodeLimits(settings.media_max_pixels, settings.media_max_seconds),
        WorkerLimits(settings.media_memory_mb * MIB, settings.media_timeout_seconds),
    )
    files = ResultFiles(
        Assets(providers, media), media.reencode, FittedCache(settings.media_cache_mb * MIB)
    )
    delivery = Delivery(
        client,
        videos,
        files,
        # Each provider's client, by name: what it serves (a card's buttons) and when it answers
        # again (its jobs' results waiting out its failure go then).
        {name: backend.capabilities for name, backend in providers},
        views=CardViews(buttons.result_buttons, buttons.waiting_buttons),
        edit_interval=tuning.edit_interval,
        retry_base=settings.delivery_retry_seconds,
        retry_max=settings.delivery_retry_max_seconds,
        leases=leases,
        replies=ReplyRepository(db),
    )
    ledger = LedgerRepository(db, videos)
    spending = Spending(GuildRepository(db), settings.default_limits)
    prompts = PromptRules(RulesRepository(db), moderation_of(settings, http_session))
    jobs = Jobs(
        providers,
        videos,
        ledger,
        spending,
        tracker,
        delivery,
        explain=explain,
        reconcile_wait=tuning.reconcile_wait,
        leases=leases,
        prompts=prompts,
        health=health,
    )
    contests = ContestRepository(db)
    return Parts(
        db=db,
        api=configured.primary,
        providers=providers,
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
        prompts=prompts,
    )


def moderation_of(settings: Settings, session: aiohttp.ClientSession) -> Moderation | None:
    """The moderation check, when the operator set its key."""
    if settings.moderation_api_key is None:
        return None
    return Moderation(
        session,
        settings.moderation_base_url,
        settings.moderation_api_key,
        model=settings.moderation_model,
    )


def build_bot(
    settings: Settings,
    db: Database,
    api: VideoBackend | Providers,
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
        api = await stack.enter_async_context(open_providers(settings))
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


@asynccontextmanager
async def open_providers(settings: Settings) -> AsyncIterator[Providers]:
    """Every configured provider (PROVIDERS_FILE), in the operator's order; without the file,
    the one the single-provider settings describe (the simulator when no key is set)."""
    config = settings.providers
    if config is None:
        async with open_api(settings) as api:
            yield Providers.single(api)
        return
    ignored = [
        name
        for name, value in (
            ("OPENAI_API_KEY", settings.openai_api_key),
            ("WEBHOOK_PUBLIC_URL", settings.webhook_public_url),
        )
        if value is not None
    ]
    if ignored:
        log.warning(
            "PROVIDERS_FILE is set, so %s is not used: each provider's entry says its own "
            "(and with the file every provider is polled)",
            " and ".join(ignored),
        )
    async with AsyncExitStack() as stack:
        backends: dict[str, VideoBackend] = {}
        for spec in config.specs:
            backends[spec.name] = await stack.enter_async_context(spec_client(settings, spec))
        yield Providers(backends, equivalents=config.equivalents)


def provider_client(
    settings: Settings,
    base_url: str,
    api_key: SecretStr | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> VideoClient:
    """A client of the single-provider settings' provider, at `base_url` with `api_key`."""
    spec = replace(settings.default_provider(), base_url=base_url, api_key=api_key)
    return spec_client(settings, spec, transport=transport)


def spec_client(
    settings: Settings,
    spec: ProviderSpec,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> VideoClient:
    """A client of one configured provider, bounded as the settings say: OpenRouter's own API
    for the openrouter kind, the OpenAI contract for every other preset."""
    bounds: dict[str, Any] = {
        "profile": spec.profile,
        "download_limit": settings.provider_max_download_mib * MIB,
        "download_timeout": settings.provider_download_timeout_seconds,
        "transport": transport,
    }
    if spec.kind == "openrouter":
        # Webhooks are the single-provider settings' (one receiver, one signing secret).
        webhooks = settings.uses_webhooks and spec.name == DEFAULT_PROVIDER
        return OpenRouterClient(
            spec.base_url,
            spec.api_key,
            allowed_models=spec.models,
            callback_url=settings.webhook_public_url if webhooks else None,
            **bounds,
        )
    return VideoClient(spec.base_url, spec.api_key, **bounds)
