"""What a server allows, what has been used, and whether a new job starts, waits or is refused.

Daily seconds and the monthly budget refuse at once: waiting would not make room before the
period turns. Only a full concurrency slot (the owner's or the server's) makes a job wait, in
line, holding its reservation. A limit of None is no limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

# Direct messages have no server: they share this scope and the bot-wide defaults.
DM_SCOPE: Final = 0
# What switches a limit off, in the environment and in /limits.
NO_LIMIT_WORDS: Final = frozenset({"none", "off", "unlimited"})


LimitField = Literal[
    "jobs_per_user",
    "jobs_per_guild",
    "daily_seconds_per_user",
    "daily_seconds_per_guild",
    "monthly_budget_micros",
]
# The limits a server has, each under a ceiling of the operator's.
LIMIT_FIELDS: Final[tuple[LimitField, ...]] = (
    "jobs_per_user",
    "jobs_per_guild",
    "daily_seconds_per_user",
    "daily_seconds_per_guild",
    "monthly_budget_micros",
)


@dataclass(frozen=True, slots=True)
class Limits:
    jobs_per_user: int | None
    jobs_per_guild: int | None
    daily_seconds_per_user: int | None
    daily_seconds_per_guild: int | None
    monthly_budget_micros: int | None
    # The operator's budget for every server and direct messages together (not the scope's own).
    bot_monthly_budget_micros: int | None = None


@dataclass(frozen=True, slots=True)
class Access:
    """Who may generate in a server; an empty set lets everyone through."""

    channels: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()
    # The models a server may use, as the picker names them (/limits models); empty: every one
    # the operator offers.
    models: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Ask:
    """What a new job would use: its generated seconds and its price."""

    seconds: int
    micros: int


@dataclass(frozen=True, slots=True)
class Usage:
    """What counts against the limits when a job asks to start (reserved and settled alike)."""

    user_seconds_today: int
    guild_seconds_today: int
    guild_micros_month: int
    user_running: int
    guild_running: int
    # Every scope's month together, against the bot-wide budget.
    bot_micros_month: int = 0
    # Jobs waiting in the server's line, and whether one of them waits for a server slot (which
    # a newcomer must not jump).
    waiting: int = 0
    line_waits_for_guild: bool = False


LimitName = Literal["user_seconds", "guild_seconds", "budget", "bot_budget"]


@dataclass(frozen=True, slots=True)
class Start:
    pass


@dataclass(frozen=True, slots=True)
class Wait:
    position: int  # 1 is next


@dataclass(frozen=True, slots=True)
class Refuse:
    limit: LimitName
    allowed: int
    left: int
    asked: int


Verdict = Start | Wait | Refuse


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(0, limit - used)


def refusal(limits: Limits, usage: Usage, ask: Ask) -> Refuse | None:
    """The first period limit the job would go past; exactly at the limit is allowed."""
    checks: tuple[tuple[LimitName, int | None, int, int], ...] = (
        ("user_seconds", limits.daily_seconds_per_user, usage.user_seconds_today, ask.seconds),
        ("guild_seconds", limits.daily_seconds_per_guild, usage.guild_seconds_today, ask.seconds),
        ("budget", limits.monthly_budget_micros, usage.guild_micros_month, ask.micros),
        ("bot_budget", limits.bot_monthly_budget_micros, usage.bot_micros_month, ask.micros),
    )
    for name, limit, used, asked in checks:
        left = _left(limit, used)
        if limit is not None and left is not None and asked > left:
            return Refuse(name, limit, left, asked)
    return None


def has_slot(limits: Limits, user_running: int, guild_running: int) -> bool:
    user_full = limits.jobs_per_user is not None and user_running >= limits.jobs_per_user
    guild_full = limits.jobs_per_guild is not None and guild_running >= limits.jobs_per_guild
    return not user_full and not guild_full


def decide(limits: Limits, usage: Usage, ask: Ask) -> Verdict:
    refused = refusal(limits, usage, ask)
    if refused is not None:
        return refused
    if usage.line_waits_for_guild or not has_slot(limits, usage.user_running, usage.guild_running):
        return Wait(usage.waiting + 1)
    return Start()


Denial = Literal["blocked", "channel", "role"]


def denied(
    access: Access, user_id: int, channel_ids: tuple[int, ...], role_ids: frozenset[int]
) -> Denial | None:
    """Why this member may not generate here (None when they may).

    `channel_ids` is the channel and, in a thread, its parent: a thread of an allowed
    channel is allowed.
    """
    if user_id in access.blocked:
        return "blocked"
    if access.channels and not access.channels.intersection(channel_ids):
        return "channel"
    if access.roles and not access.roles.intersection(role_ids):
        return "role"
    return None
