"""The test harness: a simulator with its client, state and clock, and the contract checker."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from bot.simulator import ManualClock, SimulatorState

SPEC_SERVER = "https://api.openai.com"

# OpenAI's error body; the spec leaves error responses undescribed.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "additionalProperties": False,
            "properties": {
                "message": {"type": "string", "minLength": 1},
                "type": {"type": "string", "minLength": 1},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}


@dataclass
class _SpecRequest:
    """An httpx request as openapi-core reads one, addressed to the spec's own server."""

    parameters: RequestParameters
    method: str
    path: str
    body: bytes | None
    content_type: str
    host_url: str = SPEC_SERVER


@dataclass
class _SpecResponse:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes


class SpecChecker:
    """Validates responses against the spec and counts which operations it has seen answer."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.openapi = OpenAPI.from_dict(spec)
        self.base_path = urlsplit(spec["servers"][0]["url"]).path
        # Literal paths before templated ones, so /videos/characters is not read as a video id.
        self.routes = sorted(
            (
                (method.upper(), re.compile(re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path, op)
                for path, item in spec["paths"].items()
                for method, op in item.items()
            ),
            key=lambda route: route[2].count("{"),
        )
        self.validated: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        relative = path.removeprefix(self.base_path)
        for route_method, pattern, template, operation in self.routes:
            if route_method == method and pattern.match(relative):
                return template, operation
        return None

    def check(self, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status_code >= 400:
            if content_type.startswith("application/json"):
                jsonschema.validate(response.json(), ERROR_SCHEMA)
                self.errors[response.status_code] += 1
            return
        found = self.operation(response.request.method, response.request.url.path)
        assert found is not None, f"{response.request.url} answered outside the contract"
        _, operation = found
        if content_type != "application/json":
            # openapi-core cannot read binary bodies (it checks bytes as a string), so a
            # download is held to the media types the operation documents.
            assert content_type in operation["responses"]["200"]["content"], content_type
            self.validated[operation["operationId"]] += 1
            return
        url = response.request.url
        request = _SpecRequest(
            parameters=RequestParameters(
                query=ImmutableMultiDict(list(url.params.multi_items())),
                header=Headers(dict(response.request.headers)),
            ),
            method=response.request.method.lower(),
            path=url.path,
            # Response validation needs the route, not the body (which may be a stream).
            body=None,
            content_type=response.request.headers.get("content-type", ""),
        )
        self.openapi.validate_response(
            request,
            _SpecResponse(
                status_code=response.status_code,
                content_type=content_type,
                headers=Headers(dict(response.headers)),
                data=response.content,
            ),
        )
        self._check_exact_fields(response.json(), operation)
        self.validated[operation["operationId"]] += 1

    def _check_exact_fields(self, body: dict[str, Any], operation: dict[str, Any]) -> None:
        """Every documented field, and nothing else: the full objects, nulls included."""
        schema = self._schema(operation["responses"]["200"]["content"]["application/json"])
        assert set(body) == set(schema["properties"]), body
        if "data" in body:
            item = self._schema(schema["properties"]["data"]["items"])
            for entry in body["data"]:
                assert set(entry) == set(item["properties"]), entry

    def _schema(self, holder: dict[str, Any]) -> dict[str, Any]:
        reference = holder["schema"]["$ref"] if "schema" in holder else holder["$ref"]
        schema: dict[str, Any] = self.spec["components"]["schemas"][reference.rsplit("/", 1)[1]]
        return schema


@dataclass
class Sim:
    client: httpx.AsyncClient
    state: SimulatorState
    clock: ManualClock
    base_url: str

    async def create(self, **fields: Any) -> dict[str, Any]:
        body = {"prompt": "a calico cat playing a piano", **fields}
        response = await self.client.post("videos", json=body)
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    async def completed(self, **fields: Any) -> dict[str, Any]:
        video = await self.create(**fields)
        self.state.complete(video["id"])
        return video

    async def video(self, video_id: str) -> dict[str, Any]:
        response = await self.client.get(f"videos/{video_id}")
        assert response.status_code == 200, response.text
        video: dict[str, Any] = response.json()
        return video


StartSim = Callable[..., Awaitable[Sim]]
