"""The OpenRouter backend against the simulator's openrouter dialect: the catalogue becomes the
profile, the bot's inputs become OpenRouter's, and its answers become contract Videos."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from bot.simulator import OPENROUTER_KEY, STATE_KEY, ManualClock, SimulatorConfig, make_app
from bot.simulator.openrouter import CATALOGUE, OpenRouterHandlers
from bot.simulator.server import serve_app
from bot.simulator.state import SimulatorState
from bot.timing.backoff import Backoff
from bot.videoapi.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InvalidParameterError,
    ModelUnavailableError,
    UnsupportedOperationError,
)
from bot.videoapi.models import Operation, Upload
from bot.videoapi.openrouter.client import (
    CREDITS_RAN_OUT,
    KEY_REFUSED,
    OpenRouterClient,
    catalogue_profile,
)
from bot.videoapi.openrouter.wire import VideoModel
from bot.videoapi.presets import PRESETS

from .helpers import RecordingSleep

KEY = "sk-or-client"
PNG = Upload("frame.png", "image/png", b"\x89PNG\r\n\x1a\nrest")


@dataclass
class Backend:
    client: OpenRouterClient
    state: SimulatorState
    handlers: OpenRouterHandlers
    clock: ManualClock


StartBackend = Callable[..., Awaitable[Backend]]


@pytest.fixture
async def start_backend() -> AsyncIterator[StartBackend]:
    async with AsyncExitStack() as stack:

        async def start(
            key: str = KEY, catalogue_every: float = 3600.0, **overrides: Any
        ) -> Backend:
            clock = ManualClock()
            config = SimulatorConfig(
                dialect="openrouter", api_key=KEY, clock=clock, job_seconds=10, **overrides
            )
            app = make_app(config)
            base_url = await stack.enter_async_context(serve_app(app))
            client = OpenRouterClient(
                base_url,
                SecretStr(key),
                backoff=Backoff(sleep=RecordingSleep()),
                catalogue_every=catalogue_every,
            )
            await stack.enter_async_context(client)
            return Backend(client, app[STATE_KEY], app[OPENROUTER_KEY], clock)

        yield start


@pytest.fixture
async def backend(start_backend: StartBackend) -> Backend:
    return await start_backend()


def test_openrouter_catalogue_becomes_the_profile() -> None:
    veo = VideoModel(
        id="v",
        supported_durations=[4, 8],
        supported_resolutions=["720p"],
        supported_aspect_ratios=["16:9", "9:16"],
        pricing_skus={"duration_seconds": "0.10"},
    )
    wan = VideoModel(
        id="w",
        supported_durations=[5, 10],
        supported_sizes=["854x480"],
        pricing_skus={"generate": "0.50"},
    )
    empty = VideoModel(id="upscaler", supported_durations=None)
    profile = catalogue_profile([veo, wan, empty], PRESETS["openrouter"])
    assert profile.models == ("v", "w")
    assert profile.sizes_for("v") == ("1280x720", "720x1280")
    assert profile.sizes_for("w") == ("854x480",)
    assert profile.seconds_for("w") == ("5", "10")
    # A per-video price spread over the shortest duration: a reservation never falls short.
    assert profile.price_per_second == {"v": 0.10, "w": 0.10}
    narrowed = catalogue_profile([veo, wan], PRESETS["openrouter"], allowed=("w",))
    assert narrowed.models == ("w",)


async def test_openrouter_backend_reads_the_catalogue_on_entering(backend: Backend) -> None:
    profile = backend.client.profile
    assert profile.models == ("google/veo-3.1-fast", "kwaivgi/kling-video-o1", "alibaba/wan-2.6")
    assert profile.seconds_for("kwaivgi/kling-video-o1") == ("5", "10")
    assert profile.price_for("kwaivgi/kling-video-o1") == pytest.approx(0.112)
    with pytest.raises(InvalidParameterError, match="seconds must be one of 5, 10"):
        await backend.client.create("x", model="kwaivgi/kling-video-o1", seconds="8")
    assert backend.state.calls[Operation.CREATE] == 0


async def test_openrouter_backend_creates_with_duration_resolution_and_first_frame(
    backend: Backend,
) -> None:
    video = await backend.client.create(
        "a fox", model="google/veo-3.1-fast", size="720x1280", seconds="6", input_reference=PNG
    )
    assert (video.status, video.model, video.size, video.seconds) == (
        "queued",
        "google/veo-3.1-fast",
        "720x1280",
        "6",
    )
    job = backend.state.jobs[video.id]
    assert (job.size, job.seconds) == ("720x1280", "6")
    sized = await backend.client.create("rain", model="alibaba/wan-2.6", size="854x480")
    assert backend.state.jobs[sized.id].size == "854x480"


async def test_openrouter_backend_tracks_to_completed_with_the_reported_cost(
    backend: Backend, tmp_path: Path
) -> None:
    made = await backend.client.create("a fox", model="google/veo-3.1-fast", seconds="8")
    backend.clock.advance(5)
    running = await backend.client.retrieve(made.id)
    assert (running.status, running.progress, running.cost) == ("in_progress", 0, None)
    backend.clock.advance(5)
    done = await backend.client.retrieve(made.id)
    assert (done.status, done.progress) == ("completed", 100)
    assert done.cost == pytest.approx(0.8)
    saved = await backend.client.download(made.id, tmp_path / "out.mp4")
    assert saved.content_type == "video/mp4"
    assert (tmp_path / "out.mp4").read_bytes()[4:8] == b"ftyp"
    with pytest.raises(UnsupportedOperationError):
        await backend.client.download(made.id, tmp_path / "thumb.webp", variant="thumbnail")


@pytest.mark.parametrize(
    ("end", "reason"), [("cancel", "cancelled"), ("expire", "gave this job up")]
)
async def test_openrouter_cancelled_and_expired_end_the_job(
    backend: Backend, end: str, reason: str
) -> None:
    made = await backend.client.create("a fox")
    getattr(backend.handlers, end)(made.id)
    ended = await backend.client.retrieve(made.id)
    assert ended.status == "failed"
    assert ended.error is not None
    assert reason in ended.error.message


async def test_openrouter_extend_goes_as_previous_job_id(backend: Backend) -> None:
    first = await backend.client.create("a fox", model="google/veo-3.1-fast")
    backend.clock.advance(10)
    extended = await backend.client.extend(first.id, "it jumps", "8", model="google/veo-3.1-fast")
    assert backend.state.jobs[extended.id].remixed_from == first.id
    assert backend.state.jobs[extended.id].seconds == "8"
    wan = await backend.client.create("rain", model="alibaba/wan-2.6")
    backend.clock.advance(10)
    with pytest.raises(UnsupportedOperationError):
        await backend.client.remix(wan.id, "snow", model="alibaba/wan-2.6")
    # Another model may still continue jobs: the refusal was not recorded for good.
    assert backend.client.supports(Operation.REMIX) is not False


async def test_openrouter_has_no_list_delete_or_characters(backend: Backend) -> None:
    for operation in (Operation.LIST, Operation.DELETE, Operation.CREATE_CHARACTER):
        assert backend.client.supports(operation) is False
    with pytest.raises(UnsupportedOperationError):
        await backend.client.list()
    with pytest.raises(UnsupportedOperationError):
        await backend.client.delete("job-1")
    assert backend.state.calls[Operation.LIST] == backend.state.calls[Operation.DELETE] == 0


async def test_openrouter_401_and_402_say_the_operators_key_and_credits(
    start_backend: StartBackend,
) -> None:
    refused = await start_backend(key="sk-wrong")
    with pytest.raises(AuthenticationError) as key:
        await refused.client.create("a fox")
    assert key.value.message == KEY_REFUSED
    broke = await start_backend(openrouter_credits=0.1)
    with pytest.raises(APIStatusError) as credits:
        await broke.client.create("a fox", seconds="8")
    assert (credits.value.status, credits.value.message) == (402, CREDITS_RAN_OUT)


async def test_openrouter_catalogue_is_read_again_on_its_schedule(
    start_backend: StartBackend,
) -> None:
    backend = await start_backend(catalogue_every=0.01)
    assert "alibaba/wan-2.6" in backend.client.profile.models
    # OpenRouter retires a model: the next reading drops it from what members may choose.
    del backend.handlers.models["alibaba/wan-2.6"]
    deadline = asyncio.get_running_loop().time() + 5
    while "alibaba/wan-2.6" in backend.client.profile.models:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    assert backend.client.profile.models == ("google/veo-3.1-fast", "kwaivgi/kling-video-o1")


async def test_openrouter_400_out_of_set_says_the_allowed_values(backend: Backend) -> None:
    # The catalogue changed since it was read: OpenRouter's 400 names what the model takes.
    veo = backend.handlers.models["google/veo-3.1-fast"]
    backend.handlers.models[veo.id] = veo.model_copy(update={"supported_durations": [4, 6]})
    with pytest.raises(BadRequestError) as refused:
        await backend.client.create("a fox", model=veo.id, seconds="8")
    assert refused.value.status == 400
    assert "supported: 4, 6" in refused.value.message


async def test_openrouter_404_about_a_model_never_marks_create_missing() -> None:
    router = respx.Router(base_url="https://openrouter.test/api/v1")
    router.get("/videos/models").respond(200, json={"data": [CATALOGUE[0].model_dump()]})
    gone = {"error": {"code": 404, "message": "Model google/veo-3.1-fast is no longer available"}}
    create = router.post("/videos").respond(404, json=gone)
    async with OpenRouterClient(
        "https://openrouter.test/api/v1",
        SecretStr(KEY),
        transport=httpx.MockTransport(router.handler),
    ) as client:
        for _ in range(2):
            with pytest.raises(ModelUnavailableError):
                await client.create("a fox")
        assert client.supports(Operation.CREATE) is not False
    # The second is refused from what the first taught, before any request, as the contract's
    # client refuses a retired model.
    assert create.call_count == 1


async def test_openrouter_retired_model_returns_when_the_catalogue_lists_it_again() -> None:
    router = respx.Router(base_url="https://openrouter.test/api/v1")
    router.get("/videos/models").respond(200, json={"data": [CATALOGUE[0].model_dump()]})
    gone = {"error": {"code": 404, "message": "Model google/veo-3.1-fast is no longer available"}}
    router.post("/videos").respond(404, json=gone)
    async with OpenRouterClient(
        "https://openrouter.test/api/v1",
        SecretStr(KEY),
        transport=httpx.MockTransport(router.handler),
    ) as client:
        models = client.profile.models
        with pytest.raises(ModelUnavailableError):
            await client.create("a fox", model="google/veo-3.1-fast")
        # Left off /video's autocomplete after the 404...
        assert "google/veo-3.1-fast" not in client.capabilities.available(models)
        # ...until the catalogue (read at start and hourly) lists it again.
        await client.refresh_catalogue()
        assert "google/veo-3.1-fast" in client.capabilities.available(client.profile.models)


async def test_openrouter_402_warns_the_operator_once_per_run_of_refusals(
    start_backend: StartBackend, caplog: pytest.LogCaptureFixture
) -> None:
    backend = await start_backend(openrouter_credits=0.1)

    def warnings() -> int:
        return sum("credits ran out" in r.getMessage() for r in caplog.records)

    with caplog.at_level(logging.WARNING, logger="bot.videoapi.openrouter.client"):
        for _ in range(3):
            # Every member is told; the operator's log says it once.
            with pytest.raises(APIStatusError) as refused:
                await backend.client.create("a fox", seconds="8")
            assert (refused.value.status, refused.value.message) == (402, CREDITS_RAN_OUT)
        assert warnings() == 1
        backend.handlers.ledger.credits = 100.0
        await backend.client.create("a fox", seconds="8")
        backend.handlers.ledger.credits = 0.0
        with pytest.raises(APIStatusError):
            await backend.client.create("a fox", seconds="8")
    # A new outage after a create went through is told again.
    assert warnings() == 2
