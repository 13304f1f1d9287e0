"""A server's prompt rules: blocked words, age-restricted channels, an optional moderation check.

Checked before anything is reserved or sent (bot/jobs/service.py), in this order: the channel
(in memory), the server's blocked words (in memory), then the operator's moderation endpoint
(one HTTP call). A refusal is a `PromptRefused`, said only to the person who asked (the error
handler answers ephemerally), and counted per server and month for `/usage show:server`.

Rules are words and globs, never regular expressions: a rule is 1 to `RULE_WORDS_MAX` words of
letters and digits, each with an optional `*` at its start and/or end ("cat*" also blocks
"cats", "*gore" also "bloodgore", "*nud*" any word holding "nud"). Matching compares a word to
a word (equality, startswith, endswith, containment), so it is linear in the prompt and can
never backtrack, whatever an admin types; no timer is needed to bound it. Its worst case, 100
five-word rules with stars against a 6,000-character prompt (Discord's most for an option), is
about 0.13 s of CPU, spent in a worker thread. Both sides are compared casefolded,
NFKC-normalised and without accents, so "Café" meets "cafe".

A provider's own refusal ("blocked by the provider's safety system") is recognised here too, so
that jobs and cards say it alike: an error code of OpenAI's contract (`moderation_blocked`) or
a common alias, or OpenRouter's moderation error (a 403 whose `error.metadata` lists `reasons`).
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, NoReturn, Protocol

from bot.errors import UserError
from bot.spending.cache import VersionedCache
from bot.spending.limits import DM_SCOPE
from bot.storage.rules import SAFETY_CODES, PromptSettings, RefusalReason, RulesRepository

# Bounds on what an admin may enter: enough for real lists, small enough that checking every
# rule against the longest prompt stays far under a millisecond per rule.
RULE_MAX_CHARS: Final = 60
RULES_MAX: Final = 100
RULE_WORDS_MAX: Final = 5
WILDCARD: Final = "*"
_WORD: Final = re.compile(r"\w+")


class PromptRefused(UserError):
    """The server's rules or the moderation check refused a prompt; the message is for the
    asker alone (it may name the rule), and never quotes the prompt."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RuleError(UserError):
    """A rule an admin entered is not one the bot takes; the message says why."""


def fold(text: str) -> str:
    """`text` as rules compare it: compatibility-normalised, casefolded, without accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize(
        "NFKC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def words(text: str) -> list[str]:
    """The words of `text`, folded; punctuation and spacing separate them."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True, slots=True)
class WordPattern:
    text: str
    # `*` before: the word may start with anything; after: end with anything.
    any_start: bool = False
    any_end: bool = False

    def matches(self, word: str) -> bool:
        if self.any_start and self.any_end:
            return self.text in word
        if self.any_start:
            return word.endswith(self.text)
        if self.any_end:
            return word.startswith(self.text)
        return word == self.text


def parse_rule(text: str) -> str:
    """The rule as stored (folded, single spaces), or a `RuleError` saying what is wrong."""
    rule = " ".join(fold(text).split())
    if not rule:
        raise RuleError("A rule needs at least one word.")
    if len(rule) > RULE_MAX_CHARS:
        raise RuleError(f"A rule is at most {RULE_MAX_CHARS} characters.")
    parts = rule.split(" ")
    if len(parts) > RULE_WORDS_MAX:
        raise RuleError(f"A rule is at most {RULE_WORDS_MAX} words.")
    for part in parts:
        core = part.strip(WILDCARD)
        if not core or _WORD.fullmatch(core) is None:
            raise RuleError(
                "Rules are words of letters and digits, each with an optional * at its start "
                "or end (cat*, *gore); patterns and punctuation are not taken."
            )
        if len(part) - len(core) > 2 or part.startswith(WILDCARD * 2) or part.endswith("**"):
            raise RuleError("A word takes at most one * at its start and one at its end.")
    return rule


def _pattern(word: str) -> WordPattern:
    return WordPattern(
        word.strip(WILDCARD), any_start=word.startswith(WILDCARD), any_end=word.endswith(WILDCARD)
    )


@dataclass(frozen=True, slots=True)
class Matcher:
    """A server's rules, ready to check prompts against."""

    rules: tuple[tuple[str, tuple[WordPattern, ...]], ...] = ()

    @classmethod
    def of(cls, rules: list[str]) -> Matcher:
        return cls(tuple((rule, tuple(_pattern(w) for w in rule.split(" "))) for rule in rules))

    def first_match(self, prompt: str) -> str | None:
        """The first rule `prompt` breaks (a phrase: its words in a row), or None."""
        found = words(prompt)
        for rule, patterns in self.rules:
            span = len(patterns)
            for start in range(len(found) - span + 1):
                if all(p.matches(found[start + i]) for i, p in enumerate(patterns)):
                    return rule
        return None


