"""A local, stateful fake of Discord's REST API (v10), served by aiohttp on loopback.

discord.py's real ``HTTPClient`` and webhook adapter talk to it once ``discord.http.Route.BASE``
points at :attr:`FakeDiscord.api_base` (see ``harness.py``). It keeps what a user would see: guilds,
channels, members, messages (content, embeds, components, attachments, flags, reactions),
interaction responses, followups and threads, and records every request it receives.

Behaviour copied from Discord because bots depend on it:

- every JSON answer has ``Content-Type: application/json`` exactly (discord.py parses nothing else);
- the interaction callback honours ``?with_response`` and answers
  ``{"interaction": {...}, "resource": {"type", "message"}}``;
- a deferred (type 5) response creates a loading message, and the first followup replaces it;
- ephemeral messages are invisible to channel routes;
- an interaction token dies after 15 minutes (or on :meth:`FakeDiscord.expire_interaction`):
  its webhook routes answer 401 code 50027, its callback 404 code 10062;
- an injected 429 carries a ``Via`` header, without which discord.py treats it as a Cloudflare ban;
- files need Attach Files: on channel routes (posts and edits), and on an interaction's callback
  and webhook routes too, where Discord checks the bot's permissions in the interaction's channel;
- a Components V2 message (flag ``IS_COMPONENTS_V2``, which an edit never removes) is checked
  against Discord's limits (:func:`check_components_v2`): a card Discord would refuse fails here.

Unknown routes answer Discord's 404 and are kept in :attr:`FakeDiscord.unknown_requests`; a bug in
the fake itself answers 400 (never 5xx, which discord.py retries for seconds) and is kept in
:attr:`FakeDiscord.internal_errors`. :meth:`FakeDiscord.assert_clean` fails on either.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import mimetypes
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self, TypeVar
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

JSON = dict[str, Any]
T = TypeVar("T")
Handler = Callable[["Call"], Awaitable[Any]]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
TOKEN_LIFETIME_MS = 15 * 60 * 1000
# What Discord lets bots upload by default since September 2026 (discord-api-docs #8578).
DEFAULT_ATTACHMENT_LIMIT = 20 * 1024 * 1024

# Message flags.
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
COMPONENTS_V2 = 1 << 15
HAS_THREAD = 1 << 5
SENDABLE_FLAGS = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | COMPONENTS_V2

# Permission bits.
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | EMBED_LINKS
    | ATTACH_FILES
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | MANAGE_MESSAGES | MANAGE_THREADS

THREAD_TYPES = (10, 11, 12)
# Interaction type -> callback types Discord accepts for it.
ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


def iso() -> str:
    return datetime.now(UTC).isoformat()


def snowflake_ms(snowflake: int | str) -> int:
    return (int(snowflake) >> 22) + DISCORD_EPOCH_MS


class DiscordError(Exception):
    """An error answer, shaped like Discord's: ``{"code", "message", "errors"?}``."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def form_error(fld: str, code: str, message: str) -> DiscordError:
    errors = {fld: {"_errors": [{"code": code, "message": message}]}}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def unknown_message() -> DiscordError:
    return DiscordError(404, 10008, "Unknown Message")


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # Not web.json_response: it adds "; charset=utf-8", and discord.py then returns plain text.
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(status=status, body=json.dumps(body).encode(), headers=all_headers)


