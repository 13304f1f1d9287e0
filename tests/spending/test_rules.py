"""Prompt rules: what an admin may enter, how prompts are matched, and the check before a job."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.spending.rules import (
    AGE_ONLY,
    RULE_MAX_CHARS,
    RULE_WORDS_MAX,
    Matcher,
    ModerationUnavailable,
    PromptRefused,
    PromptRules,
    RuleError,
    blocked_by_provider,
    parse_rule,
)
from bot.storage import SqliteDatabase
from bot.storage.rules import RulesRepository
from bot.videoapi.errors import BadRequestError, PermissionDeniedError, VideoAPIError

GUILD = 9001
NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Cat  ", "cat"),
        ("Café", "cafe"),
        ("cat*", "cat*"),
        ("*GORE", "*gore"),
        ("*nud*", "*nud*"),
        ("blood   Bath", "blood bath"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
    ],
)
def test_prompt_rules_are_stored_folded(typed: str, stored: str) -> None:
    assert parse_rule(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "*",
        "(a+)+$",
        "a.*b",
        "c*t",
        "**cat",
        "cat**",
        "x" * (RULE_MAX_CHARS + 1),
        " ".join(["w"] * (RULE_WORDS_MAX + 1)),
        "cat-dog",
    ],
)
def test_prompt_rules_refuse_patterns_and_oversized_rules(typed: str) -> None:
    with pytest.raises(RuleError):
        parse_rule(typed)


@pytest.mark.parametrize(
    ("rule", "prompt", "breaks"),
    [
        ("cat", "A CAT on a skateboard", True),
        ("cat", "a category of things", False),
        ("cat*", "two cats dancing", True),
        ("*gore", "blood-gore everywhere", True),
        ("*gore", "gorey", False),
        ("*nud*", "seminude figure", True),
        ("blood bath", "a blood, bath scene", True),
        ("blood bath", "blood and a bath", False),
        ("cafe", "un café noir", True),
    ],
)
def test_prompt_rules_match_words_and_globs(rule: str, prompt: str, breaks: bool) -> None:
    matched = Matcher.of([parse_rule(rule)]).first_match(prompt)
    assert (matched == parse_rule(rule)) is breaks


def test_prompt_rules_take_the_shapes_that_break_backtracking_regexes() -> None:
    # Many stars and long runs of one letter: compared word to word, never backtracked.
    rules = [parse_rule(f"*{'a' * 50}b*"), *(parse_rule(f"*a{i}* *a*") for i in range(99))]
    matcher = Matcher.of(rules)
    assert matcher.first_match(" ".join(["a" * 3_000, *("a" for _ in range(500))])) is None
    assert matcher.first_match("a" * 3_000 + "b") == rules[0]


@pytest.mark.parametrize(
    ("error", "blocked"),
    [
        (BadRequestError("Your request was blocked.", status=400, code="moderation_blocked"), True),
        (VideoAPIError("blocked", code="content_policy_violation"), True),
        (
            PermissionDeniedError(
                "Input flagged",
                status=403,
                body={"error": {"code": 403, "message": "flagged", "metadata": {"reasons": ["x"]}}},
            ),
            True,
        ),
        (PermissionDeniedError("no access", status=403, body={"error": {"code": 403}}), False),
        (BadRequestError("bad size", status=400, code="invalid_value"), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_prompt_rules_know_a_providers_safety_refusal(error: Exception, blocked: bool) -> None:
    assert blocked_by_provider(error) is blocked


class Verdicts:
    """A moderator answering from a table (the HTTP client has its own tests)."""

    def __init__(self, flagged: dict[str, tuple[str, ...]], *, down: bool = False) -> None:
        self.flagged_words, self.down, self.asked = flagged, down, 0

    async def flagged(self, prompt: str) -> tuple[str, ...] | None:
        self.asked += 1
        if self.down:
            raise ModerationUnavailable("down")
        return next((c for w, c in self.flagged_words.items() if w in prompt), None)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[RulesRepository]:
    async with await SqliteDatabase.open(tmp_path / "db.sqlite3") as db:
        yield RulesRepository(db)


async def refused(rules: PromptRules, prompt: str, *, age_restricted: bool = False) -> str:
    with pytest.raises(PromptRefused) as caught:
        await rules.check(GUILD, prompt, age_restricted=age_restricted)
    return caught.value.reason


async def test_prompt_rules_refuse_a_blocked_word_and_count_it(repo: RulesRepository) -> None:
    await repo.add(GUILD, "gore*", 1, NOW, most=10)
    rules = PromptRules(repo, wall_clock=lambda: NOW)
    await rules.check(GUILD, "a calm lake", age_restricted=False)
    with pytest.raises(PromptRefused) as caught:
        await rules.check(GUILD, "GOREFEST at night", age_restricted=False)
    assert caught.value.reason == "rule"
    # The asker is told which rule; the prompt itself is never quoted back.
    assert "`gore*`" in str(caught.value)
    assert "GOREFEST" not in str(caught.value)
    assert (await repo.month(GUILD, NOW)).by_reason["rule"] == 1


async def test_prompt_rules_are_read_again_once_forgotten(repo: RulesRepository) -> None:
    rules = PromptRules(repo)
    await rules.check(GUILD, "a wolf", age_restricted=False)
    await repo.add(GUILD, "wolf", 1, NOW, most=10)
    # Kept in memory: a change made through the cog forgets the server's copy.
    await rules.check(GUILD, "a wolf", age_restricted=False)
    rules.forget(GUILD)
    assert await refused(rules, "a wolf") == "rule"


async def test_prompt_rules_age_restricted_only(repo: RulesRepository) -> None:
    await repo.set_age_restricted_only(GUILD, True)
    rules = PromptRules(repo)
    with pytest.raises(PromptRefused, match=AGE_ONLY):
        await rules.check(GUILD, "a wolf", age_restricted=False)
    await rules.check(GUILD, "a wolf", age_restricted=True)
    # Direct messages have no server, and no server's rules.
    await rules.check(0, "a wolf", age_restricted=False)


async def test_prompt_rules_moderation_flags_and_a_silent_check_refuses(
    repo: RulesRepository,
) -> None:
    moderator = Verdicts({"gore": ("violence/graphic",)})
    rules = PromptRules(repo, moderator)
    await rules.check(GUILD, "a calm lake", age_restricted=False)
    with pytest.raises(PromptRefused, match=r"\(violence/graphic\)"):
        await rules.check(GUILD, "gore", age_restricted=False)
    moderator.down = True
    assert await refused(rules, "a calm lake") == "unchecked"
    counts = (await repo.month(GUILD, time.time())).by_reason
    assert (counts["moderation"], counts["unchecked"]) == (1, 1)


async def test_prompt_rules_a_server_rule_refuses_before_the_moderation_call(
    repo: RulesRepository,
) -> None:
    await repo.add(GUILD, "wolf", 1, NOW, most=10)
    moderator = Verdicts({})
    assert await refused(PromptRules(repo, moderator), "a wolf") == "rule"
    assert moderator.asked == 0
