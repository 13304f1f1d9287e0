"""Errors meant for the person who ran a command: raised anywhere, rendered by one handler."""

from __future__ import annotations

from bot.spending.limits import Access, Denial, Refuse


class UserError(Exception):
    """Something the user can fix; its message is shown to them as it is, ephemerally."""


class VideoNotFound(UserError):
    # One answer for "no such id" and "not yours to see", so ids cannot be probed.
    def __init__(self) -> None:
        super().__init__(
            "I can't find that video. Pick one from the list, or check that it was made here."
        )


class VideoNotReady(UserError):
    pass


class LimitReached(UserError):
    """A daily or monthly limit: the message says what is left and when it resets."""


class SpendingRefused(LimitReached):
    """A spending limit refused a job at `now`: its words (what is left, when it resets, in
    Discord's time markup) are the edge's (bot/ui/spending.py)."""

    def __init__(self, refused: Refuse, scope: int, now: float) -> None:
        super().__init__(f"{refused.limit}: {refused.asked} asked, {refused.left} left")
        self.refused = refused
        self.scope = scope
        self.now = now


class NotAllowed(UserError):
    """The member may not generate here (blocked, or not an allowed channel or role): said at
    the edge (bot/ui/spending.py), with the channels or roles that are allowed."""

    def __init__(self, reason: Denial, access: Access) -> None:
        super().__init__(f"not allowed: {reason}")
        self.reason = reason
        self.access = access
