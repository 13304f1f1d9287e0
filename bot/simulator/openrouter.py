"""OpenRouter's video API served locally (`videobot simulator --dialect openrouter`).

Not the OpenAI contract: its own paths under /api/v1, its own bodies and statuses. Read from
OpenRouterTeam/docs at c26125a5fa92cb52ac67f0c75b717229567db716: `openapi/openapi.yaml` (paths
/videos, /videos/{jobId}, /videos/{jobId}/content, /videos/models; schemas
VideoGenerationRequest, VideoGenerationResponse, VideoModel, FrameImage; error bodies
`{"error": {"code", "message"}}`; 402 "Insufficient credits") and
`guides/overview/multimodal/video-generation.mdx` (statuses, `unsigned_urls` pointing at the
content route, the cancelled and expired errors, webhooks); and from the `openrouter` SDK
1.3.84 (`video_generation.py`: create answers 202 and knows 400, 401, 402, 413 and 429;
content is matched as `video/mp4`; `components/videogenerationrequest.py`: `previous_job_id`,
"a completed video job ... on the same model ... only models that support continuation").
Two behaviours come from issue 21's reading of OpenRouter's reference, not from these files:
409 for a `previous_job_id` that is not completed, and 413 past a 50 MiB body.

Jobs live in the shared SimulatorState, so the clock, holds, faults, auth and call counts work
as for the contract; what OpenRouter adds (cost, a job ended as cancelled or expired, credits)
is kept here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from bot.simulator.errors import ApiError, invalid
from bot.simulator.media import MediaCache
from bot.simulator.responses import json_response
from bot.simulator.state import Job, SimulatorState
from bot.videoapi.models import Operation
from bot.videoapi.openrouter.webhooks import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    event_body,
    signature,
)
from bot.videoapi.openrouter.wire import (
    ASPECT_RATIOS,
    BODY_LIMIT,
    RESOLUTIONS,
    JobStatus,
    VideoModel,
    resolution_of,
    size_of,
)
from bot.videoapi.profile import check_prompt

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MODELS_ROUTE = "openrouter_models"
# Several models with different sets, as the live catalogue has: durations, resolutions and
# aspect ratios or exact sizes, frame images, and prices in units that differ by model (per
# second, or per video).
CATALOGUE: tuple[VideoModel, ...] = (
    VideoModel(
        id="google/veo-3.1-fast",
        canonical_slug="google/veo-3.1-fast-20251015",
        created=1767225600,
        name="Veo 3.1 Fast",
        supported_durations=[4, 6, 8],
        supported_resolutions=["720p", "1080p"],
        supported_aspect_ratios=["16:9", "9:16"],
        supported_frame_images=["first_frame", "last_frame"],
        generate_audio=True,
        seed=True,
        pricing_skus={"duration_seconds": "0.10"},
    ),
    VideoModel(
        id="kwaivgi/kling-video-o1",
        canonical_slug="kwaivgi/kling-video-o1-20251201",
        created=1767225600,
        name="Kling O1",
        supported_durations=[5, 10],
        supported_resolutions=["720p"],
        supported_aspect_ratios=["16:9", "9:16", "1:1"],
        supported_frame_images=["first_frame"],
        generate_audio=False,
        seed=False,
        pricing_skus={"duration_seconds": "0.112"},
    ),
    VideoModel(
        id="alibaba/wan-2.6",
        canonical_slug="alibaba/wan-2.6-20251216",
        created=1767225600,
        name="Wan 2.6",
        supported_durations=[5, 10, 15],
        supported_sizes=["1280x720", "720x1280", "854x480"],
        supported_frame_images=[],
        generate_audio=True,
        seed=True,
        pricing_skus={"generate": "0.50"},
    ),
)
# Models that continue a completed job given as `previous_job_id` (edit or extend).
CONTINUES: frozenset[str] = frozenset({"google/veo-3.1-fast", "kwaivgi/kling-video-o1"})


def price_of(model: VideoModel, duration: int) -> float:
    """What a job costs in USD: a per-second SKU times the seconds, or the flat per-video SKU."""
    skus = model.pricing_skus or {}
    if "duration_seconds" in skus:
        return round(float(skus["duration_seconds"]) * duration, 6)
    return float(skus.get("generate", "0"))


@dataclass(slots=True)
class Extra:
    """What an OpenRouter job has beyond the shared Job."""

    cost: float
    generation_id: str
    # A final status forced on the job (by a test): cancelled or expired, and why.
    ended: tuple[JobStatus, str] | None = None
    # Where to announce the job's end, and whether it was announced.
    callback_url: str | None = None
    announced: bool = False


@dataclass(slots=True)
class Ledger:
    extras: dict[str, Extra] = field(default_factory=dict)
    # None: unlimited; otherwise a create costing more than what is left gets 402.
    credits: float | None = None


class OpenRouterHandlers:
    def __init__(self, state: SimulatorState, media: MediaCache) -> None:
        self.state = state
        self.media = media
        self.models = {model.id: model for model in CATALOGUE}
        self.ledger = Ledger(credits=state.config.openrouter_credits)

    # Test hooks: end a job as OpenRouter can, besides completed and failed.

    def cancel(self, job_id: str) -> None:
        self._end(job_id, "cancelled", "Job was cancelled")

    def expire(self, job_id: str) -> None:
        self._end(job_id, "expired", "Job exceeded maximum time to live")

    def _end(self, job_id: str, status: JobStatus, reason: str) -> None:
        self.state.fail(job_id)
        self.ledger.extras[job_id].ended = (status, reason)

    # Routes.

    async def models_list(self, request: web.Request) -> web.Response:
        data = [model.model_dump(mode="json") for model in self.models.values()]
        return json_response({"data": data})

    async def create(self, request: web.Request) -> web.Response:
        if (request.content_length or 0) > BODY_LIMIT:
            raise ApiError(413, f"Request body exceeds the {BODY_LIMIT >> 20} MiB limit")
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise invalid("Invalid JSON body") from None
        if not isinstance(body, dict):
            raise invalid("The body must be a JSON object")
        model = self._model(body.get("model"))
        previous = self._previous(body.get("previous_job_id"), model.id)
        prompt = check_prompt(_text(body, "prompt") or "")
        duration = self._duration(model, body.get("duration"), previous)
        size = self._size(model, body, previous)
        self._frames(model, body.get("frame_images"))
        callback = _callback_url(body.get("callback_url"))
        cost = price_of(model, duration)
        credits = self.ledger.credits
        if credits is not None:
            if cost > credits:
                raise ApiError(
                    402, "Insufficient credits. Add more using https://openrouter.ai/credits"
                )
            self.ledger.credits = credits - cost
        job = self.state.create_job(
            model=model.id,
            size=size,
            seconds=str(duration),
            prompt=prompt,
            remixed_from=previous.id if previous else None,
        )
        self.ledger.extras[job.id] = Extra(
            cost=cost, generation_id=f"gen-{uuid.uuid4().hex[:24]}", callback_url=callback
        )
        answer = {"id": job.id, "polling_url": _polling_url(job.id), "status": "pending"}
        return json_response(answer, status=202)

    async def retrieve(self, request: web.Request) -> web.Response:
        job = self.state.job(request.match_info["video_id"], param="jobId")
        return json_response(self._answer(str(request.url.origin()), job))

    async def content(self, request: web.Request) -> web.StreamResponse:
        job = self.state.job(request.match_info["video_id"], param="jobId")
        index = request.query.get("index", "0")
        if not index.isdigit():
            raise invalid(f"index must be a non-negative integer, not {index!r}")
        if self._status(job) != "completed":
            raise ApiError(404, f"Video job {job.id} has no content: it is {self._status(job)}")
        if int(index) != 0:
            raise ApiError(404, f"Video job {job.id} has 1 output; index {index} does not exist")
        config = self.state.config
        path = await self.media.get(
            "video", job.size, job.seconds, big=config.big_assets, noisy=config.noisy_assets
        )
        # The provider's media type, exactly: the SDK matches `video/mp4` with no parameter.
        return web.FileResponse(path, headers={"Content-Type": "video/mp4"})

    # Webhooks.

    async def announce(self, session: aiohttp.ClientSession, origin: str) -> int:
        """POST each ended job's event to its callback URL, signed, once; how many were sent."""
        secret = self.state.config.openrouter_webhook_secret
        if secret is None:
            return 0
        sent = 0
        for job_id, extra in self.ledger.extras.items():
            job = self.state.jobs[job_id]
            status = self._status(job)
            if (
                extra.callback_url is None
                or extra.announced
                or status in ("pending", "in_progress")
            ):
                continue
            extra.announced = True
            now = datetime.datetime.fromtimestamp(self.state.now(), datetime.UTC)
            payload = event_body(self._answer(origin, job), job.model, now.isoformat())
            body = json.dumps(payload).encode()
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature(secret, body, int(self.state.now())),
                IDEMPOTENCY_HEADER: f"{job_id}-{status}",
            }
            try:
                async with session.post(extra.callback_url, data=body, headers=headers) as answer:
                    log.debug("webhook for %s answered %d", job_id, answer.status)
            except aiohttp.ClientError as exc:
                log.info("webhook for %s not delivered: %s", job_id, exc)
            sent += 1
        return sent

    @contextlib.asynccontextmanager
    async def announcing(self, origin: str, every: float = 0.05) -> AsyncIterator[None]:
        """Announce ended jobs every `every` seconds while the block runs (a served app)."""

        async def loop() -> None:
            async with aiohttp.ClientSession() as session:
                while True:
                    await self.announce(session, origin)
                    await asyncio.sleep(every)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Reading a job.

    def _status(self, job: Job) -> JobStatus:
        extra = self.ledger.extras[job.id]
        if extra.ended is not None:
            return extra.ended[0]
        status = job.status_at(self.state.now())
        return "pending" if status == "queued" else status

    def _answer(self, origin: str, job: Job) -> dict[str, Any]:
        extra = self.ledger.extras[job.id]
        status = self._status(job)
        answer: dict[str, Any] = {
            "id": job.id,
            "polling_url": _polling_url(job.id),
            "status": status,
        }
        if status != "pending":
            answer["generation_id"] = extra.generation_id
        if status == "completed":
            content = f"{origin}{API_PREFIX}/videos/{job.id}/content?index=0"
            answer["unsigned_urls"] = [content]
            answer["usage"] = {"cost": extra.cost, "is_byok": False}
        elif extra.ended is not None:
            answer["error"] = extra.ended[1]
        elif status == "failed" and job.failure is not None:
            answer["error"] = job.failure.message
        return answer

    # Checking a create body against the model's sets; a 400 names what is allowed.

    def _model(self, given: object) -> VideoModel:
        if not isinstance(given, str) or not given:
            raise invalid("model is required")
        model = self.models.get(given)
        if model is None:
            raise invalid(
                f"Model {given} is not a video model; available: {', '.join(self.models)}"
            )
        return model

    def _previous(self, given: object, model: str) -> Job | None:
        if given is None:
            return None
        if not isinstance(given, str):
            raise invalid("previous_job_id must be a string")
        if model not in CONTINUES:
            raise invalid(f"Model {model} does not support previous_job_id")
        job = self.state.job(given, param="previous_job_id")
        if job.model != model:
            raise invalid(f"previous_job_id {given} was made by {job.model}, not {model}")
        status = self._status(job)
        if status != "completed":
            raise ApiError(409, f"previous_job_id {given} is {status}, not completed")
        return job

    def _duration(self, model: VideoModel, given: object, previous: Job | None) -> int:
        allowed = model.supported_durations or []
        if given is None:
            return int(previous.seconds) if previous else allowed[0]
        if not isinstance(given, int) or isinstance(given, bool) or given < 1:
            raise invalid("duration must be a positive integer")
        if allowed and given not in allowed:
            raise invalid(_not_in("duration", given, model.id, allowed))
        return given

    def _size(self, model: VideoModel, body: dict[str, Any], previous: Job | None) -> str:
        size = _text(body, "size")
        resolution = _text(body, "resolution")
        ratio = _text(body, "aspect_ratio")
        if size is None and resolution is None and ratio is None:
            return previous.size if previous else model.sizes[0]
        if size is not None:
            if size not in model.sizes:
                raise invalid(_not_in("size", size, model.id, list(model.sizes)))
            return size
        resolutions = model.supported_resolutions or []
        ratios = model.supported_aspect_ratios or []
        resolution = resolution or (resolutions[0] if resolutions else None)
        ratio = ratio or (ratios[0] if ratios else None)
        if resolution not in resolutions or resolution not in RESOLUTIONS:
            raise invalid(_not_in("resolution", resolution, model.id, resolutions))
        if ratio not in ratios or ratio not in ASPECT_RATIOS:
            raise invalid(_not_in("aspect_ratio", ratio, model.id, ratios))
        made = size_of(resolution, ratio)
        # Interchangeable with `size` (the spec), so a model listing only sizes takes the pair.
        return made if resolution_of(made) else model.sizes[0]

    def _frames(self, model: VideoModel, given: object) -> None:
        if given is None:
            return
        if not isinstance(given, list):
            raise invalid("frame_images must be an array")
        allowed = model.supported_frame_images or []
        for frame in given:
            if not isinstance(frame, dict) or frame.get("type") != "image_url":
                raise invalid("each frame image must be {type: image_url, image_url, frame_type}")
            kind = frame.get("frame_type")
            if kind not in allowed:
                raise invalid(_not_in("frame_type", kind, model.id, allowed))
            url = (frame.get("image_url") or {}).get("url")
            if not isinstance(url, str) or not url.startswith(("data:image/", "https://")):
                raise invalid("image_url.url must be an https URL or an image data URL")


