"""What stands in front of every route: latency, missing routes, auth, injected faults, errors."""

from __future__ import annotations

import asyncio
import hmac
import math
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.simulator.dialects import DIALECTS
from bot.simulator.errors import ApiError, refused_create
from bot.simulator.responses import error_response
from bot.simulator.state import SimulatorState
from bot.videoapi.errors import InvalidParameterError
from bot.videoapi.models import Operation

# aiohttp's own answer for an unknown route, which is what a gateway lacking one sends.
NOT_FOUND_TEXT = "404: Not Found"
_OPERATIONS = frozenset(Operation)
_BILLABLE = frozenset({Operation.CREATE, Operation.EDIT, Operation.EXTEND, Operation.REMIX})


def operation_of(request: web.Request) -> Operation | None:
    """The contract operation a request is routed to; None outside the contract."""
    name = request.match_info.route.name
    return Operation(name) if name in _OPERATIONS else None


def gateway(state: SimulatorState) -> Middleware:
    config = state.config
    dialect = DIALECTS[config.dialect]

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        operation = operation_of(request)
        if operation is None:
            return await handler(request)
        state.calls[operation] += 1
        if operation in config.disabled_operations:
            return web.Response(status=404, text=NOT_FOUND_TEXT)
        try:
            _authenticate(request, config.api_key)
            # Read per request: tests and benches change faults while it runs.
            if operation in state.config.unavailable_operations:
                raise ApiError(
                    503, "The service is temporarily unavailable.", error_type="server_error"
                )
            _inject_fault(state)
            if operation is Operation.CREATE and state.create_refusals:
                raise refused_create(state.create_refusals.popleft())
            response = await handler(request)
            if operation in _BILLABLE and state.chance(state.config.rate_500_after_create):
                # The job exists, but its answer is lost: a gateway that timed out.
                raise _server_error()
            if operation is Operation.CREATE and state.config.create_answer_delay:
                await asyncio.sleep(state.config.create_answer_delay)
            return response
        except ApiError as error:
            return error_response(error, dialect)
        except InvalidParameterError as error:
            return error_response(ApiError.from_invalid(error), dialect)

    return middleware


def _authenticate(request: web.Request, api_key: str | None) -> None:
    if api_key is None:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    # Constant-time comparison, and the key given is never echoed back.
    if not hmac.compare_digest(given.strip().encode(), api_key.encode()):
        raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")


def _inject_fault(state: SimulatorState) -> None:
    config = state.config
    if state.chance(config.rate_429):
        wait = config.retry_after_seconds
        raise ApiError(
            429,
            f"Rate limit reached for requests. Please try again in {wait:g}s.",
            code="rate_limit_exceeded",
            error_type="requests",
            # Retry-After takes whole seconds; OpenAI's SDKs prefer the finer retry-after-ms.
            headers={"Retry-After": str(math.ceil(wait)), "retry-after-ms": str(int(wait * 1000))},
        )
    if state.chance(config.rate_500):
        raise _server_error()


def _server_error() -> ApiError:
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        error_type="server_error",
    )


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Every response carries a request id, as OpenAI's do, errors and plain 404s included."""
    response.headers.setdefault("x-request-id", f"req_{uuid.uuid4().hex}")
