"""What the prompt rules say to admins: the rules card, what an addition did, and the
refusals of the month in /usage show:server."""

from __future__ import annotations

from typing import Final

import discord

from bot.spending.rules import RULE_MAX_CHARS, RULES_MAX
from bot.storage.rules import PromptSettings, Refusals
from bot.ui.text import plural

# Embed descriptions hold 4,096 characters: every rule, in code spans, fits.
_ADDED: Final = {
    "added": "blocked",
    "exists": "was blocked already",
    "full": f"not added: this server has {RULES_MAX} rules, the most it may have",
}
REFUSAL_WORDS: Final = {
    "rule": "Blocked words",
    "age": "Not an age-restricted channel",
    "moderation": "Flagged by the moderation check",
    "unchecked": "Moderation check not answering",
}


def rules_card(settings: PromptSettings, *, moderated: bool) -> discord.Embed:
    listed = ", ".join(f"`{rule}`" for rule in settings.rules)
    embed = discord.Embed(
        title="Prompt rules in this server",
        description=listed or "No words are blocked.",
        colour=discord.Colour.blurple(),
    )
    embed.add_field(
        name="Where",
        value="Only in age-restricted channels"
        if settings.age_restricted_only
        else "Any channel allowed by /limits allow",
        inline=False,
    )
    embed.add_field(
        name="Moderation check",
        value="On (the bot's operator set it up): every prompt is checked before it goes out"
        if moderated
        else "Off (only the bot's operator can turn it on)",
        inline=False,
    )
    embed.set_footer(
        text=f"{plural(len(settings.rules), 'rule')} of {RULES_MAX}. A rule is up to "
        f"{RULE_MAX_CHARS} characters of words, a * at a word's start or end (cat*, *gore); "
        "case and accents do not matter. A refused prompt costs nothing and is told only to "
        "whoever asked."
    )
    return embed


def added_text(outcomes: list[tuple[str, str]]) -> str:
    """One line per rule given to /limits rules add: its stored form and what happened, or
    what was typed and why it is not a rule."""
    return "\n".join(
        f"`{rule}` {_ADDED.get(outcome, f'not added: {outcome}')}" for rule, outcome in outcomes
    )


def refusals_text(refusals: Refusals) -> str:
    """The month's refused prompts, by reason, for /usage show:server."""
    if refusals.total == 0:
        return "None this month."
    parts = [
        f"{REFUSAL_WORDS[reason]}: {count}" for reason, count in refusals.by_reason.items() if count
    ]
    if refusals.provider:
        parts.append(f"The provider's safety system: {refusals.provider}")
    return " · ".join(parts)
