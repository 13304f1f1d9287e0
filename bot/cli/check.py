"""`videobot check`: every configured provider probed, one block each (what it serves next to
what its preset expects, and the models it offers); then the Discord half, which logs in over
REST only (no gateway) and says what stands between the bot and working in its servers, one
line per problem with its fix."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import aiohttp
import discord

from bot.config import Settings
from bot.interactions.sync import Payload, compare
from bot.spending.money import micros, usd
from bot.storage import open_database
from bot.storage.videos import used_channels
from bot.ui.permissions import missing
from bot.videoapi.backend import VideoBackend
from bot.videoapi.probe import probe
from bot.videoapi.providers import Providers, ProviderSpec
from bot.wiring import commands_in_code, open_providers

Problems = list[str]


def _problem(problems: Problems, what: str, fix: str) -> None:
    line = f"  problem: {what}. Fix: {fix}."
    problems.append(line)
    print(line)


async def check_providers(settings: Settings) -> int:
    """Probe every configured provider, in the operator's order; 1 when one could not be
    asked (a refused key, no answer)."""
    config = settings.providers
    specs = config.specs if config is not None else (settings.default_provider(),)
    failed = False
    async with open_providers(settings) as providers:
        for n, spec in enumerate(specs):
            if n:
                print()
            failed = not await _check_provider(spec, providers.get(spec.name), providers) or failed
    return 1 if failed else 0


async def _check_provider(spec: ProviderSpec, client: VideoBackend, providers: Providers) -> bool:
    """One provider's block; False when a probe failed."""
    print(f"provider {spec.name}: {client.base_url} (preset: {spec.kind})")
    results = await probe(client)
    expected_missing = spec.profile.missing
    width = max(len(op.value) for op in results)
    ok = True
    surprises = []
    for op, result in results.items():
        expected = "missing" if op in expected_missing else "served"
        line = f"  {op.value:<{width}}  {result.status:<11}  preset: {expected}"
        if result.reason and result.status != "supported":
            line += f" ({result.reason})"
        ok = ok and result.status != "error"
        if (result.status == "unsupported") != (op in expected_missing):
            surprises.append(op.value)
        print(line)
    profile = client.profile
    offered = ", ".join(
        f"{model} ({usd(micros(profile.price_for(model)))}/s)"
        for model in providers.offered_by(spec.name)
    )
    print(f"models: {offered or 'none'}")
    if surprises:
        print(
            f"differs from the {spec.kind} preset: {', '.join(surprises)} "
            "(the bot follows what the server answers; check its preset)"
        )
    unsupported = [op.value for op, r in results.items() if r.status == "unsupported"]
    print(f"unsupported: {', '.join(unsupported) if unsupported else 'none'}")
    return ok


async def check_discord(settings: Settings) -> int:
    """Print what Discord says about this bot; 1 when there is anything to fix."""
    print("discord:")
    problems: Problems = []
    token = settings.discord_token
    if token is None or not token.get_secret_value().strip():
        _problem(
            problems,
            "DISCORD_TOKEN is not set",
            "copy the bot's token from the developer portal (your application, Bot, Reset Token) "
            "into .env",
        )
        return 1
    # REST only: the client never connects, so its intents only quiet discord.py's warning.
    client = discord.Client(intents=discord.Intents(guilds=True))
    try:
        async with client:
            await client.login(token.get_secret_value())
            await _report(client, settings, problems)
    except discord.LoginFailure:
        _problem(
            problems,
            "Discord refused DISCORD_TOKEN",
            "reset the token in the developer portal (your application, Bot, Reset Token) and "
            "put the new one in .env",
        )
    except (aiohttp.ClientConnectionError, OSError) as exc:
        _problem(problems, f"cannot reach Discord ({exc})", "check this machine's network")
    return 1 if problems else 0


async def _report(client: discord.Client, settings: Settings, problems: Problems) -> None:
    app = await client.application_info()
    print(f"  application: {app.name} (id {app.id}), bot user {client.user}")
    guilds = [guild async for guild in client.fetch_guilds(limit=None)]
    names = ", ".join(f"{g.name} ({g.id})" for g in guilds)
    print(f"  servers: {names or 'none'}")
    _exposure(app.bot_public, settings, [g.id for g in guilds])
    if not guilds:
        _problem(
            problems,
            "the bot is in no server",
            "open the link `videobot invite` prints and add it to your server",
        )
    await _commands(client, settings, app.id, {g.id: g.name for g in guilds}, problems)
    await _channels(client, settings, guilds, problems)


