"""The cancellation-safe wait: set, timed out, and a cancel that lands as the event is set."""

from __future__ import annotations

import asyncio

import pytest

from bot.timing.waits import wait_event


async def test_a_set_event_ends_the_wait_at_once() -> None:
    event = asyncio.Event()
    event.set()

    assert await wait_event(event, 0) is True


async def test_the_deadline_ends_the_wait() -> None:
    assert await wait_event(asyncio.Event(), 0) is False


async def test_setting_the_event_wakes_a_waiter_without_a_deadline() -> None:
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, None))
    await asyncio.sleep(0)

    event.set()

    assert await waiter is True


async def test_a_cancel_landing_as_the_event_is_set_is_kept() -> None:
    # asyncio.wait_for on Python 3.11 returns normally here, and the cancel is lost.
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, 3600))
    await asyncio.sleep(0)

    event.set()
    waiter.cancel()

    with pytest.raises(asyncio.CancelledError):
        await waiter
