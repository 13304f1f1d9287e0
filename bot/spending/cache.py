"""Per-scope settings kept in memory a short while, never older than the last change here.

Limits and prompt rules are read on every request and changed rarely, so each scope's copy is
kept for `fresh_for` seconds (a change made elsewhere, by the operator's command line or
another process, is read within that). A change made here calls `forget`: the copy is dropped,
and a read that began before the change is handed to its caller but not kept, since it may
predate the change. A burst of requests for one scope reads it once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(slots=True)
class _Loading:
    """One scope's load under way: its lock, how many callers hold or wait for it, and how
    many times the scope was forgotten meanwhile."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    version: int = 0


class VersionedCache(Generic[K, V]):
    def __init__(self, *, fresh_for: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._fresh_for = fresh_for
        self._clock = clock
        self._kept: dict[K, tuple[float, V]] = {}
        # Only scopes with a load under way: a lock per scope ever seen would grow forever.
        self._loading: dict[K, _Loading] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The kept copy while fresh, else what `load()` reads (once for concurrent callers)."""
        kept = self._fresh(key)
        if kept is not None:
            return kept[1]
        loading = self._loading.setdefault(key, _Loading())
        loading.users += 1
        try:
            async with loading.lock:
                kept = self._fresh(key)
                if kept is not None:
                    return kept[1]
                version = loading.version
                read_at = self._clock()
                value = await load()
                # Forgotten while this read was under way: what it read may predate the change.
                if loading.version == version:
                    self._kept[key] = (read_at, value)
                return value
        finally:
            loading.users -= 1
            if loading.users == 0:
                del self._loading[key]

    def forget(self, key: K) -> None:
        """The scope changed: read it again next time, and keep no read already under way."""
        self._kept.pop(key, None)
        loading = self._loading.get(key)
        if loading is not None:
            loading.version += 1

    def _fresh(self, key: K) -> tuple[float, V] | None:
        kept = self._kept.get(key)
        if kept is None or self._clock() - kept[0] >= self._fresh_for:
            return None
        return kept
