"""Running the simulator: in-process on a free loopback port, or blocking for the CLI."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from aiohttp import web

from bot.simulator.app import OPENROUTER_KEY, STATE_KEY, api_prefix, make_app
from bot.simulator.config import SimulatorConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8089

logger = logging.getLogger(__name__)


@asynccontextmanager
async def serve_app(
    app: web.Application, *, host: str = DEFAULT_HOST, port: int = 0
) -> AsyncIterator[str]:
    """Serve an app made by `make_app` (whose state a test may hold) and yield its base URL."""
    # No access log: in-process, the simulator would otherwise fill the bot's log.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        base_url = _base_url(bound_host, bound_port, api_prefix(app[STATE_KEY].config))
        openrouter = app.get(OPENROUTER_KEY)
        if openrouter is None or openrouter.state.config.openrouter_webhook_secret is None:
            yield base_url
        else:
            # OpenRouter announces ended jobs to their callback URLs while it runs.
            async with openrouter.announcing(
                base_url.removesuffix(api_prefix(openrouter.state.config))
            ):
                yield base_url
    finally:
        await runner.cleanup()


def serve(
    config: SimulatorConfig | None = None, *, host: str = DEFAULT_HOST, port: int = 0
) -> AbstractAsyncContextManager[str]:
    """`async with serve(config) as base_url:`, a URL like http://127.0.0.1:PORT/v1."""
    return serve_app(make_app(config), host=host, port=port)


def run(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, config: SimulatorConfig | None = None
) -> None:
    """Serve until interrupted: `videobot simulator --host --port`."""
    config = config or SimulatorConfig()
    logger.info("Videos API simulator at %s", _base_url(host, port, api_prefix(config)))
    if not loopback(host) and config.api_key is None:
        logger.warning(
            "the simulator listens on %s with no key: anyone who can reach this machine may "
            "use it. Pass --api-key, or --host 127.0.0.1 to keep it to this machine.",
            host,
        )
    web.run_app(make_app(config), host=host, port=port, print=None)


def loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (a name other than localhost may not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(host: str, port: int, prefix: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{prefix}"
