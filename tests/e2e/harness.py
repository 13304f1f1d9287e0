"""Drive a real discord.py client against :class:`FakeDiscord`, without a gateway.

- :func:`pointed_at` sets ``discord.http.Route.BASE`` to the fake (interaction callbacks and
  webhook followups go through ``Route`` too, so that one switch covers them) and restores it.
- :meth:`Harness.start` logs the client in (``GET /users/@me``, ``GET /oauth2/applications/@me``,
  then ``setup_hook``), feeds READY and a GUILD_CREATE per fake guild through
  ``client._connection.parsers`` and waits for ``on_ready``. ``connect()`` is never called.
- Builders return gateway payloads shaped like Discord's (``*_payload``); the matching actions
  (``await h.slash/autocomplete/click/submit_modal/react(...)``) register them with the fake and
  feed them to the client, returning the fake's :class:`FakeInteraction` record at once; then
  ``await h.response(rec)``, ``await h.original(rec, where)`` or ``await h.wait_for(predicate)``.
- Every ERROR logged while the harness runs is kept in :attr:`Harness.errors`;
  :meth:`Harness.close` fails on them unless the test called :meth:`Harness.allow_errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import discord
import discord.http
from discord import app_commands
from PIL import Image

from .fake_discord import (
    JSON,
    MANAGE_MESSAGES,
    FakeDiscord,
    FakeInteraction,
    is_ephemeral,
    is_loading,
    walk_components,
)

T = TypeVar("T")
UserLike = JSON | int

OPTION_TYPES = {bool: 5, int: 4, float: 10, str: 3}
BUTTON_OR_SELECT = (2, 3, 5, 6, 7, 8)


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Send all of discord.py's REST and webhook traffic to the fake while inside."""
    previous = discord.http.Route.BASE
    discord.http.Route.BASE = fake.api_base
    try:
        yield
    finally:
        discord.http.Route.BASE = previous


@dataclass
class Upload:
    """A file a user attaches to a slash command option."""

    filename: str
    data: bytes
    width: int | None = None
    height: int | None = None


