"""When a failed request may be sent again, and how long to wait first.

A POST to this API starts a billable job, so it is repeated only when the server certainly did
not act on it: it said so (429), or the connection failed before the request left the client.
Reads and deletes are idempotent and are retried on every transient failure.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

_RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Failures that happen before a single byte of the request is written.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})


def should_retry_status(method: str, status: int) -> bool:
    if method not in _IDEMPOTENT_METHODS:
        return status == 429
    # 501 is left out: "not implemented" will not change on a second try.
    return status in _RETRYABLE_STATUSES or (status >= 500 and status != 501)


def should_retry_error(method: str, error: httpx.RequestError) -> bool:
    if method in _IDEMPOTENT_METHODS:
        return isinstance(error, httpx.TransportError)
    return isinstance(error, _NOT_SENT_ERRORS)


def retry_after(headers: httpx.Headers) -> float | None:
    """The wait the server asked for, in seconds, if it asked in a form we understand."""
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped, jittered exponential backoff; `sleep` is injectable so tests never wait."""

    base_delay: float = 0.5
    max_delay: float = 8.0
    # A server asking for longer than this is obeyed only up to it.
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def delay(self, retry: int, headers: httpx.Headers | None = None) -> float:
        """Seconds to wait before retry number `retry` (0 for the first)."""
        asked = retry_after(headers) if headers is not None else None
        if asked is not None:
            return min(asked, self.max_retry_after)
        # Jitter spreads out clients that failed together, so they do not retry together. The
        # exponent is bounded: 2.0 ** 1024 overflows, and a delivery may fail that often.
        growth = 2.0 ** min(retry, 64)
        return min(self.max_delay, self.base_delay * growth) * (1 - 0.25 * random.random())
