"""A per-member cooldown for actions that are not one command (a button and a command sharing it).

discord.py's `app_commands.checks.cooldown` keys one command; Thumbnail, Spritesheet and
`/videos download` share one bucket per member, so a member cannot dodge it by switching. The
answer is discord.py's own `CommandOnCooldown`, which the tree's error handler words as "try again
<t:…:R>".
"""

from __future__ import annotations

from typing import Final

from discord import app_commands

# Buckets of members idle past their window are dropped once this many are kept.
PRUNE_AT: Final = 1024


class MemberCooldown:
    """`uses` per member per `seconds` (discord.py's token bucket); 0 seconds: no cooldown."""

    def __init__(self, uses: int, seconds: float) -> None:
        self._uses = uses
        self._seconds = seconds
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def hit(self, member_id: int) -> None:
        """Count one use; CommandOnCooldown if the member has none left right now."""
        if self._seconds <= 0:
            return
        if len(self._buckets) >= PRUNE_AT:
            self._buckets = {
                key: bucket
                for key, bucket in self._buckets.items()
                if bucket.get_tokens() < bucket.rate
            }
        bucket = self._buckets.setdefault(
            member_id, app_commands.Cooldown(self._uses, self._seconds)
        )
        retry_after = bucket.update_rate_limit()
        if retry_after:
            raise app_commands.CommandOnCooldown(bucket, retry_after)
