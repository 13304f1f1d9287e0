"""The client of OpenRouter's video API, behind the interface the contract's client offers.

OpenRouter is not the OpenAI contract (bot/videoapi/openrouter/wire.py names its sources): one
create route with `duration`, `resolution` + `aspect_ratio` or `size`, `frame_images` and
`previous_job_id`; a status route with no progress and the job's cost; content by index; and a
catalogue of models, each with its own durations, sizes and prices. This client keeps the
contract client's HTTP layer (retries that never send a billable POST twice, capped answers,
guarded redirects, streamed downloads) and translates at the edges, so the tracker, jobs and
delivery see contract `Video`s. It has no list, delete or characters: the preset says so from
the start, so those commands and buttons are left off.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self

import httpx
from pydantic import SecretStr

from bot.videoapi.capabilities import route_answered
from bot.videoapi.client import ContentStream, VideoClient, _Request
from bot.videoapi.errors import (
    BadRequestError,
    InvalidParameterError,
    UnsupportedOperationError,
    VideoAPIError,
    error_class_for,
)
from bot.videoapi.models import (
    ContentVariant,
    ImageReference,
    Operation,
    Upload,
    Video,
)
from bot.videoapi.openrouter.wire import BODY_LIMIT, Job, ModelList, VideoModel, resolution_of
from bot.videoapi.presets import PRESETS
from bot.videoapi.profile import ProviderProfile, check_prompt
from bot.videoapi.wire import api_error, json_or_none

log = logging.getLogger(__name__)

CATALOGUE_EVERY_SECONDS = 3600.0
# What the member is told, through the tree's "The video provider refused this: ...".
KEY_REFUSED = "the operator's OpenRouter key was refused"
CREDITS_RAN_OUT = "the operator's OpenRouter credits ran out"
UNAUTHORIZED = 401
PAYMENT_REQUIRED = 402
# Base64 makes 3 bytes 4; the rest of the body is small beside an image.
_IMAGE_LIMIT = BODY_LIMIT * 3 // 4 - (1 << 20)
_STATUSES = {
    "pending": "queued",
    "in_progress": "in_progress",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "failed",
    "expired": "failed",
}
# Why a job that ended without a video ended, in the card's words.
_ENDINGS = {
    "failed": "The provider could not make this video",
    "cancelled": "OpenRouter cancelled this job",
    "expired": "OpenRouter gave this job up: it ran past the time it may take",
}


def price_per_second(model: VideoModel) -> float | None:
    """A model's price per generated second from its pricing SKUs, whose units vary: a per-second
    SKU as it is, a per-video one spread over the model's shortest duration (so a reservation
    never falls short; the ledger settles at the cost the provider reports)."""
    per_second: list[float] = []
    per_video: list[float] = []
    for name, value in (model.pricing_skus or {}).items():
        try:
            price = float(value)
        except ValueError:
            continue
        (per_second if "second" in name else per_video).append(price)
    if per_second:
        return max(per_second)
    if per_video:
        return max(per_video) / min(model.supported_durations or [1])
    return None


def catalogue_profile(
    models: list[VideoModel], base: ProviderProfile, allowed: tuple[str, ...] | None = None
) -> ProviderProfile:
    """The provider profile the catalogue describes: each usable model (it has durations and
    sizes; among `allowed` when the operator narrowed them), in the catalogue's order."""
    usable = {model.id: model for model in models if model.supported_durations and model.sizes}
    order = [name for name in allowed if name in usable] if allowed else list(usable)
    if not order:
        return base
    chosen = [usable[name] for name in order]
    sizes = {model.id: model.sizes for model in chosen}
    seconds = {
        model.id: tuple(str(duration) for duration in model.supported_durations or ())
        for model in chosen
    }
    prices = {model.id: price for model in chosen if (price := price_per_second(model)) is not None}
    every_size = tuple(dict.fromkeys(size for listed in sizes.values() for size in listed))
    return base.model_copy(
        update={
            "models": tuple(order),
            "sizes": every_size,
            "model_sizes": sizes,
            "seconds": seconds[order[0]],
            "extend_seconds": seconds[order[0]],
            "model_seconds": seconds,
            "price_per_second": prices,
        }
    )


