"""When a failed request may be sent again, and how long to wait first.

A POST to this API starts a billable job, so it is repeated only when the server certainly did
not act on it: it said so (429), or the connection failed before the request left the client.
Reads and deletes are idempotent and are retried on every transient failure. How long to wait
is `bot.timing.backoff.Backoff`, obeying a server's Retry-After as read here.
"""

from __future__ import annotations

import time
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
