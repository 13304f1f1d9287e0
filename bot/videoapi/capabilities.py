"""Which of the contract's operations this provider serves, learned from its answers.

Gateways and self-hosted servers often serve only part of the contract. A missing route is a
known state: once seen, the client refuses the operation at once instead of asking again.
"""

from __future__ import annotations

import asyncio

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

    def __init__(self) -> None:
        self._known: dict[Operation, bool] = {}
        self._answer = asyncio.Event()

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
