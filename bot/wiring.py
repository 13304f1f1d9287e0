"""Which Videos API the bot talks to: the configured provider, or the simulator on loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.videoapi.client import MIB, VideoClient

log = logging.getLogger("videobot")


@asynccontextmanager
async def open_api(settings: Settings) -> AsyncIterator[VideoClient]:
    """The configured API, or the built-in simulator on loopback when no key is set."""
    if settings.uses_simulator:
        # The simulator (an aiohttp app, PyAV for its media) loads only when it is used: with a
        # real provider it would be ~20 MiB of RSS for nothing.
        from bot.simulator import SimulatorConfig, serve

        config = SimulatorConfig(
            job_seconds=settings.simulator_job_seconds, profile=settings.profile()
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
    """A client of the provider at `base_url`, bounded as the settings say."""
    return VideoClient(
        base_url,
        api_key,
        profile=settings.profile(),
        download_limit=settings.provider_max_download_mib * MIB,
        download_timeout=settings.provider_download_timeout_seconds,
        transport=transport,
    )
