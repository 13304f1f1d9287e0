"""Routes outside the contract, for benchmarks that run the simulator in its own process.

`POST /simulator/release` starts every held job's clock at once; `GET /simulator/jobs` says when
each job really ends and how many calls each operation got, so a benchmark can measure how late
a client noticed. Under the same bearer key as the contract when one is set.
"""

from __future__ import annotations

import hmac
import math

from aiohttp import web

from bot.simulator.state import SimulatorState

CONTROL_PREFIX = "/simulator"


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

    return [
        web.post(f"{CONTROL_PREFIX}/release", release),
        web.get(f"{CONTROL_PREFIX}/jobs", jobs),
    ]
