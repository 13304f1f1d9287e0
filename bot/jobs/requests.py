"""What a job asks for, before it is started: the request with its price, who asks and where,
and the video it builds on. Plain data: the Discord edge fills it in (bot/interactions/who.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal

from bot.spending.limits import Ask
from bot.spending.money import to_usd
from bot.storage import NewJob, VideoKind, VideoRow
from bot.videoapi.models import Operation, Upload, Video
from bot.videoapi.providers import DEFAULT_PROVIDER, Route

DerivedKind = Literal["remix", "extend", "edit"]
OPERATIONS: Final[dict[DerivedKind, Operation]] = {
    "remix": Operation.REMIX,
    "extend": Operation.EXTEND,
    "edit": Operation.EDIT,
}

# Reads the reference image, fitted to the video's size, when the call goes out.
ImageLoader = Callable[[str], Awaitable[Upload]]
Call = Callable[[], Awaitable[Video]]


@dataclass(frozen=True, slots=True)
class JobRequest:
    owner_id: int
    guild_id: int | None
    channel_id: int
    kind: VideoKind
    prompt: str
    parent: VideoRow | None
    # The seconds it generates (an extension: only those it adds) and their price.
    ask: Ask
    micros_per_second: int
    call: Call
    # What the job will be, for providers whose answer leaves it out.
    model: str
    size: str
    seconds: str
    with_image: bool = False
    # The provider the call goes to: the row records it (bot/videoapi/providers.py).
    provider: str = DEFAULT_PROVIDER
    # The same create sent to another provider, after a refusal that made nothing (failover);
    # None for a derived job, which only its parent's provider can make.
    elsewhere: Callable[[Route], Call] | None = None

    @property
    def cost(self) -> float:
        return to_usd(self.ask.micros)

    def new_job(self) -> NewJob:
        return NewJob(
            owner_id=self.owner_id,
            guild_id=self.guild_id,
            channel_id=self.channel_id,
            kind=self.kind,
            prompt=self.prompt,
            model=self.model,
            size=self.size,
            seconds=self.seconds,
            parent_id=self.parent.id if self.parent else None,
            with_image=self.with_image,
            ask=self.ask,
            micros_per_second=self.micros_per_second,
            provider=self.provider,
        )


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks for a job and where, as the access rules need it."""

    role_ids: frozenset[int] = frozenset()
    # The channel and, in a thread, its parent: a thread of an allowed channel is allowed.
    channel_ids: tuple[int, ...] = ()
    # Whether the channel is age-restricted (NSFW), for servers that allow videos only there.
    age_restricted: bool = False


@dataclass(frozen=True, slots=True)
class Lineage:
    """Which video a job builds on, and whose it is."""

    parent_ref: str
    parent_prompt: str
    parent_owner_id: int

    @classmethod
    def of(cls, parent: VideoRow) -> Lineage:
        return cls(parent.ref, parent.prompt, parent.owner_id)


def added_seconds(row: VideoRow, parent: VideoRow | None) -> str:
    """What an extension added: its stored seconds are the stitched total."""
    if parent is not None and row.seconds.isdigit() and parent.seconds.isdigit():
        return str(int(row.seconds) - int(parent.seconds))
    return row.seconds


def may_delete(row: VideoRow, user_id: int, guild_id: int | None, manages_messages: bool) -> bool:
    """The owner, or a member who may manage messages in the guild where the video was made
    (`manages_messages`: in the video's channel, from bot.interactions.who)."""
    if row.owner_id == user_id:
        return True
    return row.guild_id is not None and row.guild_id == guild_id and manages_messages
