"""Where a dialect meets HTTP: which requests a server would take, and how its answers look.

The handlers always speak the contract; this middleware alone turns a request away as the
imitated server would, and rewrites the contract's JSON into that server's shapes.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.simulator.dialects import DIALECTS, Answer, Dialect
from bot.simulator.middleware import operation_of
from bot.simulator.responses import json_response
from bot.simulator.state import SimulatorState
from bot.videoapi.models import Operation

_METHODS = ("GET", "POST", "DELETE")


def dialect_edge(state: SimulatorState) -> Middleware:
    dialect = DIALECTS[state.config.dialect]

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        operation = operation_of(request)
        if dialect.is_contract or dialect.own_routes or operation is None:
            return await handler(request)
        if operation not in dialect.operations:
            return await _missing_route(request, dialect)
        if operation is Operation.CREATE:
            refusal = await _refuse_create(request, dialect)
            if refusal is not None:
                return _reply(refusal)
        deleted: dict[str, Any] | None = None
        if operation is Operation.DELETE and dialect.delete_returns_video:
            video = state.video(request.match_info["video_id"])
            deleted = {**dialect.video(video.model_dump(mode="json")), "status": "deleted"}
        if operation is Operation.DOWNLOAD and dialect.ignores_variant:
            request = request.clone(rel_url=request.rel_url.without_query_params("variant"))
        response = await handler(request)
        if (
            isinstance(response, web.Response)
            and isinstance(response.body, bytes)
            and response.content_type == "application/json"
        ):
            body = deleted or _translate(dialect, operation, json.loads(response.body))
            response.body = json.dumps(body).encode()
        return response

    return middleware


async def _missing_route(request: web.Request, dialect: Dialect) -> web.Response:
    """Starlette's answer to an unrouted request: 405 if the path is served under another
    method (POST /videos/edits matches GET /videos/{video_id}), else 404."""
    for method in _METHODS:
        if method == request.method:
            continue
        match = await request.app.router.resolve(request.clone(method=method))
        if match.http_exception is None and match.route.name in dialect.operations:
            return json_response({"detail": "Method Not Allowed"}, status=405)
    return json_response({"detail": "Not Found"}, status=404)


async def _refuse_create(request: web.Request, dialect: Dialect) -> Answer | None:
    if request.content_type not in dialect.create_encodings:
        return dialect.wrong_encoding
    if dialect.json_string_fields and request.content_type == "application/json":
        try:
            body = json.loads(await request.read())
        except ValueError:
            # The handler answers a body that is not JSON.
            return None
        if isinstance(body, dict) and any(
            name in body and not isinstance(body[name], str) for name in dialect.json_string_fields
        ):
            return dialect.wrong_type
    return None


def _translate(dialect: Dialect, operation: Operation, body: dict[str, Any]) -> dict[str, Any]:
    if operation in (Operation.CREATE, Operation.RETRIEVE):
        return dialect.video(body)
    if operation is Operation.LIST:
        return dialect.page(body)
    return body


def _reply(answer: Answer) -> web.Response:
    if isinstance(answer.body, str):
        return web.Response(status=answer.status, text=answer.body)
    return json_response(dict(answer.body), status=answer.status)
