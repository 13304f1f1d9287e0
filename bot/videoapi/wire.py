"""How requests and answers look on the wire: multipart parts, error bodies, response headers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import httpx

from bot.videoapi.errors import APIConnectionError, APITimeoutError
from bot.videoapi.models import ResponseMeta, Upload
from bot.videoapi.retry import retry_after

JSONObject = dict[str, Any]
# An error page is read only this far: enough for any real error object, and a misbehaving
# server cannot make us buffer an endless body.
ERROR_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class Multipart:
    """A multipart/form-data body: text fields and file parts."""

    fields: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, Upload] = field(default_factory=dict)


RequestBody = JSONObject | Multipart


def as_multipart(body: JSONObject) -> Multipart:
    """A JSON body as form fields, objects flattened as OpenAI's SDKs send them (`video[id]`)."""
    fields: dict[str, str] = {}
    for name, value in body.items():
        if isinstance(value, dict):
            fields.update({f"{name}[{key}]": str(inner) for key, inner in value.items()})
        else:
            fields[name] = str(value)
    return Multipart(fields)


def connection_error(exc: httpx.RequestError) -> APIConnectionError:
    # httpx never puts headers in its messages, so this text cannot hold the key.
    detail = type(exc).__name__ + (f": {exc}" if str(exc) else "")
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"the video API did not answer in time ({detail})")
    return APIConnectionError(f"could not reach the video API ({detail})")


def multipart_parts(
    body: Multipart, files: ExitStack
) -> list[tuple[str, tuple[str | None, bytes | BinaryIO, str | None]]]:
    """Multipart parts; text fields go as parts without a filename, so a body with no file is still
    multipart. A file on disk is opened, not read: httpx streams it in chunks."""
    parts: list[tuple[str, tuple[str | None, bytes | BinaryIO, str | None]]] = [
        (name, (None, value.encode(), None)) for name, value in body.fields.items()
    ]
    for name, upload in body.files.items():
        data = upload.data
        content = data if isinstance(data, bytes) else files.enter_context(data.open("rb"))
        parts.append((name, (upload.filename, content, upload.content_type)))
    return parts


async def read_capped(response: httpx.Response) -> bytes:
    """An error body, read no further than ERROR_BODY_LIMIT."""
    chunks: list[bytes] = []
    size = 0
    # A body cut short still leaves the status to say what went wrong.
    with suppress(httpx.RequestError):
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= ERROR_BODY_LIMIT:
                break
    return b"".join(chunks)[:ERROR_BODY_LIMIT]


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def api_error(payload: Any) -> dict[str, Any] | None:
    """The `error` object of OpenAI's error shape, if that is what the body is."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error: dict[str, Any] = payload["error"]
        return error
    return None


# What FastAPI and Starlette answer for a path no route matches; any other `detail` is a
# handler's own (SGLang and Aquiles say {"detail": "Video not found"}).
ROUTER_NOT_FOUND = "Not Found"


def detail_of(payload: Any) -> str | None:
    """FastAPI's error shape, `{"detail": "..."}`: the text, if that is what the body is."""
    if isinstance(payload, dict) and isinstance(payload.get("detail"), str):
        detail: str = payload["detail"]
        return detail
    return None


def from_a_handler(payload: Any) -> bool:
    """Whether an error body is the API's own answer about what was asked, not a router's.

    OpenAI's error object, or a FastAPI `detail` other than the router's own "Not Found".
    """
    if api_error(payload) is not None:
        return True
    detail = detail_of(payload)
    return detail is not None and detail.strip() != ROUTER_NOT_FOUND


# OpenAI writes durations as Go does: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_seconds(text: str | None) -> float | None:
    """Seconds in a duration like `6m0s` or a plain number of seconds; None if unreadable."""
    if text is None:
        return None
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def response_meta(response: httpx.Response) -> ResponseMeta:
    headers = response.headers
    poll_after = headers.get("openai-poll-after-ms", "")
    remaining = headers.get("x-ratelimit-remaining-requests", "").strip()
    return ResponseMeta(
        request_id=headers.get("x-request-id"),
        poll_after_ms=int(poll_after) if poll_after.isdigit() else None,
        ratelimit_remaining_requests=int(remaining) if remaining.isdigit() else None,
        ratelimit_reset_requests_s=duration_seconds(headers.get("x-ratelimit-reset-requests")),
        retry_after_s=retry_after(headers),
    )
