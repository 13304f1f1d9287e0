"""Video jobs: who asked for what, where, how far each has got, and who may see it."""

# SQL here is composed from constants only; every value goes in as a `?` parameter.
# ruff: noqa: S608

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields, replace
from typing import Literal

from bot.storage.db import Database, Params, Row, column_list, keyed_insert_sql
from bot.videoapi.models import FINISHED_STATUSES, Video, VideoStatus
from bot.videoapi.providers import DEFAULT_PROVIDER

VideoKind = Literal["create", "remix", "extend", "edit"]

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class VideoRow:
    key: int  # the bot's own short handle: what buttons and choices carry
    id: str  # the provider's id, opaque: the handle for every API call
    owner_id: int
    guild_id: int | None
    channel_id: int
    status_message_id: int | None
    kind: VideoKind
    parent_id: str | None
    prompt: str
    model: str
    size: str
    seconds: str
    status: VideoStatus
    progress: int
    error_code: str | None
    error_message: str | None
    cost: float
    created_at: int
    updated_at: float
    completed_at: int | None
    expires_at: int | None
    delivered_at: float | None
    deleted_at: float | None
    # Set while the billable call is out: `id` is a placeholder until the provider answers.
    submitting_since: float | None = None
    with_image: bool = False
    delivery_attempts: int = 0
    delivery_retry_at: float | None = None
    # Set while the job waits for a free slot: nothing has been sent yet.
    waiting_since: float | None = None
    # The name of the provider that made it (or will): every call about it goes there.
    provider: str = DEFAULT_PROVIDER
    # How the bot stepped in to get it made (bot/jobs/handoff.py); None: made as first asked.
    handoff: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def ref(self) -> str:
        """How people and autocomplete name this video: `#12`."""
        return f"{REF_PREFIX}{self.key}"

    @property
    def waiting(self) -> bool:
        return self.waiting_since is not None

    @property
    def scope(self) -> int:
        """What its limits count in: its guild, or 0 for a direct message."""
        return self.guild_id or 0

    @property
    def shown(self) -> tuple[object, ...]:
        """What a status card shows of the job: a change here is worth an event."""
        return (self.status, self.progress, self.error_code, self.error_message)

    @property
    def at_provider(self) -> bool:
        """Whether `id` is the provider's (not the placeholder of a call that got no answer)."""
        return not self.id.startswith(PLACEHOLDER_PREFIX)


REF_PREFIX = "#"
# The digits a key may have: what a button's template allows, and what SQLite's INTEGER holds.
KEY_DIGITS_MAX = 18
# The error of a job whose billable call got no answer and which the provider does not list.
NOT_CONFIRMED = "not_confirmed"
# The error of a job that waited for a slot and then could not be sent.
NOT_STARTED = "not_started"
# The id of a row whose billable call is still out; no provider id looks like this.
PLACEHOLDER_PREFIX = "videobot-submitting:"


def parse_ref(text: str) -> int | None:
    """The key in a reference like `#12`, or None when `text` is not one (a provider's id)."""
    body = text.strip().removeprefix(REF_PREFIX)
    if text.strip().startswith(REF_PREFIX) and body.isdigit() and body.isascii():
        return int(body) if len(body) <= KEY_DIGITS_MAX else None
    return None


_COLUMNS = column_list(VideoRow)
_SELECT = f"SELECT {_COLUMNS} FROM videos"
_UNFINISHED = "status IN ('queued', 'in_progress')"

# DESIGN "Ownership and scope": the owner sees a video everywhere, members of the guild where it
# was made see it there. Params: viewer id, guild id (None in a DM, which matches no row).
_VISIBLE = "deleted_at IS NULL AND (owner_id = ? OR guild_id = ?)"
# Optional filters pass each value twice: `? IS NULL` switches the filter off. The CAST gives
# that first parameter a type, which PostgreSQL cannot infer from `IS NULL` alone. LOWER on both
# sides: SQLite's LIKE ignores case, PostgreSQL's does not.
_FILTERED = (
    f"{_VISIBLE} AND (CAST(? AS BIGINT) IS NULL OR owner_id = ?)"
    " AND (CAST(? AS TEXT) IS NULL OR status = ?)"
    " AND (CAST(? AS TEXT) IS NULL OR LOWER(prompt) LIKE LOWER(?) ESCAPE '\\')"
)

