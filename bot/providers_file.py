"""The providers file (PROVIDERS_FILE): several providers side by side, read once at start.

TOML, read with the standard library, validated here (pydantic at the edge) so that a mistake
stops the start with one line naming the entry and the field. Providers are listed in the
operator's order of preference; no key sits in the file, only the NAME of the environment
variable (or `.env` line) that holds it:

    [[providers]]
    name = "openrouter"
    kind = "openrouter"                     # a preset of bot/videoapi/presets.py
    base_url = "https://openrouter.ai/api/v1"
    api_key_env = "OPENROUTER_API_KEY"
    models = ["google/veo-3.1"]
    requests_per_minute = 60
    price_per_second = { "google/veo-3.1" = 0.50 }

    [equivalents]                           # one name in the picker for the same model
    "veo-3.1" = ["google/veo-3.1", "veo-3.1-generate-001"]
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from bot.videoapi.presets import PRESETS, PresetName, overridden
from bot.videoapi.profile import BodyEncoding, ProviderProfile
from bot.videoapi.providers import NAME_PATTERN, ProviderSpec

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class ProvidersFileError(Exception):
    """The providers file is missing or malformed; the message says where, in one line."""


class ProviderEntry(BaseModel):
    """One `[[providers]]` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    kind: PresetName = "generic"
    base_url: str = Field(pattern=r"^https?://")
    # The NAME of the environment variable holding the key; none for a server without keys.
    api_key_env: str | None = Field(default=None, pattern=_ENV_NAME)
    models: tuple[str, ...] | None = Field(default=None, min_length=1)
    sizes: tuple[str, ...] | None = Field(default=None, min_length=1)
    seconds: tuple[str, ...] | None = Field(default=None, min_length=1)
    extend_seconds: tuple[str, ...] | None = Field(default=None, min_length=1)
    price_per_second: dict[str, float] = Field(default_factory=dict)
    default_price_per_second: float | None = Field(default=None, ge=0)
    requests_per_minute: float | None = Field(default=None, gt=0)
    body: BodyEncoding | None = None

    @model_validator(mode="after")
    def _prices_not_negative(self) -> Self:
        negative = [model for model, price in self.price_per_second.items() if price < 0]
        if negative:
            raise ValueError(f"a price cannot be negative ({', '.join(negative)})")
        return self

    def profile(self) -> ProviderProfile:
        """The preset's profile with what this entry overrides."""
        return overridden(
            self.kind,
            models=self.models,
            sizes=self.sizes,
            seconds=self.seconds,
            extend_seconds=self.extend_seconds,
            body=self.body,
            requests_per_minute=self.requests_per_minute,
            default_price_per_second=self.default_price_per_second,
            # An entry's prices add to the preset's (or replace them), model by model.
            price_per_second=PRESETS[self.kind].price_per_second | self.price_per_second,
        )

    def spec(self, environ: Mapping[str, str]) -> ProviderSpec:
        key: SecretStr | None = None
        if self.api_key_env is not None:
            value = environ.get(self.api_key_env, "").strip()
            if not value:
                raise ValueError(f"{self.api_key_env} (its api_key_env) is not set")
            key = SecretStr(value)
        return ProviderSpec(
            name=self.name,
            kind=self.kind,
            base_url=self.base_url.rstrip("/"),
            api_key=key,
            profile=self.profile(),
            models=self.models,
        )


class ProvidersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    providers: tuple[ProviderEntry, ...] = Field(min_length=1)
    # A name shown in the picker -> the model ids that are the same model at different providers.
    equivalents: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [entry.name for entry in self.providers]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"provider names must differ: {', '.join(twice)} given twice")
        grouped: dict[str, str] = {}
        for group, members in self.equivalents.items():
            if len(members) < 2:
                raise ValueError(f"equivalents {group!r} needs two models or more")
            for model in members:
                if model in grouped:
                    raise ValueError(
                        f"model {model!r} is in equivalents {grouped[model]!r} and {group!r}"
                    )
                grouped[model] = group
        return self


@dataclass(frozen=True, slots=True)
class ProvidersConfig:
    """What the file says: the providers in order of preference, and the named equivalents."""

    specs: tuple[ProviderSpec, ...]
    equivalents: dict[str, tuple[str, ...]]


def read_providers_file(path: Path, environ: Mapping[str, str]) -> ProvidersConfig:
    """The providers of the file at `path`, their keys read from `environ`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProvidersFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProvidersFileError(f"{path} is not valid TOML: {exc}") from None
    try:
        parsed = ProvidersFile.model_validate(data)
    except ValidationError as exc:
        raise ProvidersFileError(f"{path}: {_one_line(exc, data)}") from None
    specs = []
    for entry in parsed.providers:
        try:
            specs.append(entry.spec(environ))
        except ValueError as exc:
            raise ProvidersFileError(f"{path}: provider {entry.name!r}: {exc}") from None
    return ProvidersConfig(tuple(specs), dict(parsed.equivalents))


def _one_line(exc: ValidationError, data: object) -> str:
    """Pydantic's report as `provider 'x': field: message; ...`, naming entries by name."""
    parts = []
    for error in exc.errors():
        loc = list(error["loc"])
        prefix = ""
        if len(loc) >= 2 and loc[0] == "providers" and isinstance(loc[1], int):
            entries = data.get("providers") if isinstance(data, dict) else None
            entry = entries[loc[1]] if isinstance(entries, list) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            prefix = f"provider {name!r}: " if name else f"provider #{loc[1] + 1}: "
            loc = loc[2:]
        field = ".".join(str(part) for part in loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{prefix}{field}: {message}" if field else f"{prefix}{message}")
    return "; ".join(parts)