# -- the provider's own refusal ------------------------------------------------------------------


def blocked_by_provider(error: BaseException) -> bool:
    """Whether a provider refused a job with its safety system (nothing was made)."""
    code = getattr(error, "code", None)
    if isinstance(code, str) and code in SAFETY_CODES:
        return True
    body: Any = getattr(error, "body", None)
    detail = body.get("error") if isinstance(body, dict) else None
    metadata = detail.get("metadata") if isinstance(detail, dict) else None
    # OpenRouter: "403: your chosen model requires moderation and your input was flagged",
    # with the reasons in `error.metadata`.
    return (
        getattr(error, "status", None) == 403
        and isinstance(metadata, dict)
        and ("reasons" in metadata)
    )


# -- the check before a job ----------------------------------------------------------------------


class Moderator(Protocol):
    """The moderation endpoint (bot/spending/moderation.py)."""

    async def flagged(self, prompt: str) -> tuple[str, ...] | None:
        """The categories the prompt is flagged for (empty: flagged without one named), or
        None when it is not flagged. Raises `ModerationUnavailable` when it cannot tell."""
        ...


class ModerationUnavailable(Exception):
    """The moderation endpoint gave no verdict (down, slow, refused the key, answered junk)."""


AGE_ONLY: Final = "This server allows videos only in age-restricted channels; ask there."
BLOCKED: Final = (
    "Your prompt contains `{rule}`, which this server's rules block. "
    "Nothing was started or charged; reword it and try again."
)
FLAGGED: Final = (
    "The moderation check flagged your prompt{why}. Nothing was started or charged; "
    "reword it and try again."
)
UNCHECKED: Final = (
    "The moderation check is not answering, and prompts are not sent unchecked. Nothing was "
    "started or charged; try again in a few minutes."
)


class PromptRules:
    """The check before every job, with each server's rules kept in memory a short while
    (bot.spending.cache, as for limits): commands read them on every request."""

    def __init__(
        self,
        store: RulesRepository,
        moderator: Moderator | None = None,
        *,
        fresh_for: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._moderator = moderator
        self._wall_clock = wall_clock
        self._kept: VersionedCache[int, tuple[PromptSettings, Matcher]] = VersionedCache(
            fresh_for=fresh_for, clock=clock
        )

    @property
    def moderated(self) -> bool:
        return self._moderator is not None

    def forget(self, scope: int) -> None:
        """The server's rules changed: read them again next time."""
        self._kept.forget(scope)

    async def settings(self, scope: int) -> PromptSettings:
        return (await self._load(scope))[0]

    async def check(self, scope: int, prompt: str, *, age_restricted: bool) -> None:
        """Raise `PromptRefused` (counted) when `prompt` may not go out here."""
        if scope != DM_SCOPE:
            settings, matcher = await self._load(scope)
            if settings.age_restricted_only and not age_restricted:
                await self._refuse(scope, PromptRefused("age", AGE_ONLY))
            # Linear, but up to ~0.1 s for 100 phrase rules against a 6,000-character prompt
            # (README, "Prompt rules"): off the event loop, which serves every server.
            rule = await asyncio.to_thread(matcher.first_match, prompt) if matcher.rules else None
            if rule is not None:
                await self._refuse(scope, PromptRefused("rule", BLOCKED.format(rule=rule)))
        if self._moderator is None:
            return
        # The operator turned the check on so that no prompt goes out unchecked: when it gives
        # no verdict, the job is refused (free, and said so), never sent without it.
        try:
            categories = await self._moderator.flagged(prompt)
        except ModerationUnavailable:
            await self._refuse(scope, PromptRefused("unchecked", UNCHECKED))
        if categories is not None:
            why = f" ({', '.join(categories)})" if categories else ""
            await self._refuse(scope, PromptRefused("moderation", FLAGGED.format(why=why)))

    async def _refuse(self, scope: int, refusal: PromptRefused) -> NoReturn:
        await self.store.count_refusal(scope, refusal.reason, self._wall_clock())
        raise refusal

    async def _load(self, scope: int) -> tuple[PromptSettings, Matcher]:
        return await self._kept.get(scope, lambda: self._read(scope))

    async def _read(self, scope: int) -> tuple[PromptSettings, Matcher]:
        settings = await self.store.settings(scope)
        return settings, Matcher.of(list(settings.rules))
