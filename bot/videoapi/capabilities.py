"""Which of the contract's operations this provider serves, learned from its answers.

Gateways and self-hosted servers often serve only part of the contract. A missing route is a
known state: once seen, the client refuses the operation at once instead of asking again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable

from bot.videoapi.models import Operation

# Routes with an id in the path: there a 404 may just mean "no such video".
ID_OPERATIONS = frozenset(
    {
        Operation.REMIX,
        Operation.GET_CHARACTER,
        Operation.RETRIEVE,
        Operation.DELETE,
        Operation.DOWNLOAD,
    }
)
# Statuses only the route itself gives: it parsed the request and judged it.
_ROUTE_ANSWERS = frozenset({400, 404, 409, 415, 422})

# How providers and gateways say a model is gone or unknown. Google, relayed by LiteLLM: "models/
# veo-3.1-generate-preview is not found for API version v1beta" and "This model ... is no longer
# available"; OpenAI's code `model_not_found`; others "unknown model X", "model X does not exist".
_MODEL_GONE = re.compile(
    r"\bmodels?\b.{0,200}?\b(?:not found|no longer available|does not exist"
    r"|(?:been )?(?:retired|decommissioned|shut down))\b"
    r"|\b(?:unknown|invalid) model\b|\bmodel_not_found\b",
    re.IGNORECASE,
)
# A model is left off for this long after the provider refused it: a static profile cannot say
# when it is back (an operator may fix the gateway's config), and a catalogue is read hourly.
RETIRED_FOR = 3600.0
# Refusals a model can cause on create: not found, or a bad request naming it.
_MODEL_REFUSALS = frozenset({400, 404})

# The words each operation goes by in "<operation> is not supported" (LiteLLM's Gemini, fal and
# Runway transformations raise this before sending anything upstream; the proxy answers 500).
_OPERATION_WORDS: dict[Operation, str] = {
    Operation.REMIX: "remix",
    Operation.EDIT: "edit",
    Operation.EXTEND: "extension|extend",
    Operation.CREATE_CHARACTER: "character creation|create character",
    Operation.GET_CHARACTER: "character retrieval|get character",
    Operation.LIST: "list|listing",
    Operation.DELETE: "delete",
}


def route_missing(operation: Operation, status: int, *, api_error_body: bool) -> bool:
    """Whether an error answer means the provider has no such route.

    On an id route, a 404 that a handler wrote (OpenAI's error object, or FastAPI's `detail`
    naming the video) is the API saying "no such video"; anything else (an HTML page, plain
    text, the router's own `{"detail": "Not Found"}`) is a router that never heard of the path.
    """
    if status in (405, 501):
        return True
    if status == 404:
        return operation not in ID_OPERATIONS or not api_error_body
    return False


def names_gone_model(operation: Operation, status: int, text: str, *, param: object = None) -> bool:
    """Whether a create's 400 or 404 says its model is gone or unknown, by what the body says:
    in words, or as OpenAI's error object does, naming `model` as the parameter refused."""
    if operation is not Operation.CREATE or status not in _MODEL_REFUSALS:
        return False
    return param == "model" or _MODEL_GONE.search(text) is not None


def says_unsupported(operation: Operation, status: int, text: str) -> bool:
    """Whether a 5xx says this very operation is not supported (so nothing was made).

    Narrow on purpose: any other 5xx may mean a job was made and its answer lost.
    """
    words = _OPERATION_WORDS.get(operation)
    if status < 500 or words is None:
        return False
    said = re.compile(rf"\b(?:{words})\b.{{0,40}}?\bis not (?:yet )?supported\b", re.I)
    return said.search(text) is not None


def route_answered(operation: Operation, status: int, *, api_error_body: bool) -> bool:
    """Whether an answer proves the route exists, whatever it thought of the request."""
    if 200 <= status < 300:
        return True
    return status in _ROUTE_ANSWERS and not route_missing(
        operation, status, api_error_body=api_error_body
    )


class Capabilities:
    """What this client has learned; `supports` is None until the operation was tried.

    Also whether the provider answers at all: `next_answer` wakes when it next does, so that
    work waiting out a failure can go again at once after an outage.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._known: dict[Operation, bool] = {}
        self._answer = asyncio.Event()
        self._clock = clock
        # Models the provider refused as gone, and until when they are left off.
        self._retired: dict[str, float] = {}

    def answered(self) -> None:
        """The provider just answered a request successfully."""
        self._answer.set()
        self._answer = asyncio.Event()

    async def next_answer(self) -> None:
        await self._answer.wait()

    def supports(self, operation: Operation) -> bool | None:
        return self._known.get(operation)

    @property
    def unsupported(self) -> frozenset[Operation]:
        return frozenset(op for op, served in self._known.items() if not served)

    def record(self, operation: Operation, *, served: bool) -> None:
        self._known[operation] = served

    def forget(self, operation: Operation) -> None:
        self._known.pop(operation, None)

    def retire(self, model: str) -> None:
        """The provider said `model` is gone: left off for RETIRED_FOR."""
        self._retired[model] = self._clock() + RETIRED_FOR

    def retired(self, model: str) -> bool:
        until = self._retired.get(model)
        if until is not None and until <= self._clock():
            del self._retired[model]
            return False
        return until is not None

    def available(self, models: Iterable[str]) -> tuple[str, ...]:
        """`models` less the ones the provider refused as gone."""
        return tuple(model for model in models if not self.retired(model))

    def listed(self, models: Iterable[str]) -> None:
        """A catalogue lists `models` again: none of them is left off any longer."""
        for model in models:
            self._retired.pop(model, None)