def _callback_url(given: object) -> str | None:
    """The spec asks for HTTPS; plain HTTP is taken to a loopback address only, where a test's
    receiver listens."""
    if given is None:
        return None
    if not isinstance(given, str):
        raise invalid("callback_url must be a string")
    url = URL(given)
    if url.scheme == "https":
        return given
    with contextlib.suppress(ValueError):
        if url.scheme == "http" and ipaddress.ip_address(url.host or "").is_loopback:
            return given
    raise invalid("callback_url must be an HTTPS URL")


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise invalid(f"{name} must be a string")


def _not_in(name: str, given: object, model: str, allowed: list[Any]) -> str:
    shown = ", ".join(str(value) for value in allowed) or "none"
    return f"{name} {given!r} is not supported by {model}; supported: {shown}"


def _polling_url(job_id: str) -> str:
    return f"{API_PREFIX}/videos/{job_id}"


def openrouter_routes(handlers: OpenRouterHandlers) -> list[web.RouteDef]:
    """The four routes; named by the contract operation each stands for, so the gateway counts,
    guards and faults them as it does the contract's (the catalogue is public and not counted)."""
    videos = f"{API_PREFIX}/videos"
    return [
        web.post(videos, handlers.create, name=Operation.CREATE),
        web.get(f"{videos}/models", handlers.models_list, name=MODELS_ROUTE),
        web.get(f"{videos}/{{video_id}}", handlers.retrieve, name=Operation.RETRIEVE),
        web.get(f"{videos}/{{video_id}}/content", handlers.content, name=Operation.DOWNLOAD),
    ]
