"""A loopback imitation of OpenAI's moderation endpoint, for the moderation check's tests.

Built from OpenAI's public API reference for `POST /v1/moderations`
(https://platform.openai.com/docs/api-reference/moderations/create) and from the client code that
calls it, openai-python (`src/openai/resources/moderations.py`: a JSON body of `input` and
`model`, bearer auth; `src/openai/types/moderation_create_response.py` and `types/moderation.py`:
`id`, `model`, and one result per input with `flagged`, `categories`, `category_scores` and
`category_applied_input_types`). It flags an input that holds one of `flag_words`, under the
category the word names.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

KEY = "sk-moderation-test"
CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


@dataclass
class ModerationImitation:
    # A word in the input, and the category it is flagged under.
    flag_words: dict[str, str] = field(default_factory=lambda: {"gore": "violence/graphic"})
    # An HTTP status to answer every request with instead (429, 500, ...).
    fail_with: int | None = None
    # Never answer (until closed): the client's timeout must end the wait.
    hang: bool = False
    # More fields in every answer (a large one arrives in several chunks).
    extra: dict[str, Any] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _moderations(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        body = await request.json()
        self.requests.append(body)
        if self.hang:
            await self._release.wait()
        if self.fail_with is not None:
            return _error(self.fail_with, "The server had an error.", None)
        if not isinstance(body.get("input"), str) or not isinstance(body.get("model"), str):
            return _error(400, "input and model are required", "invalid_request_error")
        text = body["input"].lower()
        hits = {category for word, category in self.flag_words.items() if word in text}
        result = {
            "flagged": bool(hits),
            "categories": {c: c in hits for c in CATEGORIES},
            "category_scores": {c: 0.97 if c in hits else 0.0001 for c in CATEGORIES},
            "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
        }
        answer = {"id": "modr-1", "model": body["model"], "results": [result], **self.extra}
        return web.json_response(answer)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[ModerationImitation]:
        app = web.Application()
        app.router.add_post("/v1/moderations", self._moderations)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v1"
        try:
            yield self
        finally:
            self._release.set()
            await runner.cleanup()


def _error(status: int, message: str, code: str | None) -> web.Response:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return web.json_response({"error": error}, status=status)
