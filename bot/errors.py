"""Errors meant for the person who ran a command: raised anywhere, rendered by one handler."""

from __future__ import annotations


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
    """A daily or monthly spending limit: the message says what is left and when it resets."""


class NotAllowed(UserError):
    """The member may not generate here (blocked, or not an allowed channel or role)."""
