"""JSON responses as OpenAI sends them: `application/json` with no charset parameter."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from bot.simulator.dialects import Dialect
from bot.simulator.errors import ApiError


def json_response(
    payload: BaseModel | dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    # Bytes, not text: aiohttp would otherwise append "; charset=utf-8" to the content type.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def error_response(error: ApiError, dialect: Dialect) -> web.Response:
    return json_response(dialect.error_body(error), status=error.status, headers=error.headers)