def _exposure(public: bool, settings: Settings, guild_ids: list[int]) -> None:
    """Anyone may add a public bot to their server and spend the operator's key there."""
    if public and settings.allowed_guild_ids is None:
        print(
            "  warning: the application is public (anyone with the link can add the bot) and "
            "ALLOWED_GUILD_IDS is not set, so every server that adds it spends your key under "
            "the environment's limits. Set ALLOWED_GUILD_IDS, or turn off Public Bot in the "
            "developer portal (your application, Bot)."
        )
    outside = [g for g in guild_ids if not settings.guild_allowed(g)]
    if outside:
        print(
            f"  warning: not in ALLOWED_GUILD_IDS, the bot leaves these servers when it starts: "
            f"{', '.join(map(str, outside))}"
        )


async def _commands(
    client: discord.Client,
    settings: Settings,
    app_id: int,
    guilds: dict[int, str],
    problems: Problems,
) -> None:
    """Compare the code's commands with those registered where the bot syncs them."""
    code = await commands_in_code(settings)
    mention = f"@{client.user.name if client.user else 'videobot'}"
    registered: Sequence[Payload]
    dev = settings.dev_guild_id
    if dev is None:
        where = "globally"
        registered = await client.http.get_global_commands(app_id)
        first = (
            "start the bot once with `make run` (a first start syncs them globally; they can "
            "take up to an hour to appear)"
        )
        again = f"type `{mention} sync` in a server the bot is in"
    else:
        if dev not in guilds:
            _problem(
                problems,
                f"DEV_GUILD_ID {dev} is not a server the bot is in",
                "add the bot there with the link `videobot invite` prints, or correct DEV_GUILD_ID",
            )
            return
        where = f"to {guilds[dev]} (DEV_GUILD_ID)"
        registered = await client.http.get_guild_commands(app_id, dev)
        first = again = f"restart the bot (it syncs DEV_GUILD_ID), or type `{mention} sync {dev}`"
    if not registered:
        _problem(problems, f"no slash commands are registered {where}", first)
        return
    diff = compare(code, registered)
    if diff:
        _problem(problems, f"the commands registered {where} differ from the code ({diff})", again)
        return
    print(f"  commands: {len(code)} registered {where}, as in the code")


async def _channels(
    client: discord.Client, settings: Settings, guilds: list[discord.Guild], problems: Problems
) -> None:
    """Per server, what the bot lacks in each channel it has been used in."""
    dsn = settings.database_dsn()
    if dsn is None and not settings.database_path.exists():
        print(f"  channels: none used yet (no database at {settings.database_path})")
        return
    async with await open_database(dsn, settings.database_path) as db:
        used: defaultdict[int, set[int]] = defaultdict(set)
        for guild_id, channel_id in await used_channels(db):
            used[guild_id].add(channel_id)
    assert client.user is not None  # logged in
    checked = 0
    for partial in guilds:
        if not used.get(partial.id):
            continue
        guild = await client.fetch_guild(partial.id)
        me = await guild.fetch_member(client.user.id)
        channels = {c.id: c for c in await guild.fetch_channels()}
        for channel_id in sorted(used[partial.id]):
            checked += 1
            channel = channels.get(channel_id) or await _thread_parent(client, channel_id, channels)
            if channel is None:
                _problem(
                    problems,
                    f"{guild.name}: channel {channel_id}, where the bot was used, is gone",
                    "nothing if it was deleted; if it is hidden, give the bot View Channels there",
                )
                continue
            lacking = missing(channel.permissions_for(me))
            if lacking:
                labels = ", ".join(n.label for n in lacking)
                _problem(
                    problems,
                    f"{guild.name} #{channel.name}: the bot lacks {labels}",
                    f"in #{channel.name}'s settings (Permissions), allow {labels} for the bot's "
                    "role, or give them to that role in Server Settings, Roles",
                )
    print(f"  channels: {checked} checked where the bot was used")


async def _thread_parent(
    client: discord.Client, channel_id: int, channels: Mapping[int, discord.abc.GuildChannel]
) -> discord.abc.GuildChannel | None:
    """A thread is governed by its parent's permissions; None for a channel out of reach."""
    try:
        fetched = await client.fetch_channel(channel_id)
    except (discord.NotFound, discord.Forbidden):
        return None
    if isinstance(fetched, discord.Thread) and fetched.parent_id is not None:
        return channels.get(fetched.parent_id)
    return None
