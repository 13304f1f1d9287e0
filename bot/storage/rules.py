"""A server's prompt rules and the count of prompts they refused (migration 0012)."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bot.spending import periods
from bot.storage.db import Database

# Why a prompt was refused before anything was reserved: a blocked word, the moderation check,
# a channel that is not age-restricted, or a moderation check that gave no verdict.
RefusalReason = Literal["rule", "moderation", "age", "unchecked"]
REFUSAL_REASONS: Final[tuple[RefusalReason, ...]] = ("rule", "moderation", "age", "unchecked")
# A provider's safety system refused the job: OpenAI's code, and the aliases others use. The
# bot stores its own refusals of a create under the first.
PROVIDER_BLOCKED: Final = "moderation_blocked"
SAFETY_CODES: Final = (
    PROVIDER_BLOCKED,
    "content_policy_violation",
    "content_filter",
    "safety_violation",
)
Added = Literal["added", "exists", "full"]


@dataclass(frozen=True, slots=True)
class PromptSettings:
    """A server's rules as the check before a job needs them."""

    rules: tuple[str, ...] = ()
    # Videos only in age-restricted (NSFW) channels.
    age_restricted_only: bool = False


@dataclass(frozen=True, slots=True)
class Refusals:
    """A server's month of refused prompts, by reason; `provider`: jobs its provider refused."""

    by_reason: dict[RefusalReason, int]
    provider: int

    @property
    def total(self) -> int:
        return sum(self.by_reason.values()) + self.provider


_RULES = "SELECT rule FROM prompt_rules WHERE guild_id = ? ORDER BY rule"
_RULE_COUNT = "SELECT COUNT(*) FROM prompt_rules WHERE guild_id = ?"
_ADD = (
    "INSERT INTO prompt_rules (guild_id, rule, added_by, added_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (guild_id, rule) DO NOTHING"
)
_REMOVE = "DELETE FROM prompt_rules WHERE guild_id = ? AND rule = ?"
_CLEAR = "DELETE FROM prompt_rules WHERE guild_id = ?"
_AGE_ONLY = "SELECT age_restricted_only FROM prompt_settings WHERE guild_id = ?"
_SET_AGE_ONLY = (
    "INSERT INTO prompt_settings (guild_id, age_restricted_only) VALUES (?, ?)"
    " ON CONFLICT (guild_id) DO UPDATE SET age_restricted_only = excluded.age_restricted_only"
)
_COUNT = (
    "INSERT INTO prompt_refusals (guild_id, month, reason, count) VALUES (?, ?, ?, 1)"
    " ON CONFLICT (guild_id, month, reason) DO UPDATE SET count = prompt_refusals.count + 1"
)
_MONTH = "SELECT reason, count FROM prompt_refusals WHERE guild_id = ? AND month = ?"
_PROVIDER_MONTH = (
    "SELECT COUNT(*) FROM videos WHERE guild_id = ? AND created_at >= ? AND created_at < ?"
    f" AND error_code IN ({', '.join('?' for _ in SAFETY_CODES)})"
)


class RulesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def settings(self, guild_id: int) -> PromptSettings:
        rules = tuple(str(row[0]) for row in await self._db.fetch_all(_RULES, (guild_id,)))
        row = await self._db.fetch_one(_AGE_ONLY, (guild_id,))
        return PromptSettings(rules, bool(row[0]) if row else False)

    async def add(self, guild_id: int, rule: str, added_by: int, now: float, *, most: int) -> Added:
        """Add `rule`, unless the server has `most` rules already."""
        async with self._db.transaction():
            row = await self._db.fetch_one(_RULE_COUNT, (guild_id,))
            if row is not None and int(row[0]) >= most:
                return "full"
            added = await self._db.execute(_ADD, (guild_id, rule, added_by, int(now)))
            return "added" if added == 1 else "exists"

    async def remove(self, guild_id: int, rule: str) -> bool:
        return await self._db.execute(_REMOVE, (guild_id, rule)) == 1

    async def clear(self, guild_id: int) -> int:
        return await self._db.execute(_CLEAR, (guild_id,))

    async def set_age_restricted_only(self, guild_id: int, on: bool) -> None:
        await self._db.execute(_SET_AGE_ONLY, (guild_id, int(on)))

    async def count_refusal(self, guild_id: int, reason: RefusalReason, now: float) -> None:
        await self._db.execute(_COUNT, (guild_id, int(periods.month(now).start), reason))

    async def month(self, guild_id: int, now: float) -> Refusals:
        """The server's refusals in the UTC month of `now`."""
        month = periods.month(now)
        rows = await self._db.fetch_all(_MONTH, (guild_id, int(month.start)))
        by_reason: dict[RefusalReason, int] = dict.fromkeys(REFUSAL_REASONS, 0)
        for reason, count in rows:
            if reason in by_reason:
                by_reason[reason] = int(count)
        provider = await self._db.fetch_one(
            _PROVIDER_MONTH, (guild_id, int(month.start), int(month.end), *SAFETY_CODES)
        )
        return Refusals(by_reason, int(provider[0]) if provider else 0)
