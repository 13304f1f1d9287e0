"""`videobot run | simulator | check | invite | limits`: the program's entry points."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.cli.logs import setup_logging
from bot.config import Settings, SettingsError, load_settings

log = logging.getLogger("videobot")


async def _check(settings: Settings) -> int:
    """What every configured provider serves, next to what its preset expects."""
    # The wiring loads discord.py and the media parts: only the commands that build something.
    from bot.cli.check import check_providers

    return await check_providers(settings)


async def _check_all(settings: Settings) -> int:
    from bot.cli.check import check_discord  # discord.py loads only where it is used

    provider = await _check(settings)
    print()
    return max(provider, await check_discord(settings))


async def _limits(settings: Settings, guild_id: int, name: str | None, value: str | None) -> int:
    """The operator's ceilings of one server: shown, or one of them changed."""
    from bot.errors import UserError
    from bot.spending.overrides import KNOBS, parse
    from bot.spending.service import ceilings
    from bot.storage import GuildRepository, open_database

    async with await open_database(settings.database_dsn(), settings.database_path) as db:
        guilds = GuildRepository(db)
        if name is not None and value is not None:
            try:
                chosen = parse(name, value)
            except UserError as exc:
                print(f"videobot: {exc}", file=sys.stderr)
                return 2
            await guilds.set(guild_id, KNOBS[name].field, chosen, "guild_ceilings")
        cap = ceilings(settings.default_limits, await guilds.get(guild_id, "guild_ceilings"))
    env = settings.default_limits
    print(f"ceilings in server {guild_id}:")
    for knob_name, knob in KNOBS.items():
        here, default = getattr(cap, knob.field), getattr(env, knob.field)
        note = "the environment's"
        if here != default:
            note += f": {knob.shown(default)}"
        print(f"  {knob_name}: {knob.shown(here)} ({note})")
    if name is not None:
        print("A running bot applies a change within a minute.")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videobot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the Discord bot")
    simulator = commands.add_parser("simulator", help="serve the Videos API simulator")
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=int, default=8089)
    simulator.add_argument(
        "--job-seconds", type=float, default=None, help="how long a job takes to complete"
    )
    simulator.add_argument(
        "--job-seconds-max",
        type=float,
        default=None,
        help="draw each job's duration log-uniformly up to this",
    )
    simulator.add_argument(
        "--progress-shape",
        default="linear",
        help="how progress grows while a job runs: linear, ease-in, stalled-start, jumps, "
        "or mixed (one shape per job)",
    )
    simulator.add_argument("--seed", type=int, default=0, help="seed of durations and shapes")
    simulator.add_argument(
        "--hold",
        action="store_true",
        help="keep jobs queued until POST /simulator/release starts them all at once",
    )
    simulator.add_argument("--api-key", default=None, help="require this bearer key")
    simulator.add_argument(
        "--big-assets", action="store_true", help="serve MP4s larger than Discord's 10 MiB limit"
    )
    simulator.add_argument(
        "--noisy-assets",
        action="store_true",
        help="serve MP4s that weigh what real renders do (~30 MiB for 12 s at 1792x1024)",
    )
    # Checked in main(), as --progress-shape is: listing the choices here would load the
    # simulator for every command.
    simulator.add_argument("--dialect", default="openai", help="imitate this real server")
    commands.add_parser(
        "check", help="validate settings, probe the API, and check the bot's Discord side"
    )
    commands.add_parser("invite", help="print the link that adds the bot to a server")
    limits = commands.add_parser(
        "limits",
        help="show a server's ceilings, or give it another: /limits in Discord can go lower, "
        "never higher",
    )
    limits.add_argument("guild_id", type=int, help="the server's id")
    limits.add_argument("limit", nargs="?", help="monthly_budget, jobs_per_member, ...")
    limits.add_argument(
        "value", nargs="?", help="a number (USD for the budget), `none`, or `default`"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.log_level)
        if args.command == "run":
            settings.require_discord_token()
            # discord.py loads only for `run`.
            from bot.app import StartupError
            from bot.wiring import run_bot

            try:
                asyncio.run(run_bot(settings))
            except StartupError as exc:
                print(f"videobot: {exc}", file=sys.stderr)
                return 1
            return 0
        if args.command == "simulator":
            from bot.simulator import SimulatorConfig, run  # loaded only where it is used
            from bot.simulator.dialects import DIALECTS
            from bot.simulator.progress import SHAPES

            if args.dialect not in DIALECTS:
                parser.error(f"--dialect must be one of {', '.join(DIALECTS)}")
            if args.progress_shape not in (*SHAPES, "mixed"):
                parser.error(f"--progress-shape must be one of {', '.join(SHAPES)}, mixed")
            config = SimulatorConfig(
                profile=settings.profile(),
                job_seconds=args.job_seconds or settings.simulator_job_seconds,
                job_seconds_max=args.job_seconds_max,
                progress_shape=args.progress_shape,
                seed=args.seed,
                hold=args.hold,
                api_key=args.api_key,
                big_assets=args.big_assets,
                noisy_assets=args.noisy_assets,
                dialect=args.dialect,
            )
            run(args.host, args.port, config)
            return 0
        if args.command == "limits":
            from bot.spending.overrides import KNOBS

            if args.limit is not None and args.limit not in KNOBS:
                parser.error(f"limit must be one of {', '.join(KNOBS)}")
            if (args.limit is None) != (args.value is None):
                parser.error("give both a limit and its value, or neither")
            return asyncio.run(_limits(settings, args.guild_id, args.limit, args.value))
        if args.command == "invite":
            from bot.cli.invite import invite_text

            print(invite_text(settings))
            return 0
        return asyncio.run(_check_all(settings))
    except SettingsError as exc:
        print(f"videobot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
