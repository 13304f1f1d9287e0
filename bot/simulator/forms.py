"""Request bodies as the contract allows them: a JSON object, or multipart form data.

Both arrive as one mapping of names to values, so handlers read a field the same way whichever
encoding the client chose. In multipart, an object field may come as a JSON string
(`video={"id": ...}`) or flattened the way OpenAI's SDKs send it (`video[id]=...`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.simulator.errors import invalid, missing


@dataclass(frozen=True, slots=True)
class FilePart:
    """An uploaded file from a multipart body."""

    data: bytes


Reference = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Body:
    values: dict[str, Any]

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        raise invalid(f"'{name}' must be a string.", param=name, code="invalid_type")

    def required_text(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise missing(name)
        return value

    def seconds(self) -> str | int | None:
        # The contract's seconds are strings, but "4" and 4 mean the same to every provider.
        value = self.values.get("seconds")
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        return self.text("seconds")

    def file_or_reference(self, name: str) -> FilePart | Reference | None:
        """An uploaded file, or an object such as `{"id": ...}` in any of its encodings."""
        value = self.values.get(name)
        if value is None or isinstance(value, FilePart | dict):
            return value
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        raise invalid(f"'{name}' must be an object or an uploaded file.", param=name)


async def read_body(
    request: web.Request, allowed: frozenset[str], *, multipart_only: bool = False
) -> Body:
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        values = await _read_form(request)
    elif multipart_only:
        raise invalid(
            "This endpoint takes a multipart/form-data body.", code="invalid_content_type"
        )
    elif request.content_type == "application/json" or not request.can_read_body:
        values = await _read_json(request)
    else:
        raise invalid(
            f"Unsupported content type '{request.content_type}'; send JSON or multipart form data.",
            code="invalid_content_type",
        )
    for name in values:
        if name not in allowed:
            raise invalid(
                f"Unrecognized request argument supplied: {name}",
                param=name,
                code="unknown_parameter",
            )
    return Body(values)


async def _read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise invalid(
            "We could not parse the JSON body of your request.", code="invalid_json"
        ) from error
    if not isinstance(parsed, dict):
        raise invalid("The JSON body must be an object.", code="invalid_json")
    # null is how JSON clients leave an optional field out.
    return {name: value for name, value in parsed.items() if value is not None}


async def _read_form(request: web.Request) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in (await request.post()).items():
        part: str | FilePart
        if isinstance(value, web.FileField):
            part = FilePart(value.file.read())
        elif isinstance(value, bytes | bytearray):
            # aiohttp hands over a part without a filename but with a non-text type as bytes.
            part = FilePart(bytes(value))
        else:
            part = value
        name, bracket, subkey = key.partition("[")
        if not bracket:
            values[name] = part
            continue
        if not subkey.endswith("]") or "[" in subkey[:-1]:
            raise invalid(f"Malformed form field name '{key}'.", param=key)
        nested = values.setdefault(name, {})
        if not isinstance(nested, dict):
            raise invalid(f"'{name}' was sent both whole and as fields.", param=name)
        nested[subkey[:-1]] = part
    return values