@dataclass
class Part:
    """One part of a multipart request."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the /api/v10 prefix
    route: str  # "PATCH /channels/{channel_id}/messages/{message_id}", or "UNKNOWN"
    query: dict[str, str]
    json: Any
    parts: list[Part]
    headers: dict[str, str]  # without Authorization
    authorized: bool
    at: float  # time.monotonic()
    status: int = 0
    response: Any = None

    @property
    def files(self) -> list[Part]:
        return [p for p in self.parts if p.filename is not None]

    @property
    def error_code(self) -> int | None:
        return self.response.get("code") if isinstance(self.response, dict) else None

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class HeldResponse:
    """A request the fake carried out and whose answer it holds back until `release()`: the
    bot is provably between its write landing and hearing of it (see `hold_response`)."""

    where: Callable[[RecordedRequest], bool]
    request: RecordedRequest | None = None
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class Call:
    """What a route handler gets: the request, parsed once, and its record."""

    params: dict[str, str]  # path parameters, percent-decoded
    query: dict[str, str]
    json: Any
    parts: list[Part]
    record: RecordedRequest

    @property
    def body(self) -> JSON:
        return self.json if isinstance(self.json, dict) else {}


@dataclass
class FakeInteraction:
    """Discord's view of one interaction: its token, its response and followups."""

    id: int
    token: str
    type: int
    application_id: int
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: JSON
    message_id: int | None = None  # the message a component lives on
    triggered_by: FakeInteraction | None = None  # the interaction that opened this modal
    registered_at: float = field(default_factory=time.monotonic)
    expired: bool = False
    response_type: int | None = None
    response_data: JSON | None = None
    acked_at: float | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: JSON | None = None
    choices: list[JSON] | None = None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from feeding the event to the callback (Discord allows 3)."""
        return None if self.acked_at is None else self.acked_at - self.registered_at

    def is_expired(self) -> bool:
        return self.expired or time.time() * 1000 - snowflake_ms(self.id) >= TOKEN_LIFETIME_MS

    def metadata(self, user: JSON) -> JSON:
        meta: JSON = {
            "id": str(self.id),
            "type": self.type,
            "user": user,
            "authorizing_integration_owners": self.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if self.type in (2, 4):
            meta["name"] = self.payload["data"]["name"]
        if self.type == 3 and self.message_id is not None:
            meta["interacted_message_id"] = str(self.message_id)
        if self.triggered_by is not None:
            meta["triggering_interaction_metadata"] = self.triggered_by.metadata(user)
        return meta


@dataclass
class _Fault:
    route: str
    status: int
    body: JSON
    headers: dict[str, str]
    remaining: int


class FakeDiscord:
    """The fake API. ``async with FakeDiscord() as fake:`` starts it on 127.0.0.1, a free port."""

    def __init__(self, *, bot_name: str = "VideoBot") -> None:
        self._ids = itertools.count()
        self.application_id = self.new_id()
        # Shaped like a real one: the first part is the bot's id in base64, without padding.
        first = base64.b64encode(str(self.application_id).encode()).decode().rstrip("=")
        self.token = f"{first}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"
        self.bot_user: JSON = self.make_user(bot_name, bot=True, user_id=self.application_id)
        owner = self.make_user("app-owner")
        self.application: JSON = {
            "id": str(self.application_id),
            "name": bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "flags": 0,
            "owner": owner,
            "team": None,
            "bot": self.bot_user,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
        }
        self.attachment_size_limit = DEFAULT_ATTACHMENT_LIMIT
        self.users: dict[int, JSON] = {}
        self.guilds: dict[int, JSON] = {}
        self.channels: dict[int, JSON] = {}
        self.messages: dict[int, JSON] = {}  # live messages by id
        self.channel_order: dict[int, list[int]] = {}  # channel id -> message ids, oldest first
        self.deleted: dict[int, JSON] = {}  # deleted messages by id, as they were
        self.interactions: dict[str, FakeInteraction] = {}  # by token
        self.commands: dict[int | None, list[JSON]] = {}  # guild id (None: global) -> commands
        self.uploads: dict[int, bytes] = {}  # attachment id -> bytes, served like the CDN
        self.reactors: dict[tuple[int, str], list[int]] = {}  # (message id, emoji) -> user ids
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.internal_errors: list[str] = []
        self._faults: list[_Fault] = []
        self._held: list[HeldResponse] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""
        for user in (self.bot_user, owner):
            self.users[int(user["id"])] = user

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=1024**3)
        for method, path, handler in self._routes():
            app.router.add_route(
                method, API_PREFIX + path, self._endpoint(f"{method} {path}", handler)
            )
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        app.router.add_route("*", "/{tail:.*}", self._endpoint("UNKNOWN", self._unknown))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        for held in self._held:
            held.release()  # a test that failed midway must not keep the server from closing
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return self.url + API_PREFIX

    def route_table(self) -> list[tuple[str, str]]:
        """(method, path template) of every API route served, in Discord's OpenAPI spelling."""
        return [(method, path) for method, path, _ in self._routes()]

    def _routes(self) -> list[tuple[str, str, Handler]]:
        msg = "/channels/{channel_id}/messages/{message_id}"
        hook = "/webhooks/{webhook_id}/{webhook_token}"
        react = msg + "/reactions/{emoji_name}"
        cmds = "/applications/{application_id}/commands"
        guild_cmds = "/applications/{application_id}/guilds/{guild_id}/commands"
        return [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/users/@me/guilds", self._my_guilds),
            ("DELETE", "/users/@me/guilds/{guild_id}", self._leave_guild),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/channels", self._guild_channels),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self._callback),
            ("POST", hook, self._followup),
            ("GET", hook + "/messages/@original", self._get_hook_message),
            ("PATCH", hook + "/messages/@original", self._edit_hook_message),
            ("DELETE", hook + "/messages/@original", self._delete_hook_message),
            ("GET", hook + "/messages/{message_id}", self._get_hook_message),
            ("PATCH", hook + "/messages/{message_id}", self._edit_hook_message),
            ("DELETE", hook + "/messages/{message_id}", self._delete_hook_message),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._history),
            ("POST", "/channels/{channel_id}/messages", self._post_message),
            ("GET", msg, self._get_message),
            ("PATCH", msg, self._patch_message),
            ("DELETE", msg, self._delete_message),
            ("PUT", react + "/@me", self._put_reaction),
            ("DELETE", react + "/@me", self._delete_reaction),
            ("DELETE", react + "/{user_id}", self._delete_reaction),
            ("GET", react, self._get_reactions),
            ("POST", msg + "/threads", self._thread_from_message),
            ("POST", "/channels/{channel_id}/threads", self._thread_without_message),
            ("GET", cmds, self._get_commands),
            ("PUT", cmds, self._put_commands),
            ("GET", guild_cmds, self._get_commands),
            ("PUT", guild_cmds, self._put_commands),
        ]

    # -- ids, users, guilds, channels (setup used by tests and the harness) -------------------

    def new_id(self, *, age: float = 0.0) -> int:
        """A snowflake whose timestamp is now, or ``age`` seconds ago."""
        ms = int(time.time() * 1000 - age * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._ids) % (1 << 22))

    @staticmethod
    def new_token() -> str:
        return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(64)

    def make_user(self, name: str, *, bot: bool = False, user_id: int | None = None) -> JSON:
        return {
            "id": str(user_id or self.new_id()),
            "username": name,
            "global_name": None if bot else name.title(),
            "discriminator": "0001" if bot else "0",
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }

    def add_user(self, name: str, *, bot: bool = False) -> JSON:
        user = self.make_user(name, bot=bot)
        self.users[int(user["id"])] = user
        return user

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: JSON | None = None,
        bot_permissions: int = BOT_PERMISSIONS,
        everyone_permissions: int = EVERYONE_PERMISSIONS,
    ) -> JSON:
        guild_id = self.new_id()
        owner = owner or self.add_user("guild-owner")
        guild: JSON = {
            "id": str(guild_id),
            "name": name,
            "icon": None,
            "owner_id": owner["id"],
            "roles": [self._role(guild_id, "@everyone", everyone_permissions, guild_id)],
            "channels": [],
            "members": [],
            "member_count": 0,
            "large": False,
            "unavailable": False,
            "joined_at": iso(),
            "features": [],
            "preferred_locale": "en-US",
            "premium_tier": 0,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
            "threads": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
        self.guilds[guild_id] = guild
        bot_role = self.add_role(guild_id, self.bot_user["username"], bot_permissions, managed=True)
        self.add_member(guild_id, self.bot_user, roles=[bot_role])
        self.add_member(guild_id, owner)
        return guild

    def _role(self, guild_id: int, name: str, permissions: int, role_id: int | None = None) -> JSON:
        return {
            "id": str(role_id or self.new_id()),
            "name": name,
            "permissions": str(permissions),
            "position": 0 if role_id == guild_id else len(self.guilds[guild_id]["roles"]),
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def add_role(
        self, guild_id: int, name: str, permissions: int, *, managed: bool = False
    ) -> JSON:
        role = self._role(guild_id, name, permissions)
        role["managed"] = managed
        self.guilds[guild_id]["roles"].append(role)
        return role

    def add_member(self, guild_id: int, user: JSON, *, roles: Iterable[JSON] = ()) -> JSON:
        self.users[int(user["id"])] = user
        member: JSON = {
            "user": user,
            "roles": [r["id"] for r in roles],
            "joined_at": iso(),
            "nick": None,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "communication_disabled_until": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
        }
        guild = self.guilds[guild_id]
        guild["members"].append(member)
        guild["member_count"] = len(guild["members"])
        return member

    def add_channel(self, guild_id: int, name: str, *, type: int = 0) -> JSON:
        channel: JSON = {
            "id": str(self.new_id()),
            "type": type,
            "guild_id": str(guild_id),
            "name": name,
            "position": len(self.guilds[guild_id]["channels"]),
            "permission_overwrites": [],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }
        self.guilds[guild_id]["channels"].append(channel)
        self.channels[int(channel["id"])] = channel
        self.channel_order[int(channel["id"])] = []
        return channel

    def add_thread(self, parent_id: int, name: str) -> JSON:
        """A public thread the bot made in a channel, as contests do."""
        return self._thread(self.channels[parent_id], {"name": name}, self.new_id(), 11)

    def member(self, guild_id: int, user_id: int) -> JSON | None:
        guild = self.guilds.get(guild_id)
        members = guild["members"] if guild else []
        return next((m for m in members if int(m["user"]["id"]) == user_id), None)

    def permissions(self, guild_id: int, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission computation: roles, administrator, then channel overwrites."""
        guild, member = self.guilds[guild_id], self.member(guild_id, user_id)
        if member is None:
            return 0
        if int(guild["owner_id"]) == user_id:
            return ALL_PERMISSIONS
        roles = {r["id"]: int(r["permissions"]) for r in guild["roles"]}
        perms = roles[str(guild_id)]
        for role_id in member["roles"]:
            perms |= roles.get(role_id, 0)
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        channel = self.channels.get(channel_id or 0)
        if channel and channel["type"] in THREAD_TYPES:
            channel = self.channels.get(int(channel["parent_id"]))
        if channel is None:
            return perms
        overwrites = {o["id"]: o for o in channel["permission_overwrites"]}
        steps = [[str(guild_id)], member["roles"], [str(user_id)]]
        for ids in steps:
            found = [overwrites[i] for i in ids if i in overwrites]
            deny = allow = 0
            for ow in found:
                deny, allow = deny | int(ow["deny"]), allow | int(ow["allow"])
            perms = (perms & ~deny) | allow
        return perms

    def deny_bot(self, channel_id: int, permissions: int) -> None:
        """Add a member overwrite that takes ``permissions`` from the bot in a channel."""
        self.channels[channel_id]["permission_overwrites"].append(
            {"id": self.bot_user["id"], "type": 1, "allow": "0", "deny": str(permissions)}
        )

    def guild_create_payload(self, guild_id: int) -> JSON:
        """A GUILD_CREATE gateway payload for a guild, as it stands."""
        guild = dict(self.guilds[guild_id])
        guild["channels"] = [c for c in guild["channels"] if c["type"] not in THREAD_TYPES]
        guild["threads"] = [
            c
            for c in self.channels.values()
            if c.get("guild_id") == guild["id"] and c["type"] in THREAD_TYPES
        ]
        return guild

    # -- uploads, interactions, messages (setup and controls) -------------------------------

    def upload(self, channel_id: int, filename: str, data: bytes, **extra: Any) -> JSON:
        """Store bytes as a user's upload; returns the attachment payload whose url serves them."""
        attachment_id = self.new_id()
        self.uploads[attachment_id] = data
        url = f"{self.url}/attachments/{channel_id}/{attachment_id}/{filename}"
        payload: JSON = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": mimetypes.guess_type(filename)[0] or "application/octet-stream",
        }
        payload.update(extra)
        return payload

    def register_interaction(
        self, payload: JSON, *, triggered_by: FakeInteraction | None = None
    ) -> FakeInteraction:
        """Make Discord know an interaction before its INTERACTION_CREATE is fed to the bot."""
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        message = payload.get("message")
        record = FakeInteraction(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            application_id=int(payload["application_id"]),
            guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
            channel_id=int(payload["channel"]["id"]),
            user_id=int(user["id"]),
            payload=payload,
            message_id=int(message["id"]) if message else None,
            triggered_by=triggered_by,
        )
        self.interactions[record.token] = record
        return record

    def expire_interaction(self, interaction: FakeInteraction | str) -> None:
        """Kill a token now, as 15 minutes would."""
        token = interaction if isinstance(interaction, str) else interaction.token
        self.interactions[token].expired = True
        self._notify()

    def set_attachment_limit(self, size: int) -> None:
        """Largest file, in bytes, any upload may carry (Discord's real limit, not the reported)."""
        self.attachment_size_limit = size

    def inject_rate_limit(
        self, route: str, *, retry_after: float = 0.05, is_global: bool = False, count: int = 1
    ) -> None:
        """The next ``count`` requests to ``route`` get a 429, e.g.
        ``inject_rate_limit("POST /channels/{channel_id}/messages")``."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body |= {"global": is_global, "code": 0}
        headers = {
            "Via": "1.1 google",  # discord.py raises instead of retrying a 429 without it
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        self._faults.append(_Fault(route, 429, body, headers, count))

    def inject_error(
        self, route: str, status: int, code: int, message: str, *, count: int = 1
    ) -> None:
        """The next ``count`` requests to ``route`` get this error (5xx make discord.py retry)."""
        self._faults.append(_Fault(route, status, {"message": message, "code": code}, {}, count))

    def hold_response(self, where: Callable[[RecordedRequest], bool]) -> HeldResponse:
        """The next request `where` picks (read once it was answered, so its status is known)
        is carried out and its answer held until the test releases it, e.g. a result's upload
        that landed while its process stopped or died before hearing back."""
        held = HeldResponse(where)
        self._held.append(held)
        return held

    def add_message(self, channel_id: int, author: JSON, content: str = "", **fields: Any) -> JSON:
        """A message posted by someone (a user), straight into the channel."""
        return self._store(channel_id, {"content": content, **fields}, {}, author=author)

    def delete_message(self, message_id: int) -> JSON:
        """Delete a message as a user or moderator would; later edits get 404 code 10008."""
        message = self.messages.pop(message_id)
        self.channel_order[int(message["channel_id"])].remove(message_id)
        self.deleted[message_id] = message
        self._notify()
        return message

    def add_reaction(self, message_id: int, user_id: int, emoji: str) -> None:
        users = self.reactors.setdefault((message_id, emoji), [])
        if user_id not in users:
            users.append(user_id)
        self._sync_reactions(self.messages[message_id])
        self._notify()

    # -- accessors ---------------------------------------------------------------------------

    def interaction(self, key: FakeInteraction | JSON | str | int) -> FakeInteraction:
        """By record, payload, token or id."""
        if isinstance(key, FakeInteraction):
            return key
        if isinstance(key, dict):
            key = key["token"]
        if isinstance(key, str) and key in self.interactions:
            return self.interactions[key]
        return next(i for i in self.interactions.values() if i.id == int(key))

    def channel_messages(self, channel_id: int, *, visible_to: int | None = None) -> list[JSON]:
        """Live messages, oldest first; with ``visible_to``, ephemerals of others are left out."""
        result = [self.messages[m] for m in self.channel_order.get(channel_id, [])]
        if visible_to is None:
            return result
        return [m for m in result if not is_ephemeral(m) or self._ephemeral_owner(m) == visible_to]

    def original_message(self, interaction: FakeInteraction | JSON | str) -> JSON | None:
        record = self.interaction(interaction)
        return self.messages.get(record.original_id) if record.original_id else None

    def followup_messages(self, interaction: FakeInteraction | JSON | str) -> list[JSON]:
        record = self.interaction(interaction)
        return [self.messages[m] for m in record.followup_ids if m in self.messages]

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded requests to a route, as "METHOD /template" in Discord's OpenAPI spelling:
        ``requests_to("PATCH /channels/{channel_id}/messages/{message_id}")``."""
        return [r for r in self.requests if r.route == route]

    def describe(self, last: int = 15) -> str:
        lines = [
            f"  {r.route or r.method}  {r.path} -> {r.status} {r.error_code or ''}"
            for r in self.requests[-last:]
        ]
        return "\n".join(lines) or "  (no requests)"

    async def wait_for(
        self, predicate: Callable[[], T], within: float = 5.0, *, what: str = ""
    ) -> T:
        """Wait until ``predicate()`` is truthy and return it. Re-checked after every change the
        fake sees, and every 50 ms for predicates that also read the bot's own state."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                unknown = [str(r) for r in self.unknown_requests]
                raise AssertionError(
                    f"timed out after {within}s waiting for {what or predicate}\n"
                    f"last requests:\n{self.describe()}\nunknown routes: {unknown}\n"
                    f"fake errors: {self.internal_errors}"
                )
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait([waiter], timeout=min(remaining, 0.05))
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def assert_clean(self) -> None:
        """Fail if the bot called a route the fake does not know, or the fake itself failed."""
        problems = [f"unknown route: {r.method} {r.path}" for r in self.unknown_requests]
        problems += [f"fake error: {e}" for e in self.internal_errors]
        assert not problems, "\n".join(problems)

    def _notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    # -- request plumbing --------------------------------------------------------------------

    def _endpoint(
        self, route: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def endpoint(request: web.Request) -> web.Response:
            try:
                body, parts = await self._read_body(request)
            except Exception as exc:  # an unreadable body is the bot's bug; still answer 4xx
                body, parts = f"unreadable body: {exc!r}", []
            record = RecordedRequest(
                method=request.method,
                path=request.path.removeprefix(API_PREFIX),
                route=route,
                query=dict(request.query),
                json=body,
                parts=parts,
                headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
                authorized=request.headers.get("Authorization") == f"Bot {self.token}",
                at=time.monotonic(),
            )
            self.requests.append(record)
            params = {k: unquote(v) for k, v in request.match_info.items()}
            try:
                response = await self._answer(
                    Call(params, record.query, body, parts, record), handler
                )
            finally:
                self._notify()
            held = next((h for h in self._held if h.request is None and h.where(record)), None)
            if held is not None:
                held.request = record
                self._notify()
                await held.released.wait()
            return response

        return endpoint

    async def _answer(self, call: Call, handler: Handler) -> web.Response:
        record = call.record
        try:
            public = record.route.startswith(("POST /interactions/", f"{record.method} /webhooks/"))
            if record.route != "UNKNOWN" and not public and not record.authorized:
                raise DiscordError(401, 0, "401: Unauthorized")
            for fault in self._faults:
                if fault.route == record.route and fault.remaining > 0:
                    fault.remaining -= 1
                    record.status, record.response = fault.status, fault.body
                    return json_response(fault.body, fault.status, fault.headers)
            result = await handler(call)
        except DiscordError as exc:
            record.status, record.response = exc.status, exc.body()
            return json_response(exc.body(), exc.status)
        except Exception as exc:  # a bug in the fake: never a 5xx, discord.py would retry it
            log.exception("fake Discord failed on %s", record)
            self.internal_errors.append(f"{record}: {exc!r}")
            record.status, record.response = 400, {"message": f"fake error: {exc!r}", "code": 0}
            return json_response(record.response, 400)
        if result is None:
            record.status = 204
            return web.Response(status=204)
        record.status, record.response = 200, result
        return json_response(result)

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[Part]]:
        if request.content_type == "multipart/form-data":
            parts: list[Part] = []
            async for part in await request.multipart():
                if isinstance(part, BodyPartReader):
                    data = await part.read(decode=False)
                    content_type = part.headers.get("Content-Type")
                    parts.append(Part(part.name or "", part.filename, content_type, bytes(data)))
            payload = next((p for p in parts if p.name == "payload_json"), None)
            return (json.loads(payload.data) if payload else None), parts
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    async def _unknown(self, call: Call) -> None:
        self.unknown_requests.append(call.record)
        log.error("fake Discord: unknown route %s %s", call.record.method, call.record.path)
        raise DiscordError(404, 0, "404: Not Found")

    async def _cdn(self, request: web.Request) -> web.Response:
        data = self.uploads.get(int(request.match_info["attachment_id"]))
        if data is None:
            return web.Response(status=404, text="Not Found")
        filename = request.match_info["filename"]
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return web.Response(body=data, headers={"Content-Type": content_type})

    # -- message building --------------------------------------------------------------------

    def _files(self, call: Call) -> dict[int, Part]:
        files: dict[int, Part] = {}
        for part in call.parts:
            match = re.fullmatch(r"files\[(\d+)\]|file", part.name)
            if match and part.filename is not None:
                files[int(match.group(1) or 0)] = part
        for part in files.values():
            if part.size > self.attachment_size_limit:
                raise DiscordError(413, 40005, "Request entity too large")
        return files

    def _attachment(self, channel_id: int, part: Part, spec: JSON) -> JSON:
        extra = {k: spec[k] for k in ("description", "title") if k in spec}
        filename = spec.get("filename") or part.filename or "file"
        return self.upload(channel_id, filename, part.data, **extra)

    def _new_attachments(
        self, channel_id: int, body: JSON, files: dict[int, Part], current: list[JSON] | None
    ) -> list[JSON] | None:
        """Attachments after a create (``current`` None) or an edit; None: keep them as they are."""
        specs = body.get("attachments")
        if specs is None:
            if current is not None and not files:
                return None
            return (current or []) + [
                self._attachment(channel_id, p, {}) for _, p in sorted(files.items())
            ]
        kept = {a["id"]: a for a in current or []}
        result, used = [], set()
        for spec in specs:
            if str(spec.get("id")) in kept:
                result.append(kept[str(spec["id"])])
            elif int(spec.get("id", -1)) in files:
                used.add(int(spec["id"]))
                result.append(self._attachment(channel_id, files[int(spec["id"])], spec))
            else:
                raise form_error(
                    "attachments", "ATTACHMENT_NOT_FOUND", f"Unknown attachment {spec}"
                )
        if current is None:  # on create, unreferenced files are still attached
            result += [
                self._attachment(channel_id, p, {})
                for i, p in sorted(files.items())
                if i not in used
            ]
        return result

    @staticmethod
    def _validate(body: JSON, flags: int = 0) -> None:
        """The limits a bot most often trips over, answered as Discord does (400, code 50035).

        `flags` are the message's own (an edit's body may leave them out)."""
        content = body.get("content")
        if content is not None and len(str(content)) > 2000:
            raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        if sum(_embed_length(e) for e in embeds) > 6000:
            raise form_error(
                "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        components = body.get("components") or []
        if (int(body.get("flags") or 0) | flags) & COMPONENTS_V2:
            check_components_v2(body)
        else:
            rows = [len(row.get("components", [])) for row in components if row.get("type") == 1]
            if len(components) > 5 or any(not 1 <= n <= 5 for n in rows):
                raise form_error(
                    "components", "BASE_TYPE_BAD_LENGTH", "Up to 5 rows of 1 to 5 items"
                )
            if any(c.get("type") != 1 for c in components):
                raise form_error(
                    "components", "COMPONENT_LAYOUT_INVALID", "Needs the IS_COMPONENTS_V2 flag"
                )
        custom_ids = [c["custom_id"] for c in walk_components(components) if "custom_id" in c]
        if any(not 1 <= len(c) <= 100 for c in custom_ids):
            raise form_error(
                "components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if len(set(custom_ids)) != len(custom_ids):
            raise form_error("components", "COMPONENT_CUSTOM_ID_DUPLICATED", "Duplicate custom id")

    def _store(
        self,
        channel_id: int,
        body: JSON,
        files: dict[int, Part],
        *,
        author: JSON,
        interaction: FakeInteraction | None = None,
        flags: int = 0,
    ) -> JSON:
        """Create a message from a create-message body."""
        self._validate(body)
        attachments = self._new_attachments(channel_id, body, files, None) or []
        flags |= int(body.get("flags") or 0) & SENDABLE_FLAGS
        if flags & COMPONENTS_V2:
            check_media_references(body.get("components") or [], attachments)
        shown = ("content", "embeds", "components", "poll", "sticker_ids")
        if not (flags & LOADING or attachments or any(body.get(k) for k in shown)):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        message_id = self.new_id()
        channel = self.channels[channel_id]
        message: JSON = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": 0,
            "content": body.get("content") or "",
            "author": author,
            "embeds": [{"type": "rich", **e} for e in body.get("embeds") or []],
            "components": body.get("components") or [],
            "attachments": attachments,
            "flags": flags,
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
        }
        if channel.get("guild_id"):
            message["guild_id"] = channel["guild_id"]
            member = self.member(int(channel["guild_id"]), int(author["id"]))
            if member is not None:
                message["member"] = {k: v for k, v in member.items() if k != "user"}
        if body.get("message_reference"):
            message["type"] = 19
            message["message_reference"] = body["message_reference"]
        if interaction is not None:
            user = self.users[interaction.user_id]
            message["webhook_id"] = str(interaction.application_id)
            message["application_id"] = str(interaction.application_id)
            message["interaction_metadata"] = interaction.metadata(user)
            if interaction.type == 2:
                message["type"] = 20
                name = interaction.payload["data"]["name"]
                message["interaction"] = {
                    "id": str(interaction.id),
                    "type": 2,
                    "name": name,
                    "user": user,
                }
            for a in attachments:
                a["ephemeral"] = bool(flags & EPHEMERAL)
        self.messages[message_id] = message
        self.channel_order.setdefault(channel_id, []).append(message_id)
        channel["last_message_id"] = str(message_id)
        return message

    def _edit(self, message: JSON, body: JSON, files: dict[int, Part]) -> JSON:
        # `content: null` clears the content; other nulls leave a field as it is.
        merged = {k: v for k, v in body.items() if v is not None or k == "content"}
        self._validate({**message, **merged}, message["flags"])
        attachments = self._new_attachments(
            int(message["channel_id"]), body, files, message["attachments"]
        )
        if (message["flags"] | int(body.get("flags") or 0)) & COMPONENTS_V2:
            check_media_references(
                body.get("components", message["components"]) or [],
                message["attachments"] if attachments is None else attachments,
            )
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            message["components"] = body["components"] or []
        if body.get("flags") is not None:
            # Once set, IS_COMPONENTS_V2 stays: an edit cannot take it off.
            keep = message["flags"] & ~SUPPRESS_EMBEDS
            message["flags"] = keep | (int(body["flags"]) & (SUPPRESS_EMBEDS | COMPONENTS_V2))
        if attachments is not None:
            message["attachments"] = attachments
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = iso()
        return message

    def _live(self, message_id: int | str, channel_id: int | None = None) -> JSON:
        message = self.messages.get(int(message_id))
        if message is None or (channel_id is not None and int(message["channel_id"]) != channel_id):
            raise unknown_message()
        return message

    def _ephemeral_owner(self, message: JSON) -> int | None:
        meta = message.get("interaction_metadata")
        return int(meta["user"]["id"]) if meta else None

    def _sync_reactions(self, message: JSON) -> None:
        reactions = []
        for (message_id, emoji), users in self.reactors.items():
            if message_id == int(message["id"]) and users:
                name, _, emoji_id = emoji.partition(":")
                reactions.append(
                    {
                        "emoji": {"id": emoji_id or None, "name": name},
                        "count": len(users),
                        "count_details": {"burst": 0, "normal": len(users)},
                        "me": int(self.bot_user["id"]) in users,
                        "me_burst": False,
                        "burst_colors": [],
                    }
                )
        message["reactions"] = reactions

    # -- handlers: identity ------------------------------------------------------------------

    async def _get_me(self, call: Call) -> JSON:
        return {**self.bot_user, "verified": True, "mfa_enabled": False, "locale": "en-US"}

    async def _get_application(self, call: Call) -> JSON:
        return self.application

    async def _get_user(self, call: Call) -> JSON:
        user = self.users.get(int(call.params["user_id"]))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return user

    def _my_guild(self, call: Call) -> JSON:
        guild = self.guilds.get(int(call.params["guild_id"]))
        if guild is None or self.member(int(guild["id"]), int(self.bot_user["id"])) is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    async def _my_guilds(self, call: Call) -> list[JSON]:
        me = int(self.bot_user["id"])
        after = int(call.query.get("after", 0))
        limit = int(call.query.get("limit", 200))
        mine = [g for gid, g in sorted(self.guilds.items()) if gid > after and self.member(gid, me)]
        return [
            {
                "id": g["id"],
                "name": g["name"],
                "icon": None,
                "banner": None,
                "owner": int(g["owner_id"]) == me,
                "permissions": str(self.permissions(int(g["id"]), me)),
                "features": g["features"],
                "approximate_member_count": g["member_count"],
                "approximate_presence_count": 0,
            }
            for g in mine[:limit]
        ]

    async def _leave_guild(self, call: Call) -> None:
        guild = self._my_guild(call)
        me = int(self.bot_user["id"])
        guild["members"] = [m for m in guild["members"] if int(m["user"]["id"]) != me]

    async def _get_guild(self, call: Call) -> JSON:
        guild = self._my_guild(call)
        # GET /guilds/{id} carries roles but no channels, members or other gateway-only fields.
        gateway_only = ("channels", "members", "threads", "voice_states", "presences", "joined_at")
        return {k: v for k, v in guild.items() if k not in gateway_only}

    async def _guild_channels(self, call: Call) -> list[JSON]:
        guild = self._my_guild(call)
        return [c for c in guild["channels"] if c["type"] not in THREAD_TYPES]

    async def _get_member(self, call: Call) -> JSON:
        info = call.params
        member = self.member(int(info["guild_id"]), int(info["user_id"]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return member

    # -- handlers: interactions and their webhooks --------------------------------------------

    async def _callback(self, call: Call) -> JSON | None:
        record = self.interactions.get(call.params["interaction_token"])
        if record is None or str(record.id) != call.params["interaction_id"] or record.is_expired():
            raise DiscordError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body: JSON = call.body
        kind, data = int(body.get("type", 0)), body.get("data") or {}
        allowed = ALLOWED_CALLBACKS.get(record.type, set())
        if kind in (6, 7) and record.message_id is None:
            allowed = allowed - {6, 7}
        if kind not in allowed:
            raise form_error(
                "type", "INTERACTION_CALLBACK_TYPE_INVALID", f"Callback type {kind} is invalid here"
            )
        files = self._files(call)
        self._app_may_attach(record, files)
        message: JSON | None = None
        bot = self.bot_user
        if kind == 4:
            message = self._store(record.channel_id, data, files, author=bot, interaction=record)
        elif kind == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._store(
                record.channel_id, {}, {}, author=bot, interaction=record, flags=flags
            )
        elif kind == 6:
            message = self.messages.get(record.message_id or 0)
        elif kind == 7:
            message = self._edit(self._live(record.message_id or 0), data, files)
        elif kind == 8:
            choices = data.get("choices", [])
            if len(choices) > 25:
                raise form_error(
                    "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            record.choices = choices
        elif kind == 9:
            if not 1 <= len(data.get("title", "")) <= 45 or not data.get("custom_id"):
                raise form_error(
                    "data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length."
                )
            check_modal(data)
            record.modal = data
        record.response_type, record.response_data = kind, body
        record.acked_at = time.monotonic()
        if message is not None:
            record.original_id = int(message["id"])
        if call.query.get("with_response", "").lower() not in ("1", "true"):
            return None
        interaction: JSON = {"id": str(record.id), "type": record.type}
        if message is not None:
            interaction |= {
                "response_message_id": message["id"],
                "response_message_loading": bool(message["flags"] & LOADING),
                "response_message_ephemeral": bool(message["flags"] & EPHEMERAL),
            }
        resource: JSON = {"type": kind}
        if kind in (4, 7) and message is not None:
            resource["message"] = message
        return {"interaction": interaction, "resource": resource}

    def _hook(self, call: Call) -> FakeInteraction:
        info = call.params
        record = self.interactions.get(info["webhook_token"])
        if record is None or str(record.application_id) != info["webhook_id"]:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if record.is_expired():
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        return record

    def _hook_message(self, call: Call, record: FakeInteraction) -> JSON:
        message_id = call.params.get("message_id", "@original")
        if message_id == "@original":
            if record.original_id is None:
                raise unknown_message()
            return self._live(record.original_id)
        if int(message_id) not in (record.original_id, *record.followup_ids):
            raise unknown_message()
        return self._live(message_id)

    async def _followup(self, call: Call) -> JSON | None:
        record = self._hook(call)
        if record.response_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        body: JSON = call.body
        files = self._files(call)
        self._app_may_attach(record, files)
        original = self.messages.get(record.original_id or 0)
        if original is not None and original["flags"] & LOADING:
            # The first followup after a deferral fills the "thinking" message in (same flags,
            # but for IS_COMPONENTS_V2, which a followup may add).
            filled = {k: v for k, v in body.items() if k != "flags"}
            if int(body.get("flags") or 0) & COMPONENTS_V2:
                filled["flags"] = COMPONENTS_V2
            message = self._edit(original, filled, files)
            message["edited_timestamp"] = None
        else:
            message = self._store(
                record.channel_id, body, files, author=self.bot_user, interaction=record
            )
            record.followup_ids.append(int(message["id"]))
        wait = call.query.get("wait", "").lower() in ("1", "true")
        return message if wait else None

    async def _get_hook_message(self, call: Call) -> JSON:
        return self._hook_message(call, self._hook(call))

    async def _edit_hook_message(self, call: Call) -> JSON:
        record = self._hook(call)
        message = self._hook_message(call, record)
        files = self._files(call)
        self._app_may_attach(record, files)
        return self._edit(message, call.body, files)

    def _app_may_attach(self, record: FakeInteraction, files: dict[int, Part]) -> None:
        """An interaction's files need the bot's Attach Files in its channel (app_permissions)."""
        if not files or record.guild_id is None:
            return
        bot_id = int(self.bot_user["id"])
        if self.member(record.guild_id, bot_id) is None:
            return  # an app without its bot in the guild may always attach
        if not self.permissions(record.guild_id, bot_id, record.channel_id) & ATTACH_FILES:
            raise DiscordError(403, 50013, "Missing Permissions")

    async def _delete_hook_message(self, call: Call) -> None:
        record = self._hook(call)
        self.delete_message(int(self._hook_message(call, record)["id"]))

    # -- handlers: channels and messages -----------------------------------------------------

    def _channel(self, call: Call, needed: int = VIEW_CHANNEL) -> JSON:
        channel = self.channels.get(int(call.params["channel_id"]))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        guild_id = channel.get("guild_id")
        if guild_id is not None:
            perms = self.permissions(int(guild_id), int(self.bot_user["id"]), int(channel["id"]))
            if perms & (needed | VIEW_CHANNEL) != needed | VIEW_CHANNEL:
                raise DiscordError(403, 50013, "Missing Permissions")
        return channel

    def _channel_message(self, call: Call) -> JSON:
        channel = self._channel(call)
        message = self._live(call.params["message_id"], int(channel["id"]))
        if is_ephemeral(message):  # ephemeral messages do not exist for channel routes
            raise unknown_message()
        return message

    async def _get_channel(self, call: Call) -> JSON:
        return self._channel(call)

    async def _history(self, call: Call) -> list[JSON]:
        channel = self._channel(call, READ_MESSAGE_HISTORY)
        limit = int(call.query.get("limit", 50))
        before = int(call.query.get("before", 1 << 63))
        after = int(call.query.get("after", 0))
        found = [m for m in self.channel_messages(int(channel["id"])) if not is_ephemeral(m)]
        found = [m for m in found if after < int(m["id"]) < before]
        return list(reversed(found))[:limit]

    async def _post_message(self, call: Call) -> JSON:
        files = self._files(call)
        is_thread = (
            self.channels.get(int(call.params["channel_id"]), {}).get("type") in THREAD_TYPES
        )
        needed = SEND_MESSAGES_IN_THREADS if is_thread else SEND_MESSAGES
        channel = self._channel(call, needed | (ATTACH_FILES if files else 0))
        return self._store(int(channel["id"]), call.body, files, author=self.bot_user)

    async def _get_message(self, call: Call) -> JSON:
        return self._channel_message(call)

    async def _patch_message(self, call: Call) -> JSON:
        message = self._channel_message(call)
        if message["author"]["id"] != self.bot_user["id"]:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        files = self._files(call)
        if files:
            self._channel(call, ATTACH_FILES)
        return self._edit(message, call.body, files)

    async def _delete_message(self, call: Call) -> None:
        message = self._channel_message(call)
        if message["author"]["id"] != self.bot_user["id"]:
            self._channel(call, MANAGE_MESSAGES)
        self.delete_message(int(message["id"]))

    # -- handlers: reactions -----------------------------------------------------------------

    async def _put_reaction(self, call: Call) -> None:
        self._channel(call, ADD_REACTIONS | READ_MESSAGE_HISTORY)
        message = self._channel_message(call)
        emoji = call.params["emoji_name"]
        self.add_reaction(int(message["id"]), int(self.bot_user["id"]), emoji)

    async def _delete_reaction(self, call: Call) -> None:
        message = self._channel_message(call)
        user_id = call.params.get("user_id") or self.bot_user["id"]
        emoji = call.params["emoji_name"]
        users = self.reactors.get((int(message["id"]), emoji), [])
        if int(user_id) in users:
            users.remove(int(user_id))
        self._sync_reactions(message)

    async def _get_reactions(self, call: Call) -> list[JSON]:
        message = self._channel_message(call)
        emoji = call.params["emoji_name"]
        return [self.users[u] for u in self.reactors.get((int(message["id"]), emoji), [])]

    # -- handlers: threads -------------------------------------------------------------------

    def _thread(self, parent: JSON, body: JSON, thread_id: int, kind: int) -> JSON:
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            raise form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        now = iso()
        thread: JSON = {
            "id": str(thread_id),
            "type": kind,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": self.bot_user["id"],
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "flags": 0,
            "permission_overwrites": [],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 4320,
                "archive_timestamp": now,
                "locked": False,
                "invitable": body.get("invitable", True),
                "create_timestamp": now,
            },
            "member": {
                "id": str(thread_id),
                "user_id": self.bot_user["id"],
                "join_timestamp": now,
                "flags": 0,
            },
        }
        self.channels[thread_id] = thread
        self.channel_order[thread_id] = []
        return thread

    async def _thread_from_message(self, call: Call) -> JSON:
        parent = self._channel(call, CREATE_PUBLIC_THREADS)
        message = self._channel_message(call)
        if message.get("thread"):
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        kind = 10 if parent["type"] == 5 else 11
        thread = self._thread(parent, call.body, int(message["id"]), kind)
        message["thread"], message["flags"] = thread, message["flags"] | HAS_THREAD
        return thread

    async def _thread_without_message(self, call: Call) -> JSON:
        parent = self._channel(call, CREATE_PUBLIC_THREADS)
        body: JSON = call.body
        is_forum = parent["type"] in (15, 16)
        if is_forum and not body.get("message"):
            raise form_error("message", "BASE_TYPE_REQUIRED", "This field is required")
        thread = self._thread(
            parent, body, self.new_id(), 11 if is_forum else int(body.get("type") or 12)
        )
        if is_forum:
            first = self._store(
                int(thread["id"]), body["message"], self._files(call), author=self.bot_user
            )
            # A forum post's first message shares the thread's id, as on Discord.
            self.messages[int(thread["id"])] = self.messages.pop(int(first["id"]))
            first["id"] = thread["id"]
            self.channel_order[int(thread["id"])] = [int(thread["id"])]
            return {**thread, "message": first}
        return thread

    # -- handlers: application commands ------------------------------------------------------

    def _scope(self, call: Call) -> int | None:
        if call.params["application_id"] != str(self.application_id):
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = call.params.get("guild_id")
        return int(guild_id) if guild_id else None

    async def _get_commands(self, call: Call) -> list[JSON]:
        return self.commands.get(self._scope(call), [])

    async def _put_commands(self, call: Call) -> list[JSON]:
        scope = self._scope(call)
        body: list[JSON] = call.json or []
        existing = {(c["name"], c["type"]): c for c in self.commands.get(scope, [])}
        result, seen = [], set()
        for index, command in enumerate(body):
            kind, name = command.get("type", 1), command.get("name", "")
            if not re.fullmatch(r"[-_\w]{1,32}", name) or (kind == 1 and name != name.lower()):
                raise form_error(
                    f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name"
                )
            if kind == 1 and not 1 <= len(command.get("description", "")) <= 100:
                raise form_error(
                    f"{index}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100."
                )
            if (name, kind) in seen:
                raise form_error(
                    f"{index}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name"
                )
            seen.add((name, kind))
            old = existing.get((name, kind))
            stored: JSON = {
                "default_member_permissions": None,
                "nsfw": False,
                "description": "",
                "options": [],
                "integration_types": [0],
                "contexts": None,
                **command,
                "id": old["id"] if old else str(self.new_id()),
                "application_id": str(self.application_id),
                "version": str(self.new_id()),
                "type": kind,
            }
            if scope is not None:
                stored["guild_id"] = str(scope)
            result.append(stored)
        self.commands[scope] = result
        return result


def is_ephemeral(message: JSON) -> bool:
    return bool(int(message.get("flags", 0)) & EPHEMERAL)


def is_loading(message: JSON) -> bool:
    return bool(int(message.get("flags", 0)) & LOADING)


def _embed_length(embed: JSON) -> int:
    fields = embed.get("fields") or []
    texts = [embed.get("title"), embed.get("description"), (embed.get("footer") or {}).get("text")]
    texts += [(embed.get("author") or {}).get("name")]
    texts += [f.get(k) for f in fields for k in ("name", "value")]
    return sum(len(t or "") for t in texts)


# Discord's limits on Components V2 messages, from its component reference and message resource
# (discord/discord-api-docs: docs/components/reference.mdx, docs/resources/message.mdx):
# - with IS_COMPONENTS_V2 (1 << 15) `content`, `embeds`, `poll` and `stickers` cannot be used, and a
#   message holds at most 40 components in all, nested ones included;
# - the text of all its text displays together is at most 4000 characters;
# - top level: action row, section, text display, media gallery, file, separator, container;
#   a container holds action rows, text displays, sections, media galleries, separators and files
#   (no container in a container);
# - an action row holds up to 5 buttons or a single select, never both;
# - a section holds 1 to 3 text displays and one accessory, a thumbnail or a button;
# - a media gallery holds 1 to 10 items; an item's (or a thumbnail's) description is at most
#   1024 characters; a file component's url is only `attachment://<filename>`;
# - a separator's spacing is 1 or 2; a container's accent colour is RGB 0x000000 to 0xFFFFFF;
# - a button's label is at most 80 characters; a select has 1 to 25 options, each label, value and
#   description at most 100 characters, a placeholder at most 150; a custom id at most 100;
# - an `attachment://<filename>` must name a file attached to the same message.
V2_MAX_COMPONENTS = 40
V2_MAX_TEXT = 4000
V2_TOP_LEVEL = {1, 9, 10, 12, 13, 14, 17}
V2_IN_CONTAINER = {1, 9, 10, 12, 13, 14}
SELECTS = {3, 5, 6, 7, 8}
MEDIA_DESCRIPTION_MAX = 1024


def _invalid(where: str, message: str) -> DiscordError:
    return form_error(where, "COMPONENT_LAYOUT_INVALID", message)


def _check_media(where: str, item: JSON) -> None:
    url = str((item.get("media") or item.get("file") or {}).get("url") or "")
    if not url:
        raise _invalid(where, "A media item needs a url")
    if len(item.get("description") or "") > MEDIA_DESCRIPTION_MAX:
        raise form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 1024 or fewer in length.")


def _check_component(component: JSON, where: str, allowed: set[int]) -> None:
    kind = component.get("type")
    if kind not in allowed:
        raise _invalid(where, f"Component type {kind} is not allowed here")
    children = component.get("components") or []
    if kind == 17:
        colour = component.get("accent_color")
        if colour is not None and not 0 <= int(colour) <= 0xFFFFFF:
            raise _invalid(where, "accent_color must be RGB from 0x000000 to 0xFFFFFF")
        for i, child in enumerate(children):
            _check_component(child, f"{where}.components.{i}", V2_IN_CONTAINER)
    elif kind == 1:
        kinds = [c.get("type") for c in children]
        buttons_only = all(k == 2 for k in kinds) and 1 <= len(kinds) <= 5
        if not buttons_only and kinds not in ([k] for k in SELECTS):
            raise _invalid(where, "An action row holds 1 to 5 buttons or one select")
        for i, child in enumerate(children):
            _check_component(child, f"{where}.components.{i}", {2, *SELECTS})
    elif kind == 9:
        if not 1 <= len(children) <= 3:
            raise _invalid(where, "A section holds 1 to 3 text displays")
        for i, child in enumerate(children):
            _check_component(child, f"{where}.components.{i}", {10})
        accessory = component.get("accessory")
        if not isinstance(accessory, dict):
            raise _invalid(where, "A section needs an accessory")
        _check_component(accessory, f"{where}.accessory", {2, 11})
    elif kind == 12:
        items = component.get("items") or []
        if not 1 <= len(items) <= 10:
            raise form_error(where, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 10 in length.")
        for i, item in enumerate(items):
            _check_media(f"{where}.items.{i}", item)
    elif kind == 11:
        _check_media(where, component)
    elif kind == 13:
        _check_media(where, component)
        if not str(component["file"]["url"]).startswith("attachment://"):
            raise _invalid(where, "A file component takes only attachment://<filename>")
    elif kind == 14:
        if component.get("spacing", 1) not in (1, 2):
            raise _invalid(where, "spacing must be 1 or 2")
    elif kind == 10:
        if not str(component.get("content") or ""):
            raise form_error(where, "BASE_TYPE_REQUIRED", "This field is required")
    elif kind == 2:
        if len(component.get("label") or "") > 80:
            raise form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
    elif kind in SELECTS:
        options = component.get("options") or []
        if kind == 3 and not 1 <= len(options) <= 25:
            raise form_error(where, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
        texts = [o.get(k) or "" for o in options for k in ("label", "value", "description")]
        if any(len(t) > 100 for t in texts) or len(component.get("placeholder") or "") > 150:
            raise form_error(where, "BASE_TYPE_MAX_LENGTH", "Too long")


def check_components_v2(body: JSON) -> None:
    """What Discord refuses of a Components V2 message (the limits above), as Discord answers."""
    if body.get("content") or body.get("embeds") or body.get("poll") or body.get("sticker_ids"):
        raise form_error(
            "content", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "Cannot be used"
        )
    components = body.get("components") or []
    for i, component in enumerate(components):
        _check_component(component, f"components.{i}", V2_TOP_LEVEL)
    if len(list(walk_components(components))) > V2_MAX_COMPONENTS:
        raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Up to 40 components in all")
    text = sum(len(c.get("content") or "") for c in walk_components(components) if c["type"] == 10)
    if text > V2_MAX_TEXT:
        raise form_error(
            "components", "BASE_TYPE_MAX_LENGTH", "Text displays hold 4000 characters in all"
        )


def media_urls(components: list[JSON]) -> list[str]:
    """Every media url a message's components show: gallery items, thumbnails, files."""
    urls = []
    for component in walk_components(components):
        for item in component.get("items") or [] if component["type"] == 12 else [component]:
            media = item.get("media") or item.get("file") or {}
            if media.get("url"):
                urls.append(str(media["url"]))
    return urls


def check_media_references(components: list[JSON], attachments: list[JSON]) -> None:
    """Every `attachment://` must name a file of the same message."""
    names = {a["filename"] for a in attachments}
    for url in media_urls(components):
        if url.startswith("attachment://") and url.removeprefix("attachment://") not in names:
            raise _invalid("components", f"{url} names no attachment of this message")


def walk_components(components: list[JSON]) -> Iterable[JSON]:
    """Every component, nested ones included (rows, containers, labels, accessories)."""
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                yield from walk_components([component[key]])


# What a modal may hold, from Discord's component reference (components/reference, "Label",
# "File Upload", "Radio Group", "String Select", "Text Input"): 1 to 5 top-level components,
# each a label around one field, or a text display, or (legacy) a row holding one text input.
MODAL_TOP_LEVEL_MAX = 5
LABEL_FIELDS = {3, 4, 5, 6, 7, 8, 19, 21, 22, 23}


def check_modal(data: JSON) -> None:
    """Refuse a modal as Discord would: too many components, a field outside a label, text
    over its limits, options out of range, a custom id used twice."""
    components = data.get("components") or []
    if not 1 <= len(components) <= MODAL_TOP_LEVEL_MAX:
        raise form_error(
            "data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    seen: set[str] = set()
    for n, top in enumerate(components):
        where = f"data.components.{n}"
        if top.get("type") == 18:
            if not 1 <= len(top.get("label") or "") <= 45:
                raise form_error(f"{where}.label", "BASE_TYPE_BAD_LENGTH", "1 to 45 characters.")
            if len(top.get("description") or "") > 100:
                raise form_error(f"{where}.description", "BASE_TYPE_MAX_LENGTH", "At most 100.")
            field_ = top.get("component") or {}
            if field_.get("type") not in LABEL_FIELDS:
                raise form_error(f"{where}.component", "UNION_TYPE_CHOICES", "Not a label field.")
            _check_modal_field(f"{where}.component", field_, seen)
        elif top.get("type") == 1:
            row = top.get("components") or []
            if len(row) != 1 or row[0].get("type") != 4:
                raise form_error(where, "UNION_TYPE_CHOICES", "A row holds one text input.")
            _check_modal_field(f"{where}.components.0", row[0], seen)
        elif top.get("type") != 10:
            raise form_error(where, "UNION_TYPE_CHOICES", "Not a modal component.")


def _check_modal_field(where: str, field_: JSON, seen: set[str]) -> None:
    custom_id = field_.get("custom_id") or ""
    if not 1 <= len(custom_id) <= 100 or custom_id in seen:
        raise form_error(f"{where}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Unique, 1-100.")
    seen.add(custom_id)
    kind = field_["type"]
    if kind == 4 and not 1 <= int(field_.get("max_length") or 4000) <= 4000:
        raise form_error(f"{where}.max_length", "NUMBER_TYPE_MAX", "At most 4000.")
    if kind == 19:
        low, high = field_.get("min_values"), field_.get("max_values")
        if (low is not None and not 0 <= low <= 10) or (high is not None and not 1 <= high <= 10):
            raise form_error(where, "NUMBER_TYPE_MAX", "A file upload takes 0 to 10 files.")
    if kind in (3, 21, 22):
        options = field_.get("options") or []
        low, high = (2, 10) if kind == 21 else (1, 25)
        if not low <= len(options) <= high:
            raise form_error(f"{where}.options", "BASE_TYPE_BAD_LENGTH", f"{low} to {high}.")
        for option in options:
            if not all(1 <= len(option.get(k) or "") <= 100 for k in ("label", "value")):
                raise form_error(f"{where}.options", "BASE_TYPE_BAD_LENGTH", "1 to 100.")
        if kind != 22 and sum(bool(o.get("default")) for o in options) > 1:
            raise form_error(f"{where}.options", "SELECT_COMPONENT_TOO_MANY_DEFAULTS", "One.")