_GET = f"{_SELECT} WHERE id = ?"
_GET_VISIBLE = f"{_SELECT} WHERE id = ? AND {_VISIBLE}"
_GET_VISIBLE_BY_KEY = f"{_SELECT} WHERE key = ? AND {_VISIBLE}"
_BY_MESSAGE = f"{_SELECT} WHERE status_message_id = ? AND deleted_at IS NULL"
_VISIBLE_BY_MESSAGE = f"{_SELECT} WHERE status_message_id = ? AND {_VISIBLE}"
_CLAIM_REACTION = (
    "INSERT INTO reaction_claims (message_id, user_id, emoji, created_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
# Ties within one second go by insertion order (the key), not by the random id.
_LIST_VISIBLE = f"{_SELECT} WHERE {_FILTERED} ORDER BY created_at DESC, key DESC LIMIT ? OFFSET ?"
_COUNT_VISIBLE = f"SELECT COUNT(*) FROM videos WHERE {_FILTERED}"
# Same condition as the partial index videos_pending, so SQLite can use it. Delivered implies
# finished (a CHECK in the schema), so this is "unfinished, or finished and undelivered".
# Rows still submitting have no provider id to follow: they are reconciled first; rows waiting
# for a slot have none yet.
_PENDING_ROWS = (
    "delivered_at IS NULL AND deleted_at IS NULL"
    " AND submitting_since IS NULL AND waiting_since IS NULL"
)
_PENDING = f"{_SELECT} WHERE {_PENDING_ROWS} ORDER BY created_at, id"
# With several processes: the leader follows every unfinished job, each process publishes the
# changes of the jobs it holds the lease of.
_UNFINISHED_KEYS = f"SELECT key FROM videos WHERE {_PENDING_ROWS} AND {_UNFINISHED}"
_CHANGED = (
    f"{_SELECT} WHERE {_PENDING_ROWS} AND updated_at > ?"
    " AND key IN (SELECT video_key FROM job_leases WHERE holder = ?) ORDER BY updated_at"
)
# The line: first asked, first started.
_WAITING = f"{_SELECT} WHERE waiting_since IS NOT NULL ORDER BY waiting_since, key"
_STOP_WAITING = (
    "UPDATE videos SET waiting_since = NULL, submitting_since = ?, updated_at = ?"
    " WHERE key = ? AND waiting_since IS NOT NULL"
)
_CANCEL = "DELETE FROM videos WHERE key = ? AND waiting_since IS NOT NULL"
# What holds a slot: every unfinished job but those waiting for one.
_HOLDS_SLOT = f"{_UNFINISHED} AND waiting_since IS NULL AND deleted_at IS NULL"
_RUNNING = (
    "SELECT COALESCE(guild_id, 0), owner_id, COUNT(*) FROM videos"
    f" WHERE {_HOLDS_SLOT} GROUP BY COALESCE(guild_id, 0), owner_id"
)
_SET_COST = "UPDATE videos SET cost = ?, updated_at = ? WHERE key = ?"
_SUBMITTING = f"{_SELECT} WHERE submitting_since IS NOT NULL ORDER BY submitting_since"
_GET_BY_KEY = f"{_SELECT} WHERE key = ?"
# What confirming a submitting row writes, from the provider's answer.
_CONFIRMED = (
    "id",
    "model",
    "size",
    "seconds",
    "status",
    "progress",
    "error_code",
    "error_message",
    "created_at",
    "updated_at",
    "completed_at",
    "expires_at",
    "submitting_since",
    "provider",
)
_CONFIRM = (
    f"UPDATE videos SET {', '.join(f'{name} = ?' for name in _CONFIRMED)}"
    " WHERE key = ? AND submitting_since IS NOT NULL"
)
_CLAIM_RETRY = (
    "UPDATE videos SET error_code = 'retried', updated_at = ?"
    f" WHERE key = ? AND error_code = '{NOT_CONFIRMED}'"
)
_RELEASE_RETRY = (
    f"UPDATE videos SET error_code = '{NOT_CONFIRMED}', updated_at = ?"
    " WHERE key = ? AND error_code = 'retried'"
)
_SEND_AGAIN = (
    "UPDATE videos SET handoff = ?, provider = ?, model = ?, submitting_since = ?, updated_at = ?"
    " WHERE key = ? AND submitting_since IS NOT NULL"
)
_ABANDON = "DELETE FROM videos WHERE key = ? AND submitting_since IS NOT NULL"
_UNCONFIRMED = (
    "UPDATE videos SET status = 'failed', error_code = ?, error_message = ?, updated_at = ?,"
    " submitting_since = NULL WHERE key = ? AND submitting_since IS NOT NULL"
)
_SET_STATUS_MESSAGE = (
    "UPDATE videos SET channel_id = ?, status_message_id = ?, updated_at = ? WHERE id = ?"
)
# Rows a refresh writes per statement, and ids a read asks for per statement: short enough that
# the one connection is never held long, and far under SQLite's 32,766 parameters.
_WRITE_ROWS = 100
_READ_ROWS = 500
_STAGE_SQL = "CASE videos.status WHEN 'queued' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END"


def _refresh_sql(rows: int) -> str:
    """One UPDATE of `rows` jobs from a VALUES list, run with `_written(row)` for each.

    The WHERE repeats the rules in SQL (unfinished only, never backwards), so a row another
    writer moved on since the caller read it is left alone; RETURNING gives the stored rows.
    """
    # Typed, because PostgreSQL reads an untyped parameter in VALUES as text.
    row = (
        "(CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS INTEGER),"
        " CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT),"
        " CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION))"
    )
    values = ", ".join([row] * rows)
    return (
        "WITH answer (a_id, a_stage, a_status, a_progress, a_error_code, a_error_message,"
        f" a_completed_at, a_expires_at, a_cost, a_updated_at) AS (VALUES {values})"
        " UPDATE videos SET status = a_status, progress = a_progress, error_code = a_error_code,"
        " error_message = a_error_message, completed_at = a_completed_at,"
        " expires_at = a_expires_at, cost = a_cost, updated_at = a_updated_at"
        f" FROM answer WHERE videos.id = a_id AND videos.{_UNFINISHED}"
        f" AND ({_STAGE_SQL}, videos.progress) <= (a_stage, a_progress)"
        f" RETURNING {_COLUMNS}"
    )


_MARK_FAILED = (
    "UPDATE videos SET status = 'failed', error_code = ?, error_message = ?, updated_at = ?"
    f" WHERE id = ? AND {_UNFINISHED}"
)
_MARK_DELIVERED = (
    "UPDATE videos SET delivered_at = ?, updated_at = ?"
    " WHERE id = ? AND delivered_at IS NULL AND status IN ('completed', 'failed')"
)
_DELIVERY_FAILED = (
    "UPDATE videos SET delivery_attempts = delivery_attempts + 1, delivery_retry_at = ?,"
    " updated_at = ? WHERE id = ? AND delivered_at IS NULL"
)
# Appended to a write about a job by its lease holder: only while the job's fencing number is
# still the one the holder was granted (bot/storage/leases.py). Param: the number.
_FENCED = (
    " AND EXISTS (SELECT 1 FROM job_leases WHERE job_leases.video_key = videos.key"
    " AND job_leases.fence = ?)"
)
_MARK_EXPIRED = (
    "UPDATE videos SET status = 'failed', error_code = 'expired', error_message = ?,"
    " updated_at = ? WHERE id = ? AND status = 'completed' AND delivered_at IS NULL"
)
_MARK_DELETED = (
    "UPDATE videos SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL"
)

# How far along a job is; finished states are terminal.
_STAGE: dict[str, int] = {"queued": 0, "in_progress": 1, "completed": 2, "failed": 2}


def _stored(row: VideoRow) -> tuple[object, ...]:
    """What a refresh writes."""
    return (*row.shown, row.completed_at, row.expires_at, row.cost)


def _accepted(asked: VideoRow, video: Video, now: float) -> VideoRow:
    """`asked` as the provider accepted it: its id and state, and whatever it echoed."""
    error = video.error
    return replace(
        asked,
        id=video.id,
        model=video.model or asked.model,
        size=video.size or asked.size,
        seconds=video.seconds or asked.seconds,
        status=video.status,
        progress=video.progress,
        error_code=error.code if error else None,
        error_message=error.message if error else None,
        created_at=video.created_at if video.created_at is not None else asked.created_at,
        updated_at=now,
        completed_at=video.completed_at,
        expires_at=video.expires_at,
    )


def _written(row: VideoRow) -> tuple[object, ...]:
    """A refreshed row as one line of _refresh_sql's VALUES."""
    return (row.id, _STAGE[row.status], *_stored(row), row.updated_at)


def _refreshed(row: VideoRow, video: Video, now: float) -> VideoRow | None:
    """The row after this answer, or None when the answer changes nothing or goes backwards."""
    if row.finished:
        return None
    if (_STAGE[video.status], video.progress) < (_STAGE[row.status], row.progress):
        return None
    error = video.error
    new = replace(
        row,
        status=video.status,
        progress=video.progress,
        error_code=error.code if error else None,
        error_message=error.message if error else None,
        completed_at=video.completed_at,
        expires_at=video.expires_at,
        # What the provider reports the job cost (OpenRouter's usage.cost), kept for settling.
        cost=video.cost if video.cost is not None else row.cost,
        updated_at=now,
    )
    return None if _stored(new) == _stored(row) else new


def _row(row: Row) -> VideoRow:
    values = list(row)
    values[_WITH_IMAGE] = bool(values[_WITH_IMAGE])
    return VideoRow(*values)


_WITH_IMAGE = [field.name for field in fields(VideoRow)].index("with_image")


def _like_substring(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fenced(sql: str, params: Params, fence: int | None) -> tuple[str, Params]:
    """`sql` (an UPDATE of videos) made conditional on the job's fencing number, if given."""
    if fence is None:
        return sql, params
    return sql + _FENCED, (*params, fence)


class VideoRepository:
    def __init__(self, db: Database, *, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock
        self._insert_sql = keyed_insert_sql(db, "videos", VideoRow)

    async def insert(
        self,
        video: Video,
        *,
        owner_id: int,
        guild_id: int | None,
        channel_id: int,
        kind: VideoKind,
        prompt: str,
        model: str,
        size: str,
        seconds: str,
        parent_id: str | None = None,
        cost: float = 0.0,
        provider: str = DEFAULT_PROVIDER,
    ) -> VideoRow:
        """Record a job the API (provider `provider`) just accepted.

        `prompt`, `model`, `size` and `seconds` are what the bot asked for: a provider need not
        echo them, and what it does echo wins (an extension's seconds are the stitched total).
        """
        asked = self._asked(
            owner_id, guild_id, channel_id, kind, prompt, model, size, seconds, parent_id, cost
        )
        accepted = _accepted(asked, video, self._clock())
        return await self._insert(replace(accepted, provider=provider))

    async def begin_submit(
        self,
        *,
        owner_id: int,
        guild_id: int | None,
        channel_id: int,
        kind: VideoKind,
        prompt: str,
        model: str,
        size: str,
        seconds: str,
        parent_id: str | None = None,
        cost: float = 0.0,
        with_image: bool = False,
        waiting: bool = False,
        provider: str = DEFAULT_PROVIDER,
    ) -> VideoRow:
        """The row of a job about to be sent, written before the billable call.

        It counts against its owner's limit at once; `confirm` completes it with the provider's
        answer, `abandon` removes it when nothing was created, `unconfirmed` ends it failed.
        A `waiting` row is not sent yet: `stop_waiting` makes it submitting, `cancel` removes it.
        """
        asked = self._asked(
            owner_id, guild_id, channel_id, kind, prompt, model, size, seconds, parent_id, cost
        )
        now = self._clock()
        row = replace(
            asked,
            id=f"{PLACEHOLDER_PREFIX}{uuid.uuid4().hex}",
            submitting_since=None if waiting else now,
            waiting_since=now if waiting else None,
            with_image=with_image,
            provider=provider,
        )
        return await self._insert(row)

    async def waiting_rows(self) -> list[VideoRow]:
        """Every job waiting for a slot, first asked first."""
        return [_row(row) for row in await self._db.fetch_all(_WAITING)]

    async def stop_waiting(self, key: int) -> VideoRow | None:
        """A waiting job got its slot: it is submitting from now on (None if it was not waiting)."""
        now = self._clock()
        if await self._db.execute(_STOP_WAITING, (now, now, key)) != 1:
            return None
        return await self.get_by_key(key)

    async def cancel(self, key: int) -> bool:
        """Remove a job still waiting: nothing was sent, nothing to keep."""
        return await self._db.execute(_CANCEL, (key,)) == 1

    async def running(self) -> dict[tuple[int, int], int]:
        """Jobs holding a slot, by (scope, owner): a scope is a guild, or 0 for DMs."""
        rows = await self._db.fetch_all(_RUNNING)
        return {(int(scope), int(owner)): int(count) for scope, owner, count in rows}

    async def set_cost(self, key: int, cost: float) -> None:
        """What the job cost once settled (what its card shows)."""
        await self._db.execute(_SET_COST, (cost, self._clock(), key))

    async def confirm(
        self, key: int, video: Video, *, provider: str | None = None
    ) -> VideoRow | None:
        """The provider accepted the submitting job `key` as `video`: its row from now on.

        `provider`: the one that accepted it, when not the one the row was written for (a
        create moved after a refusal that made nothing).
        """
        row = await self.get_by_key(key)
        if row is None or row.submitting_since is None:
            return None
        confirmed = replace(
            _accepted(row, video, self._clock()),
            submitting_since=None,
            provider=provider or row.provider,
        )
        await self._db.execute(_CONFIRM, (*(getattr(confirmed, name) for name in _CONFIRMED), key))
        return confirmed

    async def send_again(
        self, row: VideoRow, handoff: str, *, provider: str | None = None, model: str | None = None
    ) -> VideoRow | None:
        """The submitting job `row` is sent once more, its last call proven to have made
        nothing: to `provider` with `model` when it moves (written before the call goes out, so
        a lost answer is looked for there), saying how, and since when it is out. None if the
        row is no longer submitting."""
        now = self._clock()
        moved = (handoff, provider or row.provider, model or row.model, now, now, row.key)
        if await self._db.execute(_SEND_AGAIN, moved) != 1:
            return None
        return await self.get_by_key(row.key)

    async def abandon(self, key: int) -> bool:
        """Remove a submitting job the provider refused: nothing was created, nothing to keep."""
        return await self._db.execute(_ABANDON, (key,)) == 1

    async def unconfirmed(self, key: int, code: str, message: str) -> VideoRow | None:
        """End a submitting job the provider may or may not have made, failed, with why."""
        await self._db.execute(_UNCONFIRMED, (code, message, self._clock(), key))
        return await self.get_by_key(key)

    async def claim_retry(self, key: int) -> bool:
        """True for the one Retry click that may start this unconfirmed job again."""
        return await self._db.execute(_CLAIM_RETRY, (self._clock(), key)) == 1

    async def release_retry(self, key: int) -> None:
        """The retry did not start: it may be tried again."""
        await self._db.execute(_RELEASE_RETRY, (self._clock(), key))

    async def submitting(self) -> list[VideoRow]:
        """Jobs whose billable call was out when the bot stopped: to reconcile on start."""
        return [_row(row) for row in await self._db.fetch_all(_SUBMITTING)]

    async def known_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these provider ids the bot already has a row for."""
        if not ids:
            return set()
        marks = ", ".join("?" for _ in ids)
        rows = await self._db.fetch_all(f"SELECT id FROM videos WHERE id IN ({marks})", ids)
        return {str(row[0]) for row in rows}

    async def get_by_key(self, key: int) -> VideoRow | None:
        row = await self._db.fetch_one(_GET_BY_KEY, (key,))
        return _row(row) if row else None

    def _asked(
        self,
        owner_id: int,
        guild_id: int | None,
        channel_id: int,
        kind: VideoKind,
        prompt: str,
        model: str,
        size: str,
        seconds: str,
        parent_id: str | None,
        cost: float,
    ) -> VideoRow:
        """A new queued row of what the bot asks for, before any answer (its key comes later)."""
        now = self._clock()
        return VideoRow(
            key=0,
            id="",
            owner_id=owner_id,
            guild_id=guild_id,
            channel_id=channel_id,
            status_message_id=None,
            kind=kind,
            parent_id=parent_id,
            prompt=prompt,
            model=model,
            size=size,
            seconds=seconds,
            status="queued",
            progress=0,
            error_code=None,
            error_message=None,
            cost=cost,
            created_at=int(now),
            updated_at=now,
            completed_at=None,
            expires_at=None,
            delivered_at=None,
            deleted_at=None,
        )

    async def _insert(self, row: VideoRow) -> VideoRow:
        inserted = await self._db.fetch_one(self._insert_sql, astuple(row)[1:])
        assert inserted is not None  # RETURNING always answers for a row it inserted
        return replace(row, key=int(inserted[0]))

    async def get(self, video_id: str) -> VideoRow | None:
        """Any row, whoever owns it: for the tracker and delivery, never for a user's request."""
        row = await self._db.fetch_one(_GET, (video_id,))
        return _row(row) if row else None

    async def by_status_message(self, message_id: int) -> VideoRow | None:
        """The job whose card is this message (reactions and buttons start from a message)."""
        row = await self._db.fetch_one(_BY_MESSAGE, (message_id,))
        return _row(row) if row is not None else None

    async def visible_card(
        self, message_id: int, user_id: int, guild_id: int | None
    ) -> VideoRow | None:
        """The job whose card is this message, if `user_id` acting in `guild_id` may see it.

        The same rule as `visible`, for a reaction, which names a message rather than a video.
        """
        row = await self._db.fetch_one(_VISIBLE_BY_MESSAGE, (message_id, user_id, guild_id))
        return _row(row) if row is not None else None

    async def claim_reaction(self, message_id: int, user_id: int, emoji: str) -> bool:
        """True the first time this user's reaction is seen; False for a replayed event."""
        params = (message_id, user_id, emoji, self._clock())
        return await self._db.execute(_CLAIM_REACTION, params) == 1

    async def visible(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow | None:
        """The video if `user_id`, acting in `guild_id` (None in a DM), may see it.

        `ref` is the bot's `#key` or the provider's id. Unknown, deleted and out-of-scope
        references all give None, so a caller cannot tell them apart.
        """
        key = parse_ref(ref)
        if key is not None:
            row = await self._db.fetch_one(_GET_VISIBLE_BY_KEY, (key, user_id, guild_id))
        else:
            row = await self._db.fetch_one(_GET_VISIBLE, (ref, user_id, guild_id))
        return _row(row) if row else None

    async def list_visible(
        self,
        user_id: int,
        guild_id: int | None,
        *,
        owner_id: int | None = None,
        status: VideoStatus | None = None,
        text: str | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[VideoRow]:
        """Videos `user_id` may see in `guild_id`, newest first: the library and autocomplete.

        Optionally only those of `owner_id`, in `status`, or whose prompt contains `text`.
        """
        params = (*_filter_params(user_id, guild_id, owner_id, status, text), limit, offset)
        return [_row(row) for row in await self._db.fetch_all(_LIST_VISIBLE, params)]

    async def count_visible(
        self,
        user_id: int,
        guild_id: int | None,
        *,
        owner_id: int | None = None,
        status: VideoStatus | None = None,
        text: str | None = None,
    ) -> int:
        """How many rows `list_visible` with the same filters would page through."""
        params = _filter_params(user_id, guild_id, owner_id, status, text)
        return await self._count(_COUNT_VISIBLE, params)

    async def pending(self) -> list[VideoRow]:
        """Every job not yet delivered (unfinished ones included) and not deleted, oldest first."""
        return [_row(row) for row in await self._db.fetch_all(_PENDING)]

    async def unfinished_keys(self) -> set[int]:
        """The keys of every job still being made (what the leader follows)."""
        return {int(row[0]) for row in await self._db.fetch_all(_UNFINISHED_KEYS)}

    async def by_keys(self, keys: Sequence[int]) -> list[VideoRow]:
        return await self._where_in("key", keys)

    async def changed(self, holder: str, since: float) -> list[VideoRow]:
        """The undelivered jobs `holder` leases whose row changed after `since` (updated_at,
        as the writer's clock put it), oldest change first."""
        return [_row(row) for row in await self._db.fetch_all(_CHANGED, (since, holder))]

    async def set_status_message(
        self, video_id: str, channel_id: int, message_id: int, *, fence: int | None = None
    ) -> None:
        """Where the job's status card now is (a reposted card may be in another channel); with
        `fence`, only while the job's lease grant is still that one."""
        sql, params = _fenced(
            _SET_STATUS_MESSAGE, (channel_id, message_id, self._clock(), video_id), fence
        )
        await self._db.execute(sql, params)

    async def apply_refresh(self, video: Video, video_id: str | None = None) -> VideoRow | None:
        """Store what the API now says about a job; the new row when its status card changes.

        `video_id` is the id the bot asked about, when the answer's own id may differ.
        """
        changed = await self.apply_refreshes({video_id or video.id: video})
        return changed[0] if changed else None

    async def apply_refreshes(
        self, answers: Mapping[str, Video], known: Mapping[str, VideoRow] | None = None
    ) -> list[VideoRow]:
        """Store answers about many jobs; returns the rows whose status card would change.

        As `store_refreshes`, keeping only the rows a status card would show differently.
        """
        return [row for row, shown in await self.store_refreshes(answers, known) if shown]

    async def store_refreshes(
        self, answers: Mapping[str, Video], known: Mapping[str, VideoRow] | None = None
    ) -> list[tuple[VideoRow, bool]]:
        """Store answers about many jobs; returns each row written, and whether its card changes.

        `answers` maps the stored id to the answer about it: a gateway may re-encode the id it
        answers with, so an answer's own id is not the key. `known` is the caller's current view
        of those rows (the tracker's memory): each answer is compared with it and only rows that
        changed are written, one statement per hundred rows, so a reader waits at most for one
        short write. Rows not in `known` are read first, in one query. A job only moves forward:
        an answer older than what is stored (a late poll, a webhook out of order) is ignored,
        and a finished job is never reopened, also when `known` is out of date.
        """
        now = self._clock()
        rows = {video_id: known[video_id] for video_id in answers if known and video_id in known}
        rows |= await self._rows([video_id for video_id in answers if video_id not in rows])
        updates: list[tuple[VideoRow, VideoRow]] = []
        for video_id, video in answers.items():
            row = rows.get(video_id)
            new = _refreshed(row, video, now) if row is not None else None
            if row is not None and new is not None:
                updates.append((row, new))
        stored: list[tuple[VideoRow, bool]] = []
        for start in range(0, len(updates), _WRITE_ROWS):
            chunk = updates[start : start + _WRITE_ROWS]
            params = [value for _, new in chunk for value in _written(new)]
            rows_sql = _refresh_sql(len(chunk))
            written = {row.id: row for row in map(_row, await self._db.fetch_all(rows_sql, params))}
            stored += [
                (written[new.id], written[new.id].shown != old.shown)
                for old, new in chunk
                if new.id in written
            ]
        return stored

    async def _rows(self, video_ids: list[str]) -> dict[str, VideoRow]:
        return {row.id: row for row in await self._where_in("id", video_ids)}

    async def _where_in(self, column: str, values: Sequence[object]) -> list[VideoRow]:
        """Rows whose `column` is one of `values`, in statements of at most _READ_ROWS."""
        rows: list[VideoRow] = []
        for start in range(0, len(values), _READ_ROWS):
            chunk = list(values[start : start + _READ_ROWS])
            sql = f"{_SELECT} WHERE {column} IN ({', '.join('?' for _ in chunk)})"
            rows += map(_row, await self._db.fetch_all(sql, chunk))
        return rows

    async def mark_failed(self, video_id: str, code: str, message: str) -> bool:
        """Fail an unfinished job for a reason of the bot's own; False if it had finished."""
        return await self._db.execute(_MARK_FAILED, (code, message, self._clock(), video_id)) == 1

    async def mark_delivered(self, video_id: str, *, fence: int | None = None) -> bool:
        """Record that a finished job's result was posted.

        True only for the one call that recorded it, however many race: delivery's exactly-once.
        With `fence`, only while the job's lease grant is still that one: a holder that lost it
        records nothing (its successor finds the result on the card).
        """
        now = self._clock()
        sql, params = _fenced(_MARK_DELIVERED, (now, now, video_id), fence)
        return await self._db.execute(sql, params) == 1

    async def delivery_failed(
        self, video_id: str, retry_at: float, *, fence: int | None = None
    ) -> VideoRow | None:
        """One more delivery attempt failed; the next is due at `retry_at`, across restarts
        (with `fence`, only while the job's lease grant is still that one)."""
        sql, params = _fenced(_DELIVERY_FAILED, (retry_at, self._clock(), video_id), fence)
        await self._db.execute(sql, params)
        return await self.get(video_id)

    async def mark_expired(self, video_id: str, message: str) -> VideoRow | None:
        """A completed job whose files the provider no longer has: it ends failed, with why."""
        await self._db.execute(_MARK_EXPIRED, (message, self._clock(), video_id))
        return await self.get(video_id)

    async def mark_deleted(self, video_id: str) -> bool:
        """Soft delete: the row keeps lineage and spend, but no one sees it.

        True if this call deleted it.
        """
        now = self._clock()
        return await self._db.execute(_MARK_DELETED, (now, now, video_id)) == 1

    async def _count(self, sql: str, params: tuple[object, ...]) -> int:
        row = await self._db.fetch_one(sql, params)
        assert row is not None  # COUNT(*) always answers
        return int(row[0])


def _filter_params(
    user_id: int,
    guild_id: int | None,
    owner_id: int | None,
    status: VideoStatus | None,
    text: str | None,
) -> tuple[object, ...]:
    pattern = None if text is None else _like_substring(text)
    return (user_id, guild_id, owner_id, owner_id, status, status, pattern, pattern)


_USED_CHANNELS = "SELECT DISTINCT guild_id, channel_id FROM videos WHERE guild_id IS NOT NULL"


async def used_channels(db: Database) -> list[tuple[int, int]]:
    """(guild id, channel id) of every server channel someone asked for a video in."""
    return [(int(row[0]), int(row[1])) for row in await db.fetch_all(_USED_CHANNELS)]
