"""The aiohttp application serving the whole Videos API contract under /v1."""

from __future__ import annotations

from aiohttp import web

from bot.simulator.config import SimulatorConfig
from bot.simulator.control import control_routes
from bot.simulator.dialect_edge import dialect_edge
from bot.simulator.handlers import Handlers
from bot.simulator.media import MediaCache, shared_cache
from bot.simulator.middleware import add_request_id, gateway
from bot.simulator.openrouter import API_PREFIX as OPENROUTER_PREFIX
from bot.simulator.openrouter import OpenRouterHandlers, openrouter_routes
from bot.simulator.state import SimulatorState
from bot.videoapi.models import Operation

STATE_KEY = web.AppKey("simulator_state", SimulatorState)
OPENROUTER_KEY = web.AppKey("openrouter", OpenRouterHandlers)
API_PREFIX = "/v1"
# Uploaded clips for edits, extensions and characters can be large; aiohttp's default is 1 MiB.
MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def make_app(
    config: SimulatorConfig | None = None, *, media: MediaCache | None = None
) -> web.Application:
    state = SimulatorState(config or SimulatorConfig())
    handlers = Handlers(state, media or shared_cache())
    # The dialect sits inside the gateway: a missing route still counts as a call and needs a key.
    app = web.Application(
        middlewares=[gateway(state), dialect_edge(state)], client_max_size=MAX_UPLOAD_BYTES
    )
    app[STATE_KEY] = state
    app.on_response_prepare.append(add_request_id)
    app.add_routes(control_routes(state))
    if state.config.dialect == "openrouter":
        openrouter = OpenRouterHandlers(state, media or shared_cache())
        app[OPENROUTER_KEY] = openrouter
        app.add_routes(openrouter_routes(openrouter))
        return app
    videos = f"{API_PREFIX}/videos"
    # Fixed paths before `{video_id}`, so /videos/edits is never read as a video id. Each route
    # is named by its operation, which is how the middleware counts, disables and guards it.
    app.add_routes(
        [
            web.post(videos, handlers.create, name=Operation.CREATE),
            web.get(videos, handlers.list_videos, name=Operation.LIST),
            web.post(f"{videos}/edits", handlers.edit, name=Operation.EDIT),
            web.post(f"{videos}/extensions", handlers.extend, name=Operation.EXTEND),
            web.post(
                f"{videos}/characters", handlers.create_character, name=Operation.CREATE_CHARACTER
            ),
            web.get(
                f"{videos}/characters/{{character_id}}",
                handlers.get_character,
                name=Operation.GET_CHARACTER,
            ),
            web.get(f"{videos}/{{video_id}}", handlers.retrieve, name=Operation.RETRIEVE),
            web.delete(f"{videos}/{{video_id}}", handlers.delete, name=Operation.DELETE),
            web.post(f"{videos}/{{video_id}}/remix", handlers.remix, name=Operation.REMIX),
            web.get(f"{videos}/{{video_id}}/content", handlers.download, name=Operation.DOWNLOAD),
        ]
    )
    return app


def api_prefix(config: SimulatorConfig) -> str:
    """Where the API is served: the contract's /v1, or OpenRouter's /api/v1."""
    return OPENROUTER_PREFIX if config.dialect == "openrouter" else API_PREFIX
