"""OpenRouter's signed webhooks: signing, verifying, and a small receiver.

From OpenRouterTeam/docs at c26125a5fa92cb52ac67f0c75b717229567db716,
`guides/overview/multimodal/video-generation.mdx` ("Webhooks", "Verifying Signatures"): events
`video.generation.completed|failed|cancelled|expired` with `{type, created_at, data: {id, status,
generation_id, model, unsigned_urls, usage, error}}`; header `X-OpenRouter-Signature:
t=<unix>,v1=<hex>`, the HMAC-SHA256 of `"<t>," + raw body` with the workspace's signing secret;
a `t` older than 300 s is refused. Unsigned, stale or replayed events change nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import SecretStr, ValidationError

from bot.videoapi.models import APIModel
from bot.videoapi.openrouter.wire import Job, JobStatus, Usage

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OpenRouter-Signature"
IDEMPOTENCY_HEADER = "X-OpenRouter-Idempotency-Key"
MAX_AGE_SECONDS = 300
# Idempotency keys remembered, so a replayed event changes nothing; far more than live jobs.
REMEMBERED = 10_000
# An event is a few hundred bytes; a larger body is not OpenRouter's.
BODY_LIMIT = 64 * 1024


def signature(secret: str, body: bytes, at: int) -> str:
    """The header value OpenRouter sends for `body` at unix time `at`."""
    digest = hmac.new(secret.encode(), f"{at},".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verified(secret: str, header: str, body: bytes, now: float) -> bool:
    """Whether `header` signs `body` with `secret`, no more than MAX_AGE_SECONDS ago."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        return False
    if now - int(stamp) > MAX_AGE_SECONDS:
        return False
    expected = signature(secret, body, int(stamp)).partition("v1=")[2]
    return hmac.compare_digest(expected.encode(), given.encode())


class EventData(APIModel):
    id: str
    status: JobStatus
    generation_id: str | None = None
    model: str | None = None
    unsigned_urls: list[str] | None = None
    usage: Usage | None = None
    error: str | None = None

    def job(self) -> Job:
        fields = self.model_dump(exclude={"model"})
        return Job.model_validate({**fields, "polling_url": f"/api/v1/videos/{self.id}"})


class Event(APIModel):
    type: str
    created_at: str | None = None
    data: EventData


Handler = Callable[[Event], Awaitable[None]]


class Receiver:
    """The aiohttp app that takes OpenRouter's events at `path` and hands each verified one,
    once, to `handle`. Answers 204, or 401 for an event it does not believe."""

    def __init__(
        self,
        secret: SecretStr,
        path: str,
        handle: Handler,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._handle = handle
        self._clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.app = web.Application(client_max_size=BODY_LIMIT)
        self.app.add_routes([web.post(path, self._receive)])

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not verified(self._secret.get_secret_value(), header, body, self._clock()):
            log.warning("an OpenRouter webhook with a missing, stale or wrong signature: ignored")
            return web.Response(status=401)
        try:
            event = Event.model_validate_json(body)
        except ValidationError:
            return web.Response(status=400)
        key = request.headers.get(IDEMPOTENCY_HEADER) or f"{event.data.id}-{event.data.status}"
        if key in self._seen:
            return web.Response(status=204)
        self._seen[key] = None
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        await self._handle(event)
        return web.Response(status=204)


@contextlib.asynccontextmanager
async def serve_receiver(receiver: Receiver, listen: str) -> AsyncIterator[str]:
    """Serve `receiver` on `listen` ("host:port"); yields the address it listens on."""
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(receiver.app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port)).start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()


def event_body(job: dict[str, Any], model: str, created_at: str) -> dict[str, Any]:
    """The envelope OpenRouter sends for a job that ended (used by the simulator)."""
    data = {**job, "model": model}
    return {"type": f"video.generation.{job['status']}", "created_at": created_at, "data": data}
