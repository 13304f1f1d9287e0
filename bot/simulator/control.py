"""Routes outside the contract, for benchmarks that run the simulator in its own process.

`POST /simulator/release` starts every held job's clock at once; `GET /simulator/jobs` says when
each job really ends and how many calls each operation got, so a benchmark can measure how late
a client noticed; `POST /simulator/faults` changes faults while it runs (creates to refuse,
answers to delay, error rates). Under the same bearer key as the contract when one is set.
"""

from __future__ import annotations

import hmac
import math

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.simulator.config import Probability
from bot.simulator.errors import CreateRefusal
from bot.simulator.state import SimulatorState

CONTROL_PREFIX = "/simulator"


class Faults(BaseModel):
    """What `POST /simulator/faults` changes; what it leaves out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    # Queued after the creates already waiting to be refused.
    create_refusals: tuple[CreateRefusal, ...] = ()
    create_answer_delay: float | None = Field(default=None, ge=0)
    rate_429: Probability | None = None
    rate_500: Probability | None = None
    rate_500_after_create: Probability | None = None


def control_routes(state: SimulatorState) -> list[web.RouteDef]:
    def authorized(request: web.Request) -> None:
        key = state.config.api_key
        if key is None:
            return
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise web.HTTPUnauthorized()

    async def release(request: web.Request) -> web.Response:
        authorized(request)
        started = state.release()
        return web.json_response({"released": started, "at": state.now()})

    async def jobs(request: web.Request) -> web.Response:
        authorized(request)
        return web.json_response(
            {
                "calls": {str(op): n for op, n in state.calls.items()},
                "jobs": [
                    {
                        "id": job.id,
                        # None while held: the job has no end yet.
                        "ends": None if math.isinf(job.ends) else job.ends,
                        "shape": job.shape,
                        "failed": job.failure is not None,
                    }
                    for job in state.jobs.values()
                ],
            }
        )

    async def faults(request: web.Request) -> web.Response:
        authorized(request)
        try:
            change = Faults.model_validate_json(await request.read())
        except ValidationError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        state.create_refusals.extend(change.create_refusals)
        update = change.model_dump(exclude={"create_refusals"}, exclude_none=True)
        state.config = state.config.model_copy(update=update)
        return web.json_response({"create_refusals": list(state.create_refusals)})

    return [
        web.post(f"{CONTROL_PREFIX}/release", release),
        web.post(f"{CONTROL_PREFIX}/faults", faults),
        web.get(f"{CONTROL_PREFIX}/jobs", jobs),
    ]
