"""One cooldown per member across the media buttons and /videos download."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.interactions import cooldown as cooldown_module
from bot.interactions.cooldown import MemberCooldown


def test_uses_are_counted_per_member() -> None:
    cooldown = MemberCooldown(2, 60)
    cooldown.hit(1)
    cooldown.hit(1)
    cooldown.hit(2)  # another member has uses of their own
    with pytest.raises(app_commands.CommandOnCooldown) as caught:
        cooldown.hit(1)
    assert 0 < caught.value.retry_after <= 60


def test_zero_seconds_is_no_cooldown() -> None:
    cooldown = MemberCooldown(1, 0)
    for _ in range(10):
        cooldown.hit(1)


def test_idle_members_are_forgotten_once_many_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cooldown_module, "PRUNE_AT", 3)
    cooldown = MemberCooldown(2, 60)
    cooldown.hit(1)
    cooldown.hit(1)  # member 1 has used up the window
    cooldown.hit(2)
    cooldown._buckets[2].reset()  # member 2's window has passed
    cooldown.hit(3)
    cooldown.hit(4)  # the fourth member: the idle one goes, the busy one stays
    assert sorted(cooldown._buckets) == [1, 3, 4]
    with pytest.raises(app_commands.CommandOnCooldown):
        cooldown.hit(1)
