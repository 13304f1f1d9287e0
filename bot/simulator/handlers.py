"""One handler per contract operation; validation as the spec and the provider profile say."""

from __future__ import annotations

from typing import get_args

from aiohttp import web

from bot.simulator.errors import invalid, missing
from bot.simulator.forms import read_body
from bot.simulator.inputs import check_reference_image, check_video_upload, source_video
from bot.simulator.media import CONTENT_TYPES, MediaCache
from bot.simulator.responses import json_response
from bot.simulator.state import Job, SimulatorState
from bot.videoapi.models import ContentVariant, ListOrder
from bot.videoapi.profile import check_character_name, check_prompt

CREATE_FIELDS = frozenset({"model", "prompt", "input_reference", "seconds", "size"})
EDIT_FIELDS = frozenset({"video", "prompt"})
EXTEND_FIELDS = frozenset({"video", "prompt", "seconds"})
REMIX_FIELDS = frozenset({"prompt"})
CHARACTER_FIELDS = frozenset({"name", "video"})
LIST_LIMIT_DEFAULT = 20
LIST_LIMIT_MAX = 100
# Lookups that turn a query string into its Literal type, or None when it is not one.
ORDERS: dict[str, ListOrder] = {order: order for order in get_args(ListOrder)}
VARIANTS: dict[str, ContentVariant] = {variant: variant for variant in get_args(ContentVariant)}


class Handlers:
    def __init__(self, state: SimulatorState, media: MediaCache) -> None:
        self.state = state
        self.media = media
        self.profile = state.config.profile

    def _video_response(self, job: Job) -> web.Response:
        video = job.video_at(self.state.now())
        headers = {}
        if self.state.config.poll_after_ms is not None:
            headers["openai-poll-after-ms"] = str(self.state.config.poll_after_ms)
        return json_response(video, headers=headers)

    async def create(self, request: web.Request) -> web.Response:
        body = await read_body(request, CREATE_FIELDS)
        prompt = check_prompt(body.required_text("prompt"))
        model = self.profile.check_model(body.text("model"))
        size = self.profile.check_size(model, body.text("size"))
        seconds = self.profile.check_seconds(model, body.seconds())
        await check_reference_image(body.file_or_reference("input_reference"), size)
        job = self.state.create_job(model=model, size=size, seconds=seconds, prompt=prompt)
        return self._video_response(job)

    async def edit(self, request: web.Request) -> web.Response:
        body = await read_body(request, EDIT_FIELDS)
        prompt = check_prompt(body.required_text("prompt"))
        source = await source_video(self.state, body.file_or_reference("video"))
        job = self.state.create_job(
            model=source.model,
            size=source.size,
            seconds=source.seconds,
            prompt=prompt,
            remixed_from=source.video_id,
        )
        return self._video_response(job)

    async def extend(self, request: web.Request) -> web.Response:
        body = await read_body(request, EXTEND_FIELDS)
        prompt = check_prompt(body.required_text("prompt"))
        given = body.seconds()
        if given is None:
            raise missing("seconds")
        source = await source_video(self.state, body.file_or_reference("video"))
        added = self.profile.check_seconds(source.model, given, extend=True)
        job = self.state.create_job(
            model=source.model,
            size=source.size,
            # An extension's seconds are the stitched total, source and new segment together.
            seconds=str(int(source.seconds) + int(added)),
            prompt=prompt,
            remixed_from=source.video_id,
        )
        return self._video_response(job)

    async def remix(self, request: web.Request) -> web.Response:
        body = await read_body(request, REMIX_FIELDS)
        prompt = check_prompt(body.required_text("prompt"))
        source = self.state.completed_job(request.match_info["video_id"])
        job = self.state.create_job(
            model=source.model,
            size=source.size,
            seconds=source.seconds,
            prompt=prompt,
            remixed_from=source.id,
        )
        return self._video_response(job)

    async def retrieve(self, request: web.Request) -> web.Response:
        return self._video_response(self.state.job(request.match_info["video_id"]))

    async def delete(self, request: web.Request) -> web.Response:
        return json_response(self.state.delete(request.match_info["video_id"]))

    async def list_videos(self, request: web.Request) -> web.Response:
        query = request.query
        limit_text = query.get("limit", str(LIST_LIMIT_DEFAULT))
        if not limit_text.isdigit() or int(limit_text) > LIST_LIMIT_MAX:
            raise invalid(
                f"limit must be an integer from 0 to {LIST_LIMIT_MAX}, not {limit_text!r}.",
                param="limit",
            )
        order_text = query.get("order", "desc")
        order = ORDERS.get(order_text)
        if order is None:
            raise invalid(f"order must be one of asc, desc, not {order_text!r}.", param="order")
        page = self.state.page(after=query.get("after"), limit=int(limit_text), order=order)
        return json_response(page)

    async def download(self, request: web.Request) -> web.StreamResponse:
        variant_text = request.query.get("variant", "video")
        variant = VARIANTS.get(variant_text)
        if variant is None:
            raise invalid(
                f"variant must be one of {', '.join(VARIANTS)}, not {variant_text!r}.",
                param="variant",
            )
        job = self.state.downloadable_job(request.match_info["video_id"])
        config = self.state.config
        path = await self.media.get(
            variant, job.size, job.seconds, big=config.big_assets, noisy=config.noisy_assets
        )
        # Served from the cached file, so even a padded 12 MiB asset never sits whole in memory.
        return web.FileResponse(path, headers={"Content-Type": CONTENT_TYPES[variant]})

    async def create_character(self, request: web.Request) -> web.Response:
        body = await read_body(request, CHARACTER_FIELDS, multipart_only=True)
        name = check_character_name(body.required_text("name"))
        await check_video_upload(body.file_or_reference("video"))
        return json_response(self.state.add_character(name))

    async def get_character(self, request: web.Request) -> web.Response:
        return json_response(self.state.character(request.match_info["character_id"]))