def png(width: int, height: int) -> bytes:
    """A real PNG of that size, to attach as a reference image."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


@dataclass
class World:
    """The default guild: one text channel, an owner, two members and a moderator."""

    guild: JSON
    channel: JSON
    owner: JSON
    alice: JSON
    bob: JSON
    moderator: JSON

    @property
    def guild_id(self) -> int:
        return int(self.guild["id"])

    @property
    def channel_id(self) -> int:
        return int(self.channel["id"])


def build_world(fake: FakeDiscord) -> World:
    owner = fake.add_user("owner")
    guild = fake.add_guild("Test Guild", owner=owner)
    guild_id = int(guild["id"])
    channel = fake.add_channel(guild_id, "general")
    alice, bob, moderator = (fake.add_user(n) for n in ("alice", "bob", "moderator"))
    mods = fake.add_role(guild_id, "Moderators", MANAGE_MESSAGES)
    fake.add_member(guild_id, alice)
    fake.add_member(guild_id, bob)
    fake.add_member(guild_id, moderator, roles=[mods])
    return World(guild, channel, owner, alice, bob, moderator)


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _uid(user: UserLike) -> int:
    return user if isinstance(user, int) else int(user["id"])


class Harness:
    def __init__(self, fake: FakeDiscord, client: discord.Client, world: World) -> None:
        self.fake, self.client, self.world = fake, client, world
        self._errors = _ErrorLog()
        self._errors_allowed = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Harness:
        logging.getLogger().addHandler(self._errors)
        state = self.client._connection
        # GUILD_CREATE would otherwise ask the (absent) gateway for member chunks.
        state._chunk_guilds = False
        state.guild_ready_timeout = 0.02
        # An AutoShardedBot learns its shards when it connects, which a fed gateway never does.
        state.shard_count, state.shard_ids = 1, [0]
        await self.client.login(self.fake.token)
        guild_stubs = [{"id": str(g), "unavailable": True} for g in self.fake.guilds]
        self.feed(
            "READY",
            {
                "v": 10,
                "user": self.fake.bot_user,
                "guilds": guild_stubs,
                "session_id": "fake-session",
                "shard": [0, 1],
                "resume_gateway_url": "wss://127.0.0.1.invalid",
                "application": {"id": str(self.fake.application_id), "flags": 0},
            },
        )
        for guild_id in self.fake.guilds:
            self.feed("GUILD_CREATE", self.fake.guild_create_payload(guild_id))
        await asyncio.wait_for(self.client.wait_until_ready(), 5.0)
        return self

    async def close(self) -> None:
        try:
            await self.client.close()
            await self._drain_tasks()
        finally:
            logging.getLogger().removeHandler(self._errors)
        if not self._errors_allowed:
            self.assert_no_errors()

    async def _drain_tasks(self) -> None:
        prefixes = ("discord.py:", "CommandTree-invoker", "discord-ui-")
        current = asyncio.current_task()
        tasks = [
            t
            for t in asyncio.all_tasks()
            if t is not current and t.get_name().startswith(prefixes) and not t.done()
        ]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=1.0)
            for task in pending:
                task.cancel()

    @property
    def errors(self) -> list[str]:
        return [
            r.getMessage() + (f" ({r.exc_info[1]!r})" if r.exc_info else "")
            for r in self._errors.records
        ]

    def allow_errors(self) -> None:
        """This test expects errors to be logged; do not fail on them at teardown."""
        self._errors_allowed = True

    def assert_no_errors(self) -> None:
        assert not self._errors.records, "errors were logged:\n" + "\n".join(self.errors)

    # -- feeding gateway events --------------------------------------------------------------

    def feed(self, event: str, payload: JSON) -> None:
        """Hand a gateway dispatch (``"INTERACTION_CREATE"``, ...) to the client's parser."""
        self.client._connection.parsers[event](payload)

    # -- payload builders --------------------------------------------------------------------

    def member_payload(self, guild_id: int, user: UserLike, channel_id: int | None = None) -> JSON:
        """A member as interactions carry it: with the user and its permissions in the channel."""
        member = self.fake.member(guild_id, _uid(user))
        assert member is not None, f"user {_uid(user)} is not a member of guild {guild_id}"
        perms = self.fake.permissions(guild_id, _uid(user), channel_id)
        return {**member, "permissions": str(perms)}

    def _interaction_base(
        self,
        kind: int,
        *,
        user: UserLike | None,
        channel_id: int | None,
        locale: str,
        attachment_size_limit: int | None,
        age: float,
    ) -> JSON:
        channel_id = channel_id or self.world.channel_id
        channel = self.fake.channels[channel_id]
        user_id = _uid(user or self.world.alice)
        payload: JSON = {
            "id": str(self.fake.new_id(age=age)),
            "application_id": str(self.fake.application_id),
            "type": kind,
            "token": self.fake.new_token(),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": attachment_size_limit or self.fake.attachment_size_limit,
            "channel_id": str(channel_id),
        }
        guild_id = channel.get("guild_id")
        if guild_id is None:
            payload |= {"user": self.fake.users[user_id], "context": 1, "channel": channel}
            payload["authorizing_integration_owners"] = {"1": str(user_id)}
            return payload
        bot_perms = self.fake.permissions(int(guild_id), int(self.fake.bot_user["id"]), channel_id)
        member = self.member_payload(int(guild_id), user_id, channel_id)
        guild = self.fake.guilds[int(guild_id)]
        payload |= {
            "guild_id": guild_id,
            "guild": {
                "id": guild_id,
                "locale": guild["preferred_locale"],
                "features": guild["features"],
            },
            "guild_locale": guild["preferred_locale"],
            "channel": {**channel, "permissions": member["permissions"]},
            "member": member,
            "app_permissions": str(bot_perms),
            "authorizing_integration_owners": {"0": guild_id},
            "context": 0,
        }
        return payload

    def _find_command(self, name: str, guild_id: int | None) -> tuple[Any, int | None]:
        tree: app_commands.CommandTree[Any] | None = self.client._connection._command_tree
        if tree is None:
            return None, None
        command = tree.get_command(name)
        if command is None and guild_id is not None:
            command = tree.get_command(name, guild=discord.Object(guild_id))
            return command, guild_id if command is not None else None
        return command, None

    def _options(
        self,
        command: Any,
        values: Mapping[str, Any],
        channel_id: int,
        guild_id: int | None,
        user_id: int,
        resolved: JSON,
        focused: str | None,
    ) -> list[JSON]:
        params = {}
        if isinstance(command, app_commands.Command):
            for p in command.parameters:
                params[p.name] = params[p.display_name] = p
        options = []
        for key, value in values.items():
            param = params.get(key)
            name = param.display_name if param is not None else key
            kind = param.type.value if param is not None else self._infer_type(value)
            option: JSON = {"name": name, "type": kind}
            if isinstance(value, Upload):
                attachment = self.fake.upload(channel_id, value.filename, value.data)
                if value.width is not None:
                    attachment |= {"width": value.width, "height": value.height}
                resolved.setdefault("attachments", {})[attachment["id"]] = attachment
                value = attachment["id"]
            elif kind == 7:  # a channel: resolved with the caller's permissions in it
                channel = self.fake.channels[int(value)]
                perms = str(self.fake.permissions(guild_id or 0, user_id, int(value)))
                resolved.setdefault("channels", {})[channel["id"]] = {
                    **channel,
                    "permissions": perms,
                }
                value = channel["id"]
            elif kind == 8:  # a role of the guild
                guild = self.fake.guilds[guild_id or 0]
                role = next(r for r in guild["roles"] if r["id"] == str(_uid(value)))
                resolved.setdefault("roles", {})[role["id"]] = role
                value = role["id"]
            elif kind == 6 or (isinstance(value, dict) and "username" in value):
                user_id = _uid(value)
                resolved.setdefault("users", {})[str(user_id)] = self.fake.users[user_id]
                if guild_id is not None and self.fake.member(guild_id, user_id):
                    member = self.member_payload(guild_id, user_id, channel_id)
                    member.pop("user")
                    resolved.setdefault("members", {})[str(user_id)] = member
                value = str(user_id)
            option["value"] = value
            if focused is not None and key == focused:
                option["focused"] = True
            options.append(option)
        return options

    @staticmethod
    def _infer_type(value: Any) -> int:
        if isinstance(value, Upload):
            return 11
        if isinstance(value, dict):
            return 6
        return OPTION_TYPES[type(value)]

    def command_payload(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        focused: str | None = None,
        user: UserLike | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
        attachment_size_limit: int | None = None,
        age: float = 0.0,
    ) -> JSON:
        """A slash command (type 2), or an autocomplete (type 4) when ``focused`` names an option.

        ``command`` may be ``"videos list"`` (subcommand) or ``"a b c"`` (group and subcommand).
        Option types come from the client's command tree when it has the command; values may be
        str/int/float/bool, a user payload, or an :class:`Upload`. ``age`` backdates the
        interaction (seconds) so its token is closer to expiry.
        """
        kind = 2 if focused is None else 4
        payload = self._interaction_base(
            kind,
            user=user,
            channel_id=channel_id,
            locale=locale,
            attachment_size_limit=attachment_size_limit,
            age=age,
        )
        names = command.split()
        guild_id = int(payload["guild_id"]) if "guild_id" in payload else None
        found, command_guild = self._find_command(names[0], guild_id)
        target = found
        for sub in names[1:]:
            target = target.get_command(sub) if isinstance(target, app_commands.Group) else None
        resolved: JSON = {}
        user_id = int((payload.get("member") or payload)["user"]["id"])
        channel_id = int(payload["channel_id"])
        leaf = self._options(
            target, options or {}, channel_id, guild_id, user_id, resolved, focused
        )
        for depth in range(len(names) - 1, 0, -1):
            leaf = [
                {"name": names[depth], "type": 1 if depth == len(names) - 1 else 2, "options": leaf}
            ]
        registered = [c for c in self.fake.commands.get(command_guild, []) if c["name"] == names[0]]
        data: JSON = {
            "id": registered[0]["id"] if registered else str(self.fake.new_id()),
            "name": names[0],
            "type": 1,
            "options": leaf,
        }
        if resolved:
            data["resolved"] = resolved
        if command_guild is not None:
            data["guild_id"] = str(command_guild)
        payload["data"] = data
        return payload

    def component_payload(
        self,
        message: JSON | int,
        custom_id: str,
        *,
        user: UserLike | None = None,
        values: list[str] | None = None,
        age: float = 0.0,
        stale: bool = False,
    ) -> JSON:
        """A click on a button (or a choice in a select) of a message as the fake holds it; with
        `stale`, as `message` shows it, like a client that has not yet drawn a later edit."""
        stored = self.fake.messages[int(message if isinstance(message, int) else message["id"])]
        if stale:
            assert not isinstance(message, int), "a stale click needs the message as it was seen"
            stored = message
        component = next(
            (c for c in walk_components(stored["components"]) if c.get("custom_id") == custom_id),
            None,
        )
        assert component is not None, f"no component {custom_id!r} on message {stored['id']}"
        assert component.get("type") in BUTTON_OR_SELECT, f"{custom_id!r} cannot be clicked"
        assert not component.get("disabled"), f"{custom_id!r} is disabled"
        payload = self._interaction_base(
            3,
            user=user,
            channel_id=int(stored["channel_id"]),
            locale="en-US",
            attachment_size_limit=None,
            age=age,
        )
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] != 2:
            data["values"] = values or []
        payload |= {"data": data, "message": copy.deepcopy(stored)}  # as it was when clicked
        return payload

    def modal_submit_payload(
        self, opener: FakeInteraction, values: Mapping[str, Any], *, user: UserLike | None = None
    ) -> JSON:
        """The submission of the modal ``opener`` was answered with, mirroring its layout:
        ``values`` maps custom ids to text (text inputs) or lists of values (selects)."""
        modal = opener.modal
        assert modal is not None, f"interaction {opener.id} did not open a modal"

        def fill(component: JSON) -> JSON:
            if component["type"] == 1:
                return {"type": 1, "components": [fill(c) for c in component["components"]]}
            if component["type"] == 18:
                return {
                    "type": 18,
                    "id": component.get("id", 0),
                    "component": fill(component["component"]),
                }
            if component["type"] == 4:
                value = values.get(component["custom_id"], component.get("value") or "")
                return {"type": 4, "custom_id": component["custom_id"], "value": value}
            if component["type"] == 10:
                return {"type": 10, "content": component.get("content", "")}
            chosen = values.get(component.get("custom_id", ""), [])
            return {
                "type": component["type"],
                "custom_id": component.get("custom_id"),
                "values": chosen,
            }

        payload = self._interaction_base(
            5,
            user=user or opener.user_id,
            channel_id=opener.channel_id,
            locale=opener.payload.get("locale", "en-US"),
            attachment_size_limit=None,
            age=0.0,
        )
        payload["data"] = {
            "custom_id": modal["custom_id"],
            "components": [fill(c) for c in modal["components"]],
        }
        if opener.message_id is not None and opener.message_id in self.fake.messages:
            payload["message"] = copy.deepcopy(self.fake.messages[opener.message_id])
        return payload

    def form_submit_payload(
        self,
        opener: FakeInteraction,
        values: Mapping[str, Any],
        *,
        uploads: Mapping[str, Upload] | None = None,
        user: UserLike | None = None,
    ) -> JSON:
        """As :meth:`modal_submit_payload`, for a form with radio groups (one ``value`` each) and
        file uploads: each of ``uploads`` is stored in the fake as a member's upload and sent as
        Discord does, its id in the field's ``values`` and the file in ``resolved.attachments``."""
        payload = self.modal_submit_payload(opener, values, user=user)
        resolved: JSON = {}
        for component in walk_components(payload["data"]["components"]):
            custom_id = component.get("custom_id")
            if component.get("type") == 21:
                chosen = component.pop("values", None) or [None]
                component["value"] = chosen[0]
            elif component.get("type") == 19:
                upload = (uploads or {}).get(custom_id or "")
                component["values"] = []
                if upload is not None:
                    attachment = self.fake.upload(opener.channel_id, upload.filename, upload.data)
                    resolved.setdefault("attachments", {})[attachment["id"]] = attachment
                    component["values"] = [attachment["id"]]
        if resolved:
            payload["data"]["resolved"] = resolved
        return payload

    async def submit_form(
        self,
        opener: FakeInteraction,
        values: Mapping[str, Any],
        *,
        uploads: Mapping[str, Upload] | None = None,
        **kw: Any,
    ) -> FakeInteraction:
        """Submit the form ``opener`` was answered with; see :meth:`form_submit_payload`."""
        payload = self.form_submit_payload(opener, values, uploads=uploads, **kw)
        return self._interact(payload, triggered_by=opener)

    def reaction_add_payload(self, message: JSON | int, user: UserLike, emoji: str) -> JSON:
        """MESSAGE_REACTION_ADD; ``emoji`` is a unicode emoji or ``"name:id"`` for a custom one."""
        stored = self.fake.messages[int(message if isinstance(message, int) else message["id"])]
        name, _, emoji_id = emoji.partition(":")
        payload: JSON = {
            "type": 0,
            "user_id": str(_uid(user)),
            "channel_id": stored["channel_id"],
            "message_id": stored["id"],
            "message_author_id": stored["author"]["id"],
            "emoji": {"id": emoji_id or None, "name": name, "animated": False},
            "burst": False,
            "burst_colors": [],
        }
        guild_id = self.fake.channels[int(stored["channel_id"])].get("guild_id")
        if guild_id is not None:
            payload["guild_id"] = guild_id
            payload["member"] = self.member_payload(int(guild_id), user)
        return payload

    # -- actions: build, register with the fake, feed ----------------------------------------

    def _interact(
        self, payload: JSON, triggered_by: FakeInteraction | None = None
    ) -> FakeInteraction:
        record = self.fake.register_interaction(payload, triggered_by=triggered_by)
        self.feed("INTERACTION_CREATE", payload)
        return record

    async def _until_listening(
        self, custom_id: str, component_type: int, message_id: int | None, within: float
    ) -> None:
        """discord.py stores a view or modal only once the response that carried it has come back,
        after the fake saw it: a user cannot click that fast, a test can. So wait for it; after
        ``within`` seconds the event is fed anyway, as Discord would send it."""
        store = self.client._connection._view_store

        def listening() -> bool:
            if component_type == 0:
                return custom_id in store._modals
            if any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items):
                return True
            key = (component_type, custom_id)
            return any(key in store._views.get(m, {}) for m in (message_id, None))

        with contextlib.suppress(AssertionError):
            await self.wait_for(listening, within, what=f"the bot to listen for {custom_id!r}")

    async def slash(
        self, command: str, options: Mapping[str, Any] | None = None, **kw: Any
    ) -> FakeInteraction:
        """Run a slash command as a user would; see :meth:`command_payload`."""
        return self._interact(self.command_payload(command, options, **kw))

    async def autocomplete(
        self, command: str, options: Mapping[str, Any], focused: str, **kw: Any
    ) -> FakeInteraction:
        return self._interact(self.command_payload(command, options, focused=focused, **kw))

    async def click(
        self, message: JSON | int, custom_id: str, *, settle: float = 1.0, **kw: Any
    ) -> FakeInteraction:
        payload = self.component_payload(message, custom_id, **kw)
        kind = payload["data"]["component_type"]
        await self._until_listening(custom_id, kind, int(payload["message"]["id"]), settle)
        return self._interact(payload)

    async def submit_modal(
        self, opener: FakeInteraction, values: Mapping[str, Any], *, settle: float = 1.0, **kw: Any
    ) -> FakeInteraction:
        payload = self.modal_submit_payload(opener, values, **kw)
        await self._until_listening(payload["data"]["custom_id"], 0, None, settle)
        return self._interact(payload, triggered_by=opener)

    async def react(self, message: JSON | int, user: UserLike, emoji: str) -> JSON:
        """Add a reaction in the fake and feed MESSAGE_REACTION_ADD; returns the payload."""
        payload = self.reaction_add_payload(message, user, emoji)
        self.fake.add_reaction(int(payload["message_id"]), _uid(user), emoji)
        self.feed("MESSAGE_REACTION_ADD", payload)
        return payload

    # -- waiting and reading what users see --------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], T], within: float = 5.0, *, what: str = ""
    ) -> T:
        return await self.fake.wait_for(predicate, within, what=what)

    async def response(self, interaction: FakeInteraction, within: float = 5.0) -> FakeInteraction:
        """Wait until the bot answered the interaction's callback."""
        await self.wait_for(
            lambda: interaction.response_type is not None,
            within,
            what=f"a response to {interaction.id}",
        )
        return interaction

    async def original(
        self,
        interaction: FakeInteraction,
        where: Callable[[JSON], bool] = lambda m: not is_loading(m),
        within: float = 5.0,
    ) -> JSON:
        """Wait for the interaction's original response to exist and satisfy ``where``
        (by default: no longer "thinking")."""

        def check() -> JSON | None:
            message = self.fake.original_message(interaction)
            return message if message is not None and where(message) else None

        return await self.wait_for(check, within, what=f"the original response of {interaction.id}")

    def messages(
        self, channel_id: int | None = None, *, visible_to: UserLike | None = None
    ) -> list[JSON]:
        """Live messages of a channel (the world's by default), oldest first."""
        viewer = None if visible_to is None else _uid(visible_to)
        return self.fake.channel_messages(channel_id or self.world.channel_id, visible_to=viewer)

    def followups(self, interaction: FakeInteraction) -> list[JSON]:
        return self.fake.followup_messages(interaction)

    @staticmethod
    def is_ephemeral(message: JSON) -> bool:
        return is_ephemeral(message)


__all__ = [
    "FakeDiscord",
    "FakeInteraction",
    "Harness",
    "Upload",
    "World",
    "build_world",
    "pointed_at",
]
