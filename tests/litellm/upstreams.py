"""Imitations of the upstream APIs LiteLLM transforms into the Videos API, each on loopback.

Each serves what LiteLLM's transformation for it sends and reads, as the provider's public API
reference describes it, and answers with real MP4 bytes (the simulator's media). They record
every request and the model each create asked for, so a test can check that the model a
member chose is the one the upstream was asked to make. Sources, per imitation below; LiteLLM
paths are those of the wheel `make test` installs (1.108.7), under
`.litellm/lib/python3.11/site-packages/litellm/`.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.simulator.media import shared_cache
from tests.procs import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Job:
    model: str
    size: str
    seconds: str
    began: float = field(default_factory=time.monotonic)

    def elapsed(self, job_seconds: float) -> float:
        """How far along the job is, from 0 to 1."""
        return min(1.0, (time.monotonic() - self.began) / job_seconds)


@dataclass
class Upstream:
    """One imitation: where it listens, what it was asked, and its jobs."""

    name: str
    job_seconds: float
    url: str = ""
    requests: list[str] = field(default_factory=list)
    asked_models: list[str] = field(default_factory=list)
    jobs: dict[str, _Job] = field(default_factory=dict)

    def take(self) -> list[str]:
        seen, self.requests = self.requests, []
        return seen

    def create(self, model: str, size: str, seconds: str) -> str:
        job_id = uuid.uuid4().hex
        self.jobs[job_id] = _Job(model, size, seconds)
        self.asked_models.append(model)
        return job_id

    async def mp4(self, job_id: str) -> web.Response:
        job = self.jobs.get(job_id)
        if job is None or job.elapsed(self.job_seconds) < 1:
            raise web.HTTPNotFound()
        path = await shared_cache().get("video", job.size, job.seconds, big=False)
        return web.Response(body=path.read_bytes(), content_type="video/mp4")


def _size(landscape: bool) -> str:
    return "1280x720" if landscape else "720x1280"


def _recording(upstream: Upstream) -> Callable[[web.Request, Handler], Awaitable[Any]]:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        upstream.requests.append(f"{request.method} {request.path}")
        return await handler(request)

    return record


# --- Gemini API -----------------------------------------------------------------------------
# Reference: ai.google.dev/gemini-api/docs/video ("Generating videos with Veo", REST tab) and
# ai.google.dev/api/models#method:-models.predictlongrunning, operations.get, files download.
# LiteLLM: llms/gemini/videos/transformation.py (GeminiVideoConfig: `x-goog-api-key`,
# `{api_base}/v1beta/models/{model}:predictLongRunning`, polls `{api_base}/v1beta/{name}`,
# downloads `response.generateVideoResponse.generatedSamples[0].video.uri` with the same
# headers), types/llms/gemini.py (GeminiLongRunningOperationResponse: `done` defaults to false).

GEMINI_KEY = "gemini-test-key"
GEMINI_MODELS = {"veo-3.1-generate-001", "veo-3.1-fast-generate-001"}
# Shut down on the Gemini API on 2026-10-22 (LiteLLM's cost map: deprecation_date).
GEMINI_RETIRED = {"veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"}
GEMINI_SECONDS = {4, 6, 8}
GEMINI_ANSWER = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"


def _gemini_error(status: int, message: str, reason: str) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": reason}}
    return web.json_response(body, status=status)


def gemini_app(upstream: Upstream) -> web.Application:
    async def route(request: web.Request) -> web.StreamResponse:
        if request.headers.get("x-goog-api-key") != GEMINI_KEY:
            return _gemini_error(
                403, "Method doesn't allow unregistered callers", "PERMISSION_DENIED"
            )
        tail = request.match_info["tail"]
        if request.method == "POST" and tail.startswith("models/"):
            model, _, verb = tail.removeprefix("models/").partition(":")
            if verb != "predictLongRunning":
                raise web.HTTPNotFound()
            return await create(request, model)
        if request.method == "GET" and "/operations/" in tail:
            return operation(tail)
        if request.method == "GET" and tail.startswith("files/") and tail.endswith(":download"):
            return await upstream.mp4(tail.removeprefix("files/").removesuffix(":download"))
        raise web.HTTPNotFound()

    async def create(request: web.Request, model: str) -> web.Response:
        if model in GEMINI_RETIRED:
            message = f"This model models/{model} is no longer available. Please use a newer model."
            return _gemini_error(404, message, "NOT_FOUND")
        if model not in GEMINI_MODELS:
            message = (
                f"models/{model} is not found for API version v1beta, "
                "or is not supported for predictLongRunning."
            )
            return _gemini_error(404, message, "NOT_FOUND")
        body = await request.json()
        [instance] = body["instances"]
        parameters = body.get("parameters", {})
        seconds = parameters.get("durationSeconds", 8)
        if seconds not in GEMINI_SECONDS or not instance.get("prompt"):
            message = "The number value for `durationSeconds` is out of bound."
            return _gemini_error(400, message, "INVALID_ARGUMENT")
        landscape = parameters.get("aspectRatio", "16:9") == "16:9"
        job_id = upstream.create(model, _size(landscape), str(seconds))
        return web.json_response({"name": f"models/{model}/operations/{job_id}"})

    def operation(name: str) -> web.Response:
        job_id = name.rsplit("/", 1)[1]
        job = upstream.jobs.get(job_id)
        if job is None:
            return _gemini_error(404, f"Operation {name} not found", "NOT_FOUND")
        if job.elapsed(upstream.job_seconds) < 1:
            return web.json_response({"name": name})  # proto3 JSON leaves `done: false` out
        uri = f"{upstream.url}/v1beta/files/{job_id}:download?alt=media"
        answer = {
            "@type": GEMINI_ANSWER,
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]},
        }
        return web.json_response({"name": name, "done": True, "response": answer})

    app = web.Application(middlewares=[_recording(upstream)])
    app.router.add_route("*", "/v1beta/{tail:.+}", route)
    return app


# --- fal queue ------------------------------------------------------------------------------
# Reference: fal.ai/docs/documentation/model-apis/queue (submit to `queue.fal.run/{app}`, then
# `/{owner}/{alias}/requests/{id}/status` with IN_QUEUE + queue_position, IN_PROGRESS,
# COMPLETED, and `/requests/{id}` for the result), the apps' pages
# (fal.ai/docs/model-api-reference/video-generation-api/kling-video-v3-pro: `video.url`).
# LiteLLM: llms/fal_ai/videos/transformation.py (FalAIVideoConfig: `Authorization: Key`, POST
# `{api_base}/{model}`, status at `_queue_request_base_path` = the first two segments, on
# COMPLETED also GETs the result, content GETs the result and then `video.url` unauthenticated).

FAL_KEY = "fal-test-key"
FAL_APPS = {
    "fal-ai/kling-video/v3/pro/text-to-video": {str(s) for s in range(3, 16)},
    "bytedance/seedance-2.0/text-to-video": {str(s) for s in range(4, 16)},
}
# Of a job's time, the share spent waiting in the queue.
FAL_QUEUED = 0.25


def fal_app(upstream: Upstream) -> web.Application:
    def urls(base: str, job_id: str) -> dict[str, str]:
        response = f"{upstream.url}/{base}/requests/{job_id}"
        return {"response_url": response, "status_url": f"{response}/status"}

    async def route(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Key {FAL_KEY}":
            return web.json_response({"detail": "No user found for Key ID and Secret"}, status=401)
        path = request.match_info["tail"]
        segments = path.split("/")
        if request.method == "POST":
            return await submit(request, path)
        if "requests" in segments:
            at = segments.index("requests")
            base, job_id = "/".join(segments[:at]), segments[at + 1]
            job = upstream.jobs.get(job_id)
            if job is None or not job.model.startswith(f"{base}/"):
                return web.json_response({"detail": "Request not found"}, status=404)
            if segments[-1] == "status":
                return status(base, job_id, job)
            return result(job_id, job)
        raise web.HTTPNotFound()

    async def submit(request: web.Request, app: str) -> web.Response:
        durations = FAL_APPS.get(app)
        if durations is None:
            return web.json_response({"detail": f"Application '{app}' not found"}, status=404)
        body = await request.json()
        seconds = str(body.get("duration", "5"))
        if seconds not in durations or not body.get("prompt"):
            detail = [
                {"loc": ["body", "duration"], "msg": "unexpected value", "type": "value_error"}
            ]
            return web.json_response({"detail": detail}, status=422)
        landscape = body.get("aspect_ratio", "16:9") != "9:16"
        job_id = upstream.create(app, _size(landscape), seconds)
        base = "/".join(app.split("/")[:2])
        answer = {"status": "IN_QUEUE", "request_id": job_id, "queue_position": 0}
        return web.json_response({**answer, **urls(base, job_id)})

    def status(base: str, job_id: str, job: _Job) -> web.Response:
        done = job.elapsed(upstream.job_seconds)
        answer: dict[str, Any] = {"request_id": job_id, **urls(base, job_id)}
        if done < FAL_QUEUED:
            return web.json_response({**answer, "status": "IN_QUEUE", "queue_position": 0})
        if done < 1:
            return web.json_response({**answer, "status": "IN_PROGRESS", "logs": None})
        metrics = {"inference_time": upstream.job_seconds}
        return web.json_response(
            {**answer, "status": "COMPLETED", "logs": None, "metrics": metrics}
        )

    def result(job_id: str, job: _Job) -> web.Response:
        if job.elapsed(upstream.job_seconds) < 1:
            return web.json_response({"detail": "Request is still in progress"}, status=400)
        video = {"url": f"{upstream.url}/files/{job_id}/output.mp4", "content_type": "video/mp4"}
        return web.json_response({"video": {**video, "file_name": "output.mp4"}, "seed": 42})

    async def media(request: web.Request) -> web.StreamResponse:
        return await upstream.mp4(request.match_info["job"])

    app = web.Application(middlewares=[_recording(upstream)])
    app.router.add_get("/files/{job}/output.mp4", media)  # fal's CDN needs no key
    app.router.add_route("*", "/{tail:.+}", route)
    return app


# --- Runway API -----------------------------------------------------------------------------
# Reference: docs.dev.runwayml.com/api (POST /v1/text_to_video and /v1/image_to_video answer
# only `{"id"}`; GET /v1/tasks/{id}: PENDING, THROTTLED, RUNNING with `progress` 0..1,
# SUCCEEDED with `output` URLs, FAILED; `X-Runway-Version: 2024-11-06` is required).
# LiteLLM: llms/runwayml/videos/transformation.py (RunwayMLVideoConfig: Bearer key, `ratio`
# from size with ':' , `duration` an int, `promptText`; `_parse_runway_timestamp` gives 0 for the
# create answer's missing `createdAt`; content GETs the task, then `output[0]` unauthenticated).

RUNWAY_KEY = "runway-test-key"
RUNWAY_VERSION = "2024-11-06"
RUNWAY_MODELS = {
    "veo3.1": {"seconds": {4, 6, 8}, "ratios": {"1280:720", "720:1280", "1920:1080", "1080:1920"}},
    "veo3.1_fast": {"seconds": {4, 6, 8}, "ratios": {"1280:720", "720:1280"}},
    "gen4.5": {"seconds": set(range(2, 11)), "ratios": {"1280:720", "720:1280"}},
}
# Of a job's time, the share spent PENDING.
RUNWAY_PENDING = 0.25


def _runway_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def runway_app(upstream: Upstream) -> web.Application:
    created: dict[str, str] = {}

    @web.middleware
    async def authorized(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/media/"):
            return await handler(request)  # a signed CDN URL in the real thing
        if request.headers.get("Authorization") != f"Bearer {RUNWAY_KEY}":
            return _runway_error(401, "Invalid API key")
        if request.headers.get("X-Runway-Version") != RUNWAY_VERSION:
            return _runway_error(400, "The X-Runway-Version header is required")
        return await handler(request)

    async def generate(request: web.Request) -> web.Response:
        body = await request.json()
        limits = RUNWAY_MODELS.get(body.get("model", ""))
        if limits is None:
            return _runway_error(400, f"Invalid model: {body.get('model')}")
        ratio, seconds = body.get("ratio", "1280:720"), body.get("duration", 8)
        if ratio not in limits["ratios"] or seconds not in limits["seconds"]:
            return _runway_error(400, "Validation of body failed: ratio or duration")
        if request.path.endswith("image_to_video") != ("promptImage" in body):
            return _runway_error(400, "Validation of body failed: promptImage")
        width, height = ratio.split(":")
        job_id = upstream.create(body["model"], _size(int(width) > int(height)), str(seconds))
        created[job_id] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return web.json_response({"id": job_id})

    async def task(request: web.Request) -> web.Response:
        job_id = request.match_info["id"]
        job = upstream.jobs.get(job_id)
        if job is None:
            return _runway_error(404, "Task not found")
        done = job.elapsed(upstream.job_seconds)
        answer: dict[str, Any] = {"id": job_id, "createdAt": created[job_id]}
        if done < RUNWAY_PENDING:
            return web.json_response({**answer, "status": "PENDING"})
        if done < 1:
            # Rounded down: 0.996 rounded would say 1.0 (done) of a task still running.
            progress = math.floor(done * 100) / 100
            return web.json_response({**answer, "status": "RUNNING", "progress": progress})
        output = [f"{upstream.url}/media/{job_id}.mp4?_jwt=signed"]
        return web.json_response({**answer, "status": "SUCCEEDED", "output": output})

    async def media(request: web.Request) -> web.StreamResponse:
        return await upstream.mp4(request.match_info["job"])

    app = web.Application(middlewares=[_recording(upstream), authorized])
    app.router.add_post("/v1/text_to_video", generate)
    app.router.add_post("/v1/image_to_video", generate)
    app.router.add_get("/v1/tasks/{id}", task)
    app.router.add_get("/media/{job}.mp4", media)
    return app


@dataclass
class Upstreams:
    gemini: Upstream
    fal: Upstream
    runway: Upstream

    def all(self) -> tuple[Upstream, ...]:
        return (self.gemini, self.fal, self.runway)


_APPS: dict[str, Callable[[Upstream], web.Application]] = {
    "gemini": gemini_app,
    "fal": fal_app,
    "runway": runway_app,
}


@contextmanager
def serving_upstreams(job_seconds: float) -> Iterator[Upstreams]:
    """The three imitations on loopback, served from a thread of their own (the proxy and the
    tests' clients call them from other threads and processes)."""
    upstreams = Upstreams(*(Upstream(name, job_seconds) for name in _APPS))
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []

    async def start() -> None:
        for upstream in upstreams.all():
            runner = web.AppRunner(_APPS[upstream.name](upstream), access_log=None)
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            upstream.url = f"http://127.0.0.1:{port}"
            runners.append(runner)

    async def cleanup() -> None:
        for runner in runners:
            await runner.cleanup()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
        yield upstreams
    finally:
        asyncio.run_coroutine_threadsafe(cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
