"""What the limits say to people: refusals with what is left and when it resets, and who may
generate where (the errors bot/errors.py carries them in, rendered by bot.interactions.tree)."""

from __future__ import annotations

from bot.spending import periods
from bot.spending.limits import DM_SCOPE, Access, Denial, Refuse
from bot.spending.money import usd
from bot.ui.text import timestamp


def seconds_text(seconds: int) -> str:
    return f"{seconds:,} s"


def refusal_text(refused: Refuse, scope: int, now: float) -> str:
    """Why a job cannot start now, what is left, and when that changes."""
    where = "direct messages" if scope == DM_SCOPE else "this server"
    if refused.limit == "user_seconds":
        return (
            f"That video needs {seconds_text(refused.asked)}, and you have "
            f"{seconds_text(refused.left)} left of your {seconds_text(refused.allowed)} for "
            f"today in {where}. Your seconds reset {timestamp(periods.day(now).end)}."
        )
    if refused.limit == "guild_seconds":
        return (
            f"That video needs {seconds_text(refused.asked)}, and {where} has "
            f"{seconds_text(refused.left)} left of its {seconds_text(refused.allowed)} for today. "
            f"They reset {timestamp(periods.day(now).end)}."
        )
    if refused.limit == "bot_budget":
        return (
            f"That video costs {usd(refused.asked)}, and the bot has {usd(refused.left)} left "
            "of its budget for this month, shared by every server it is in. The budget resets "
            f"{timestamp(periods.month(now).end)}."
        )
    return (
        f"That video costs {usd(refused.asked)}, and {where} has {usd(refused.left)} left of "
        f"its {usd(refused.allowed)} budget for this month. The budget resets "
        f"{timestamp(periods.month(now).end)}."
    )


def denied_text(reason: Denial, access: Access) -> str:
    if reason == "blocked":
        return "You can't make videos in this server."
    if reason == "channel":
        channels = ", ".join(f"<#{c}>" for c in sorted(access.channels))
        return f"Videos can be made in this server only in {channels}."
    roles = ", ".join(f"<@&{r}>" for r in sorted(access.roles))
    return f"Making videos in this server needs one of these roles: {roles}."
