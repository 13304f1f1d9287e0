"""Settings, read once in main() from the environment and `.env`, then passed where needed."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Self

from dotenv import dotenv_values
from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.providers_file import ProvidersConfig, ProvidersFileError, read_providers_file
from bot.spending.limits import NO_LIMIT_WORDS, Limits
from bot.spending.money import MICROS_PER_USD
from bot.videoapi.presets import PresetName, overridden
from bot.videoapi.profile import BodyEncoding, ProviderProfile
from bot.videoapi.providers import DEFAULT_PROVIDER, ProviderSpec

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"

CommaList = Annotated[tuple[str, ...] | None, NoDecode]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def _split(value: object) -> object:
    if isinstance(value, str):
        items = tuple(part.strip() for part in value.split(",") if part.strip())
        return items or None
    return value


class Settings(BaseSettings):
    # An empty value (`DEV_GUILD_ID=` in a copy of .env.example) means "not set".
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
        # Fields with a neutral alias are still set by their own name (Settings(openai_api_key=)).
        populate_by_name=True,
    )

    discord_token: SecretStr | None = None
    # Only for applications whose bot id differs from the application id (made before 2019).
    discord_application_id: int | None = Field(default=None, gt=0)
    # The provider's key, whichever provider it is (PROVIDER_API_KEY); OPENAI_API_KEY, the name
    # every OpenAI client reads, keeps working.
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("provider_api_key", "openai_api_key")
    )
    openai_base_url: str = OPENAI_DEFAULT_BASE_URL
    database_path: Path = Path("data/videobot.sqlite3")
    # postgresql://user:password@host:5432/videobot: PostgreSQL instead of the SQLite file, for
    # several bot processes sharing one database. A secret: it may carry a password.
    database_url: SecretStr | None = None
    # Discord's shards: this process runs SHARD_IDS (all of them when unset) of SHARD_COUNT
    # (Discord's recommendation when unset). Processes with disjoint SHARD_IDS form one bot.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    # On a shared database each job is followed by one process, through a lease it renews; a
    # process that stops renewing loses its jobs to another within lease + renew seconds.
    lease_seconds: float = Field(default=20.0, gt=0)
    lease_renew_seconds: float = Field(default=5.0, gt=0)
    dev_guild_id: int | None = Field(default=None, gt=0)
    log_level: str = "INFO"

    # Seconds between refreshes while jobs run; the provider's poll hint wins when it gives one.
    poll_interval: float = Field(default=5.0, gt=0, le=300)
    job_deadline_minutes: float = Field(default=45.0, gt=0)
    # A job whose every status look fails this long ends as failed (its reservation released).
    status_give_up_minutes: float = Field(default=10.0, gt=0)
    # Spending limits: the ceilings of every server, which /limits may lower (never raise) per
    # server; `videobot limits` gives one server other ceilings. `none` switches one off.
    # Direct messages share one scope with these values.
    max_concurrent_jobs_per_user: int | None = Field(default=2, ge=1, le=50)
    max_concurrent_jobs_per_guild: int | None = Field(default=None, ge=1, le=500)
    daily_seconds_per_user: int | None = Field(default=120, ge=0)
    daily_seconds_per_guild: int | None = Field(default=None, ge=0)
    monthly_budget_usd: Decimal | None = Field(default=Decimal(50), ge=0, decimal_places=6)
    # Characters a member may make a day (UTC), in every server together.
    characters_per_member_per_day: int | None = Field(default=5, ge=0)
    # What every server and direct messages may spend together in a calendar month (UTC).
    bot_monthly_budget_usd: Decimal | None = Field(default=None, ge=0, decimal_places=6)
    # Servers the bot may stay in; it leaves any other (none set: every server).
    allowed_guild_ids: Annotated[frozenset[int] | None, NoDecode] = None
    # A result Discord or the provider could not take is tried again after this, doubling up
    # to the maximum, for as long as the provider keeps the files.
    delivery_retry_seconds: float = Field(default=30.0, gt=0)
    delivery_retry_max_seconds: float = Field(default=600.0, gt=0)
    # Media work (thumbnails, spritesheets, re-encodes, image checks) runs in child processes,
    # this many at a time, each held to the memory and seconds below; a video of more pixels or
    # seconds than these is refused from its metadata, before any frame is decoded (4K fits).
    media_workers: int = Field(default=2, ge=1, le=32)
    media_max_pixels: int = Field(default=4096 * 2304, ge=1)
    media_max_seconds: float = Field(default=600.0, gt=0)
    media_memory_mb: int = Field(default=1024, ge=256)
    media_timeout_seconds: float = Field(default=300.0, gt=0)
    # Re-encodes kept per (video, upload limit) and stills per (video, variant), so asking again
    # costs no download or decode (the latest one is kept whatever this says).
    media_cache_mb: int = Field(default=256, ge=0)
    # Thumbnail, Spritesheet and /videos download: this many per member per so many seconds
    # (0 seconds: no cooldown).
    asset_cooldown_uses: int = Field(default=3, ge=1)
    asset_cooldown_seconds: float = Field(default=30.0, ge=0)
    extend_emoji: str = "⏩"
    extend_default_prompt: str = "Continue the scene naturally."

    # Which server OPENAI_BASE_URL is: picks the profile's defaults (bot/videoapi/presets.py).
    provider: PresetName = "openai"
    provider_body: BodyEncoding | None = None
    provider_models: CommaList = None
    provider_sizes: CommaList = None
    provider_seconds: CommaList = None
    provider_extend_seconds: CommaList = None
    # One price for every model ("0.10"), or per model ("sora-2=0.10,sora-2-pro=0.30").
    provider_price_per_second: Annotated[str | None, NoDecode] = None
    # Status requests a minute the tracker may send; the preset's value when unset.
    provider_requests_per_minute: float | None = Field(default=None, gt=0)
    # A download from the provider larger than this, or taking longer from its first request to
    # its last byte, is abandoned: a broken or hostile server cannot fill the disk or hang it.
    provider_max_download_mib: int = Field(default=1024, ge=1)
    provider_download_timeout_seconds: float = Field(default=600.0, gt=0)

    # OpenRouter's webhooks (PROVIDER=openrouter): what OpenRouter calls (HTTPS, ending in the
    # receiver's path), where the receiver listens (behind the operator's TLS proxy), and the
    # workspace's signing secret. All three set: creates carry `callback_url`, and a verified
    # event is taken as that job's state, with no status request.
    webhook_public_url: str | None = None
    webhook_listen: str = "127.0.0.1:8090"
    openrouter_webhook_secret: SecretStr | None = None

    # Several providers side by side (bot/providers_file.py): a TOML file of entries, in the
    # operator's order of preference. Unset: the settings above make the one provider, named
    # `default` (the provider of every video made before the file existed).
    providers_file: Path | None = None
    _providers: ProvidersConfig | None = PrivateAttr(default=None)

    # The built-in simulator, used when no API key is set.
    simulator_host: str = "127.0.0.1"
    simulator_port: int = Field(default=0, ge=0, le=65535)
    simulator_job_seconds: float = Field(default=20.0, gt=0)

    # The moderation check of every prompt (bot/spending/moderation.py): on when the key is set.
    # Any server speaking OpenAI's `POST /moderations`; a check that gives no verdict refuses.
    moderation_api_key: SecretStr | None = None
    moderation_base_url: str = OPENAI_DEFAULT_BASE_URL
    moderation_model: str = "omni-moderation-latest"

    _split_lists = field_validator(
        "provider_models",
        "provider_sizes",
        "provider_seconds",
        "provider_extend_seconds",
        mode="before",
    )(_split)

    @field_validator(
        "max_concurrent_jobs_per_user",
        "max_concurrent_jobs_per_guild",
        "daily_seconds_per_user",
        "daily_seconds_per_guild",
        "monthly_budget_usd",
        "bot_monthly_budget_usd",
        "characters_per_member_per_day",
        mode="before",
    )
    @classmethod
    def _none_is_no_limit(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in NO_LIMIT_WORDS:
            return None
        return value

    @field_validator("shard_ids", "allowed_guild_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        return _split(value)

    @model_validator(mode="after")
    def _shards_fit(self) -> Self:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT, the total across every process")
            outside = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if outside:
                raise ValueError(f"SHARD_IDS must lie in 0..{self.shard_count - 1}: {outside}")
        if self.lease_renew_seconds * 2 > self.lease_seconds:
            raise ValueError("LEASE_RENEW_SECONDS must be at most half of LEASE_SECONDS")
        return self

    @model_validator(mode="after")
    def _read_providers_file(self) -> Self:
        # Read at start, so a mistake in it stops the bot before it connects anywhere. Keys
        # are named in the file and read from the environment or `.env`, as settings are.
        if self.providers_file is not None:
            env_file = self.model_config.get("env_file")
            dotenv = dotenv_values(env_file) if isinstance(env_file, str) else {}
            environ = {k: v for k, v in dotenv.items() if v is not None} | dict(os.environ)
            try:
                self._providers = read_providers_file(self.providers_file, environ)
            except ProvidersFileError as exc:
                raise ValueError(f"PROVIDERS_FILE: {exc}") from None
        return self

    @field_validator("openai_base_url", "moderation_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("provider_price_per_second")
    @classmethod
    def _prices(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_prices(value)
        return value

    @property
    def default_limits(self) -> Limits:
        """The operator's ceilings, and the bot-wide budget over every scope."""
        return Limits(
            jobs_per_user=self.max_concurrent_jobs_per_user,
            jobs_per_guild=self.max_concurrent_jobs_per_guild,
            daily_seconds_per_user=self.daily_seconds_per_user,
            daily_seconds_per_guild=self.daily_seconds_per_guild,
            monthly_budget_micros=_micros(self.monthly_budget_usd),
            bot_monthly_budget_micros=_micros(self.bot_monthly_budget_usd),
        )

    def guild_allowed(self, guild_id: int) -> bool:
        """Whether ALLOWED_GUILD_IDS lets the bot stay in this server."""
        return self.allowed_guild_ids is None or guild_id in self.allowed_guild_ids

    @property
    def uses_simulator(self) -> bool:
        # A providers file names every provider's key itself (or none, for keyless servers).
        return self.openai_api_key is None and self.providers_file is None

    @property
    def uses_webhooks(self) -> bool:
        # One receiver for the single OpenRouter provider; a providers file's entries poll.
        return (
            self.providers_file is None
            and self.provider == "openrouter"
            and self.webhook_public_url is not None
            and self.openrouter_webhook_secret is not None
        )

    def profile(self) -> ProviderProfile:
        """The preset's profile, with whatever the PROVIDER_* settings override."""
        default: float | None = None
        per_model: dict[str, float] | None = None
        if self.provider_price_per_second is not None:
            default, per_model = _parse_prices(self.provider_price_per_second)
        return overridden(
            self.provider,
            models=self.provider_models,
            sizes=self.provider_sizes,
            seconds=self.provider_seconds,
            extend_seconds=self.provider_extend_seconds,
            body=self.provider_body,
            requests_per_minute=self.provider_requests_per_minute,
            price_per_second=per_model,
            default_price_per_second=default,
        )

    @property
    def providers(self) -> ProvidersConfig | None:
        """The providers file's entries, or None when the single-provider settings apply."""
        return self._providers

    def default_provider(self) -> ProviderSpec:
        """The one provider the single-provider settings describe, as it always was."""
        return ProviderSpec(
            name=DEFAULT_PROVIDER,
            kind=self.provider,
            base_url=self.openai_base_url,
            api_key=self.openai_api_key,
            profile=self.profile(),
            models=self.provider_models,
        )

    def database_dsn(self) -> str | None:
        """DATABASE_URL in clear, for the database driver only; None: the SQLite file."""
        return self.database_url.get_secret_value() if self.database_url is not None else None

    def require_discord_token(self) -> SecretStr:
        if self.discord_token is None or not self.discord_token.get_secret_value().strip():
            raise SettingsError(
                "DISCORD_TOKEN is not set: put the bot token in .env or the environment"
            )
        return self.discord_token


def _micros(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount * MICROS_PER_USD)


def _parse_prices(text: str) -> tuple[float | None, dict[str, float]]:
    default: float | None = None
    per_model: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, price_text = part.rpartition("=")
        try:
            price = float(price_text)
        except ValueError:
            raise ValueError(f"{price_text!r} is not a number") from None
        if price < 0:
            raise ValueError("a price cannot be negative")
        if sep:
            per_model[name.strip()] = price
        else:
            default = price
    return default, per_model


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's report into one line per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("; ".join(lines)) from None
