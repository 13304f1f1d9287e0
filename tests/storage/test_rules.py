"""A server's prompt rules and its refusal counts, on SQLite and PostgreSQL (migration 0012)."""

from __future__ import annotations

from bot.spending import periods
from bot.storage import Database, VideoRepository
from bot.storage.rules import PromptSettings, RulesRepository

from .helpers import CREATED_AT, GUILD, OTHER_GUILD, add_video

MEMBER = 42


async def test_prompt_rules_are_kept_per_server_in_order(db: Database) -> None:
    rules = RulesRepository(db)
    assert await rules.settings(GUILD) == PromptSettings()
    assert await rules.add(GUILD, "zebra", MEMBER, CREATED_AT, most=10) == "added"
    assert await rules.add(GUILD, "cat*", MEMBER, CREATED_AT, most=10) == "added"
    assert await rules.add(GUILD, "cat*", MEMBER, CREATED_AT, most=10) == "exists"
    await rules.set_age_restricted_only(GUILD, True)
    assert await rules.settings(GUILD) == PromptSettings(("cat*", "zebra"), True)
    assert await rules.settings(OTHER_GUILD) == PromptSettings()
    assert await rules.remove(GUILD, "zebra")
    assert not await rules.remove(GUILD, "zebra")
    await rules.set_age_restricted_only(GUILD, False)
    assert await rules.settings(GUILD) == PromptSettings(("cat*",))
    assert await rules.clear(GUILD) == 1


async def test_prompt_rules_stop_at_the_most_a_server_may_have(db: Database) -> None:
    rules = RulesRepository(db)
    assert await rules.add(GUILD, "one", MEMBER, CREATED_AT, most=2) == "added"
    assert await rules.add(GUILD, "two", MEMBER, CREATED_AT, most=2) == "added"
    assert await rules.add(GUILD, "three", MEMBER, CREATED_AT, most=2) == "full"
    assert (await rules.settings(GUILD)).rules == ("one", "two")


async def test_prompt_rules_refusals_count_per_month_and_the_providers_from_jobs(
    db: Database, videos: VideoRepository
) -> None:
    rules = RulesRepository(db)
    now = float(CREATED_AT)
    for reason in ("rule", "rule", "age", "moderation"):
        await rules.count_refusal(GUILD, reason, now)  # type: ignore[arg-type]
    await rules.count_refusal(GUILD, "rule", periods.month(now).end)  # the next month
    await rules.count_refusal(OTHER_GUILD, "unchecked", now)
    await add_video(
        videos, "v1", status="failed", error={"code": "moderation_blocked", "message": "x"}
    )
    await add_video(videos, "v2", status="failed", error={"code": "content_filter", "message": "x"})
    await add_video(videos, "v3", status="failed", error={"code": "server_error", "message": "x"})
    month = await rules.month(GUILD, now)
    assert month.by_reason == {"rule": 2, "moderation": 1, "age": 1, "unchecked": 0}
    assert month.provider == 2
    assert month.total == 6
    assert (await rules.month(OTHER_GUILD, now)).by_reason["unchecked"] == 1
