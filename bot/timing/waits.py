"""Waiting for an event or a deadline, whichever comes first, without losing a cancel."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_event(event: asyncio.Event, seconds: float | None) -> bool:
    """Wait until `event` is set or `seconds` have passed (None: no limit).

    True when the event was set. asyncio.timeout, not wait_for: 3.11's wait_for swallows a cancel
    that lands as the event is set (the waiting task goes on, and whoever stops it waits out its
    whole next pause).
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
        return True
    return False