def as_video(job: Job, **known: Any) -> Video:
    """An OpenRouter job as the contract's Video; `known` adds what the bot itself sent."""
    status = _STATUSES[job.status]
    fields: dict[str, Any] = {
        **known,
        "id": job.id,
        "status": status,
        # OpenRouter reports no progress: the card shows the time and the expected end.
        "progress": 100 if status == "completed" else 0,
        "expires_at": job.expires_at,
    }
    if status == "failed":
        reason = _ENDINGS[job.status]
        message = f"{reason}: {job.error}" if job.error else reason
        fields["error"] = {"code": job.status, "message": message}
    cost = job.usage.cost if job.usage is not None else None
    return Video.model_validate(fields).with_cost(cost)


class OpenRouterClient(VideoClient):
    """OpenRouter's video API; the catalogue is read on entering and then hourly."""

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None,
        *,
        profile: ProviderProfile | None = None,
        allowed_models: tuple[str, ...] | None = None,
        catalogue_every: float = CATALOGUE_EVERY_SECONDS,
        callback_url: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, profile=profile or PRESETS["openrouter"], **options)
        self._allowed = allowed_models
        # Where OpenRouter announces each job's end (webhooks), when the operator set one up.
        self._callback = {"callback_url": callback_url} if callback_url else {}
        self._catalogue_every = catalogue_every
        self._catalogue: dict[str, VideoModel] = {}
        self._reader: asyncio.Task[None] | None = None
        # Whether creates are being refused for want of credits: the operator is warned once
        # per run of refusals, not once per member.
        self._credits_out = False

    async def __aenter__(self) -> Self:
        await self._read_catalogue()
        self._reader = asyncio.create_task(self._read_catalogue_hourly())
        return self

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await super().aclose()

    async def refresh_catalogue(self) -> ProviderProfile:
        """Read /videos/models and make it the profile that validates and prices jobs."""
        request = _Request("GET", "/videos/models")
        listing = await self._call(ModelList, Operation.RETRIEVE, request)
        self._catalogue = {model.id: model for model in listing.data}
        # A model left off after a 404 is back as soon as the catalogue lists it again.
        self.capabilities.listed(self._catalogue)
        self.profile = catalogue_profile(listing.data, self.profile, self._allowed)
        return self.profile

    async def _read_catalogue(self) -> None:
        try:
            await self.refresh_catalogue()
        except VideoAPIError as exc:
            # The last profile stays: jobs go on with what was known, and the next read retries.
            log.warning("reading OpenRouter's model catalogue failed: %s", exc)

    async def _read_catalogue_hourly(self) -> None:
        while True:
            await asyncio.sleep(self._catalogue_every)
            await self._read_catalogue()

    # The operations OpenRouter serves.

    async def create(
        self,
        prompt: str,
        *,
        model: str | None = None,
        size: str | None = None,
        seconds: str | int | None = None,
        input_reference: ImageReference | Upload | None = None,
    ) -> Video:
        text, chosen, chosen_size, chosen_seconds = self._checked_create(
            prompt, model, size, seconds
        )
        body: dict[str, Any] = {
            "model": chosen,
            "prompt": text,
            "duration": int(chosen_seconds),
            **self._shape(chosen, chosen_size),
        }
        if input_reference is not None:
            url = await _image_url(input_reference)
            body["frame_images"] = [
                {"type": "image_url", "image_url": {"url": url}, "frame_type": "first_frame"}
            ]
        return await self._submit(
            Operation.CREATE, body, model=chosen, size=chosen_size, seconds=chosen_seconds
        )

    async def remix(self, video_id: str, prompt: str, *, model: str | None = None) -> Video:
        return await self._continue(Operation.REMIX, video_id, prompt, model)

    async def edit(self, video: str | Upload, prompt: str, *, model: str | None = None) -> Video:
        return await self._continue(Operation.EDIT, video, prompt, model)

    async def extend(
        self, video: str | Upload, prompt: str, seconds: str | int, *, model: str | None = None
    ) -> Video:
        return await self._continue(Operation.EXTEND, video, prompt, model, seconds)

    async def retrieve(self, video_id: str) -> Video:
        job = await self._call(Job, Operation.RETRIEVE, _Request("GET", _job_path(video_id)))
        return as_video(job)

    @asynccontextmanager
    async def stream(
        self, video_id: str, *, variant: ContentVariant = "video"
    ) -> AsyncIterator[ContentStream]:
        """The MP4 from /content?index=0, with the key; never the URLs a job answer lists."""
        if variant != "video":
            # No thumbnails or spritesheets there: delivery makes them from the MP4.
            raise UnsupportedOperationError(Operation.DOWNLOAD)
        request = _Request("GET", f"{_job_path(video_id)}/content", params={"index": 0})
        response, _ = await self._exchange(Operation.DOWNLOAD, request, stream=True)
        try:
            yield ContentStream(response)
        finally:
            await response.aclose()

    # Translation.

    def _shape(self, model: str, size: str) -> dict[str, str]:
        """The bot's "WxH" as the model takes it: `size`, or `resolution` + `aspect_ratio`."""
        entry = self._catalogue.get(model)
        pair = resolution_of(size)
        if (entry is not None and entry.supported_sizes) or pair is None:
            return {"size": size}
        return {"resolution": pair[0], "aspect_ratio": pair[1]}

    async def _continue(
        self,
        operation: Operation,
        video: str | Upload,
        prompt: str,
        model: str | None,
        seconds: str | int | None = None,
    ) -> Video:
        """Remix, edit and extend: a new job on the same model from a completed one."""
        if isinstance(video, Upload):
            # Only jobs OpenRouter made can be continued; an uploaded clip cannot.
            raise UnsupportedOperationError(operation)
        chosen = model or self.profile.default_model
        body: dict[str, Any] = {
            "model": chosen,
            "prompt": check_prompt(prompt),
            "previous_job_id": video,
        }
        if seconds is not None:
            body["duration"] = int(self.profile.check_seconds(chosen, seconds, extend=True))
        try:
            return await self._submit(operation, body, model=chosen, remixed_from_video_id=video)
        except BadRequestError as exc:
            # The model does not continue jobs; another model may, so nothing is recorded.
            if "previous_job_id" in exc.message:
                raise UnsupportedOperationError(operation, status=exc.status) from exc
            raise

    async def _submit(self, operation: Operation, body: dict[str, Any], **known: Any) -> Video:
        sent = {**body, **self._callback}
        # The model named, so that a refusal naming it as gone retires it, not the route.
        request = _Request("POST", "/videos", sent, model=body["model"])
        try:
            job = await self._call(Job, operation, request)
        except VideoAPIError as exc:
            if exc.status == PAYMENT_REQUIRED and not self._credits_out:
                self._credits_out = True
                log.warning(
                    "OpenRouter refuses new videos: the account's credits ran out "
                    "(add credits at https://openrouter.ai/credits)"
                )
            raise
        if self._credits_out:
            self._credits_out = False
            log.info("OpenRouter takes new videos again: the account has credits")
        return as_video(job, prompt=body["prompt"], **known)

    # The HTTP layer's hooks.

    def _learn(self, operation: Operation, status: int, *, api_error_body: bool) -> None:
        """Only that a route answers: the preset says what OpenRouter lacks, and a 404 about one
        job or one model never marks a route missing."""
        if route_answered(operation, status, api_error_body=api_error_body):
            self.capabilities.record(operation, served=True)

    def _status_error(
        self, operation: Operation, request: _Request, response: httpx.Response, raw: bytes
    ) -> VideoAPIError:
        error = super()._status_error(operation, request, response, raw)
        status = response.status_code
        if status == UNAUTHORIZED:
            message = KEY_REFUSED
        elif status == PAYMENT_REQUIRED:
            message = CREDITS_RAN_OUT
        elif isinstance(error, UnsupportedOperationError):
            # OpenRouter serves its routes: a 404 there is about the job or model asked for.
            details = api_error(json_or_none(self._redact(raw.decode("utf-8", errors="replace"))))
            message = str((details or {}).get("message") or f"HTTP {status}")
        else:
            return error
        return error_class_for(status)(
            message,
            status=status,
            request_id=response.headers.get("x-request-id"),
            body=error.body,
            meta=error.meta,
        )


def _job_path(video_id: str) -> str:
    if not video_id.strip() or "/" in video_id:
        raise InvalidParameterError("video_id", f"not an OpenRouter job id: {video_id!r}")
    return f"/videos/{video_id}"


async def _image_url(reference: ImageReference | Upload) -> str:
    """A reference image as `frame_images` takes it: its URL, or the file as a data URL."""
    if isinstance(reference, ImageReference):
        if reference.image_url is None:
            raise InvalidParameterError("image", "OpenRouter takes images by URL, not by file id")
        return reference.image_url
    if reference.size > _IMAGE_LIMIT:
        raise InvalidParameterError(
            "image", f"the image must be under {_IMAGE_LIMIT >> 20} MiB for OpenRouter"
        )
    data = reference.data
    raw = data if isinstance(data, bytes) else await asyncio.to_thread(data.read_bytes)
    return f"data:{reference.content_type};base64,{base64.b64encode(raw).decode()}"
